package main

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

var migrationsResource = schema.GroupVersionResource{
	Group: "pgmigrate.io", Version: "v1alpha1", Resource: "pgmigrations",
}

// The annotation whose new value starts a Failed migration over (PgMigration.RESTART_ANNOTATION).
const restartAnnotation = "pgmigrate.io/restart"

// Labels and annotations the operator puts on the Pods it runs (DumpPods).
const (
	migrationUIDLabel  = "pgmigrate.io/migration-uid"
	databaseAnnotation = "pgmigrate.io/database"
	podKindLabel       = "pgmigrate.io/kind"
	podContainer       = "dump"
)

// Phases of a migration (api/Phase.java) and the methods (api/Method.java).
const (
	phaseValidating = "Validating"
	phaseMigrating  = "Migrating"
	phaseSyncing    = "Syncing"
	phaseReady      = "Ready"
	phaseFailed     = "Failed"

	methodContinuous = "continuous"
	methodDump       = "dump"
)

// migration is the part of a PgMigration this plugin reads; fields the operator may leave out
// are pointers, so that "absent" and "zero" differ.
type migration struct {
	Metadata struct {
		Name              string            `json:"name"`
		Namespace         string            `json:"namespace"`
		UID               string            `json:"uid"`
		ResourceVersion   string            `json:"resourceVersion"`
		Generation        int64             `json:"generation"`
		Annotations       map[string]string `json:"annotations"`
		Labels            map[string]string `json:"labels"`
		DeletionTimestamp string            `json:"deletionTimestamp"`
		ManagedFields     []struct {
			Manager string `json:"manager"`
		} `json:"managedFields"`
	} `json:"metadata"`
	Spec struct {
		Method          string   `json:"method"`
		Databases       []string `json:"databases"`
		KeepReplicating *bool    `json:"keepReplicating"`
		ValidateOnly    *bool    `json:"validateOnly"`
	} `json:"spec"`
	Status *migrationStatus `json:"status"`
	// the status as the API server sent it, for -o json (fields this plugin does not know too)
	rawStatus map[string]any
}

// migrationStatus mirrors api/PgMigrationStatus.java.
type migrationStatus struct {
	Phase              string           `json:"phase"`
	Method             string           `json:"method"`
	ObservedGeneration *int64           `json:"observedGeneration"`
	RestartToken       string           `json:"restartToken"`
	Message            string           `json:"message"`
	Progress           string           `json:"progress"`
	Lag                string           `json:"lag"`
	StartedAt          string           `json:"startedAt"`
	CutoverStartedAt   string           `json:"cutoverStartedAt"`
	CompletedAt        string           `json:"completedAt"`
	Checks             []checkResult    `json:"checks"`
	Estimate           *estimate        `json:"estimate"`
	Databases          []databaseStatus `json:"databases"`
	Conditions         []condition      `json:"conditions"`
}

// checkResult mirrors api/CheckResult.java.
type checkResult struct {
	Name    string `json:"name"`
	Result  string `json:"result"`
	Message string `json:"message"`
	Remedy  string `json:"remedy"`
}

// estimate mirrors api/Estimate.java: what the checks measured of the migration's cost.
type estimate struct {
	Total                   string             `json:"total"`
	TotalBytes              *int64             `json:"totalBytes"`
	Databases               []databaseEstimate `json:"databases"`
	TargetFreeDisk          string             `json:"targetFreeDisk"`
	TargetFreeDiskBytes     *int64             `json:"targetFreeDiskBytes"`
	SourceWal               string             `json:"sourceWal"`
	SourceWalBytesPerMinute *int64             `json:"sourceWalBytesPerMinute"`
	CopyDuration            string             `json:"copyDuration"`
	CopySeconds             *int64             `json:"copySeconds"`
	CopyBasis               string             `json:"copyBasis"`
}

type databaseEstimate struct {
	Name          string      `json:"name"`
	Size          string      `json:"size"`
	SizeBytes     *int64      `json:"sizeBytes"`
	Tables        *int64      `json:"tables"`
	LargestTables []tableSize `json:"largestTables"`
	Message       string      `json:"message"`
}

type tableSize struct {
	Name      string `json:"name"`
	Size      string `json:"size"`
	SizeBytes *int64 `json:"sizeBytes"`
}

// databaseStatus mirrors api/DatabaseStatus.java; LagSeconds, RowsCopied and BytesCopied are
// printed when an operator writes them and left out when it does not.
type databaseStatus struct {
	Name              string   `json:"name"`
	Phase             string   `json:"phase"`
	TablesTotal       *int64   `json:"tablesTotal"`
	TablesSynced      *int64   `json:"tablesSynced"`
	LagBytes          *int64   `json:"lagBytes"`
	LagSeconds        *float64 `json:"lagSeconds"`
	RowsCopied        *int64   `json:"rowsCopied"`
	BytesCopied       *int64   `json:"bytesCopied"`
	Pod               string   `json:"pod"`
	CutoverLsn        string   `json:"cutoverLsn"`
	CutoverStep       string   `json:"cutoverStep"`
	ReplicationErrors *int64   `json:"replicationErrors"`
	Message           string   `json:"message"`
}

type condition struct {
	Type               string `json:"type"`
	Status             string `json:"status"`
	Reason             string `json:"reason"`
	Message            string `json:"message"`
	ObservedGeneration *int64 `json:"observedGeneration"`
	LastTransitionTime string `json:"lastTransitionTime"`
}

func (m *migration) phase() string {
	if m.Status == nil {
		return ""
	}
	return m.Status.Phase
}

// method is the method in use: status.method (dump when continuous fell back), else the spec's,
// whose default is continuous.
func (m *migration) method() string {
	if m.Status != nil && m.Status.Method != "" {
		return m.Status.Method
	}
	if m.Spec.Method != "" {
		return m.Spec.Method
	}
	return methodContinuous
}

func (m *migration) keepReplicating() bool {
	return m.Spec.KeepReplicating == nil || *m.Spec.KeepReplicating
}

func (m *migration) validateOnly() bool {
	return m.Spec.ValidateOnly != nil && *m.Spec.ValidateOnly
}

// cutoverBegun: a database got its cutover position; from then on the cutover goes on even if
// keepReplicating flips back (Decider.cutoverBegun).
func (m *migration) cutoverBegun() bool {
	if m.Status == nil {
		return false
	}
	for _, d := range m.Status.Databases {
		if d.CutoverLsn != "" {
			return true
		}
	}
	return false
}

// statusIsCurrent: the status describes the spec's generation (the operator has seen the last
// change).
func (m *migration) statusIsCurrent() bool {
	return m.Status != nil && m.Status.ObservedGeneration != nil &&
		*m.Status.ObservedGeneration == m.Metadata.Generation
}

func (m *migration) condition(kind string) *condition {
	if m.Status == nil {
		return nil
	}
	for i := range m.Status.Conditions {
		if m.Status.Conditions[i].Type == kind {
			return &m.Status.Conditions[i]
		}
	}
	return nil
}

func decode(u *unstructured.Unstructured) (*migration, error) {
	data, err := json.Marshal(u.Object)
	if err != nil {
		return nil, err
	}
	m := &migration{}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("reading pgmigration %s: %w", u.GetName(), err)
	}
	if s, ok := u.Object["status"].(map[string]any); ok {
		m.rawStatus = s
	}
	return m, nil
}

func (c *clients) get(ctx context.Context, name string) (*migration, error) {
	u, err := c.migrations.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, &notFound{msg: fmt.Sprintf("pgmigration %q not found in namespace %q", name,
			c.namespace), cause: err}
	}
	if err != nil {
		return nil, fmt.Errorf("reading pgmigration %q in namespace %q: %w", name, c.namespace, err)
	}
	return decode(u)
}

// patch sends a JSON merge patch (as `kubectl patch --type merge` does) that carries the
// resourceVersion the decision was made on: if the migration changed since (its phase with it),
// the API server answers Conflict instead of applying a change meant for another state.
func (c *clients) patch(ctx context.Context, m *migration, body map[string]any) error {
	meta, _ := body["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		body["metadata"] = meta
	}
	meta["resourceVersion"] = m.Metadata.ResourceVersion
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	_, err = c.migrations.Patch(ctx, m.Metadata.Name, types.MergePatchType, data,
		metav1.PatchOptions{FieldManager: "kubectl-pgmigrate"})
	return err
}

// patchChecked reads the migration, lets decide refuse or build a merge patch for the state it
// saw, and applies it; when the migration changed in between (Conflict), it reads and decides
// again. decide returns a nil patch when there is nothing to change.
func (c *clients) patchChecked(ctx context.Context, name string,
	decide func(*migration) (map[string]any, error)) (*migration, bool, error) {
	for attempt := 0; ; attempt++ {
		m, err := c.get(ctx, name)
		if err != nil {
			return nil, false, err
		}
		body, err := decide(m)
		if err != nil || body == nil {
			return m, false, err
		}
		err = c.patch(ctx, m, body)
		if apierrors.IsConflict(err) && attempt < 10 {
			continue
		}
		if err != nil {
			return m, false, fmt.Errorf("patching pgmigration %q: %w", name, err)
		}
		return m, true, nil
	}
}

// notFound says which migration is missing where; it unwraps to the API server's error.
type notFound struct {
	msg   string
	cause error
}

func (e *notFound) Error() string { return e.msg }
func (e *notFound) Unwrap() error { return e.cause }

// isTransient: an error a later attempt may not get (the API server restarting, a timeout), as
// opposed to a missing migration or missing permissions.
func isTransient(err error) bool {
	return !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err) &&
		!apierrors.IsUnauthorized(err) && !apierrors.IsBadRequest(err)
}
