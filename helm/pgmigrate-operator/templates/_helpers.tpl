{{- define "pgmigrate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "pgmigrate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "pgmigrate.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "pgmigrate.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "pgmigrate.labels" -}}
app.kubernetes.io/name: {{ include "pgmigrate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "pgmigrate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pgmigrate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The rules the operator needs in a namespace it watches: exactly the calls it makes. */}}
{{- define "pgmigrate.watchRules" -}}
- apiGroups: ["pgmigrate.io"]
  resources: ["pgmigrations"]
  verbs: ["get", "list", "watch", "patch", "update"]
- apiGroups: ["pgmigrate.io"]
  resources: ["pgmigrations/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "create", "delete", "deletecollection"]
- apiGroups: [""]
  resources: ["secrets"]
  # create: cutover.switchSecret's rollback copy (<name>-pgmigrate-rollback)
  verbs: ["get", "patch", "create"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end -}}
