// Command prom-check checks the chart's Prometheus rules and Grafana dashboard with Prometheus's
// own code (github.com/prometheus/prometheus):
//
//	prom-check rules FILE...                 rule groups, as Prometheus loads them (rulefmt), from
//	                                         rule files or PrometheusRule manifests (several YAML
//	                                         documents may be in one file, as helm template prints
//	                                         them); every expression parsed by the PromQL parser
//	prom-check dashboard FILE...             a Grafana dashboard's JSON: every query of every
//	                                         panel and template variable, Grafana's variables
//	                                         replaced by sample values, parsed by the PromQL parser
//	prom-check test -rules FILE TESTFILE...  alert unit tests: series loaded into a TSDB, the alert
//	                                         rules evaluated by Prometheus's rule code with its
//	                                         PromQL engine, step by step, and the alerts firing at
//	                                         given times compared with the expected ones
//
// Each prints one JSON document on success (what was found: the metric names every expression
// reads, the alerts the tests saw fire or stay quiet) and exits 1 with the problems otherwise.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/tsdb"
	"go.yaml.in/yaml/v3"
)

var (
	quiet   = slog.New(slog.NewTextHandler(io.Discard, nil))
	promql3 = parser.NewParser(parser.Options{})
)

func main() {
	if len(os.Args) < 2 {
		fatal(errors.New("usage: prom-check rules|dashboard|test ..."))
	}
	var (
		result any
		err    error
	)
	switch os.Args[1] {
	case "rules":
		result, err = checkRules(os.Args[2:])
	case "dashboard":
		result, err = checkDashboards(os.Args[2:])
	case "test":
		flags := flag.NewFlagSet("test", flag.ExitOnError)
		rulesFile := flags.String("rules", "", "rule file or PrometheusRule manifest")
		_ = flags.Parse(os.Args[2:])
		result, err = runTests(*rulesFile, flags.Args())
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fatal(err)
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	if err := out.Encode(result); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "prom-check:", err)
	os.Exit(1)
}

// ---- rules ---------------------------------------------------------------------------------

// RuleInfo is one rule as found.
type RuleInfo struct {
	Group       string            `json:"group"`
	Alert       string            `json:"alert,omitempty"`
	Record      string            `json:"record,omitempty"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Metrics     []string          `json:"metrics"`
}

// RulesResult is what `rules` prints.
type RulesResult struct {
	Groups  int        `json:"groups"`
	Rules   []RuleInfo `json:"rules"`
	Metrics []string   `json:"metrics"`
}

// loadGroups reads every rule group of the files: a document with top-level groups is a rule
// file, a PrometheusRule's spec holds the same; each is parsed and validated by rulefmt, strictly
// (an unknown field is an error, as Prometheus itself refuses it).
func loadGroups(files []string) ([]rulefmt.RuleGroup, error) {
	var groups []rulefmt.RuleGroup
	var problems []string
	for _, file := range files {
		content, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		decoder := yaml.NewDecoder(bytes.NewReader(content))
		for doc := 0; ; doc++ {
			var node map[string]any
			if err := decoder.Decode(&node); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			var ruleFile any
			switch {
			case node == nil:
				continue
			case node["kind"] == "PrometheusRule":
				ruleFile = node["spec"]
			case node["groups"] != nil:
				ruleFile = node
			default:
				continue
			}
			text, err := yaml.Marshal(ruleFile)
			if err != nil {
				return nil, err
			}
			parsed, errs := rulefmt.Parse(text, false, model.LegacyValidation, promql3, quiet)
			for _, e := range errs {
				problems = append(problems, fmt.Sprintf("%s (document %d): %v", file, doc+1, e))
			}
			if parsed != nil {
				groups = append(groups, parsed.Groups...)
			}
		}
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("no rule group in %v", files)
	}
	return groups, nil
}

func checkRules(files []string) (*RulesResult, error) {
	groups, err := loadGroups(files)
	if err != nil {
		return nil, err
	}
	result := &RulesResult{Groups: len(groups)}
	all := map[string]bool{}
	for _, g := range groups {
		for _, r := range g.Rules {
			expr, err := promql3.ParseExpr(r.Expr)
			if err != nil {
				return nil, fmt.Errorf("group %s, rule %s%s: %w", g.Name, r.Alert, r.Record, err)
			}
			info := RuleInfo{Group: g.Name, Alert: r.Alert, Record: r.Record, Expr: r.Expr,
				Labels: r.Labels, Annotations: r.Annotations, Metrics: metricNames(expr, all)}
			if r.For != 0 {
				info.For = r.For.String()
			}
			result.Rules = append(result.Rules, info)
		}
	}
	result.Metrics = sortedKeys(all)
	return result, nil
}

// metricNames lists the metric names an expression selects (sorted), and adds them to all.
func metricNames(expr parser.Expr, all map[string]bool) []string {
	names := map[string]bool{}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		if vs, ok := node.(*parser.VectorSelector); ok {
			name := vs.Name
			for _, m := range vs.LabelMatchers {
				if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
					name = m.Value
				}
			}
			if name != "" {
				names[name] = true
			}
		}
		return nil
	})
	for n := range names {
		all[n] = true
	}
	return sortedKeys(names)
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ---- dashboards ----------------------------------------------------------------------------

// QueryInfo is one query of a dashboard.
type QueryInfo struct {
	Where   string   `json:"where"`
	Expr    string   `json:"expr"`
	Parsed  string   `json:"parsed"`
	Metrics []string `json:"metrics"`
}

// DashboardResult is what `dashboard` prints.
type DashboardResult struct {
	Title     string      `json:"title"`
	UID       string      `json:"uid"`
	Panels    int         `json:"panels"`
	Variables []string    `json:"variables"`
	Queries   []QueryInfo `json:"queries"`
	Metrics   []string    `json:"metrics"`
}

type dashboard struct {
	Title      string  `json:"title"`
	UID        string  `json:"uid"`
	Schema     int     `json:"schemaVersion"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int             `json:"id"`
	Title      string          `json:"title"`
	Type       string          `json:"type"`
	Datasource json.RawMessage `json:"datasource"`
	Targets    []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

type variable struct {
	Name    string          `json:"name"`
	Type    string          `json:"type"`
	Query   json.RawMessage `json:"query"`
	Options []struct {
		Value any `json:"value"`
	} `json:"options"`
}

// Grafana's own variables, with a value of the kind each stands for.
var builtins = map[string]string{
	"__rate_interval": "5m", "__interval": "1m", "__range": "1h", "__interval_ms": "60000",
	"__range_s": "3600", "__range_ms": "3600000", "__from": "0", "__to": "3600000",
}

var (
	variableRef = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[A-Za-z]+)?\}|\[\[([A-Za-z0-9_]+)\]\]|\$([A-Za-z0-9_]+)`)
	labelValues = regexp.MustCompile(`^\s*label_values\(\s*(.*?)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$`)
	queryResult = regexp.MustCompile(`^\s*query_result\(\s*(.*)\s*\)\s*$`)
)

func checkDashboards(files []string) ([]DashboardResult, error) {
	var results []DashboardResult
	for _, file := range files {
		r, err := checkDashboard(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		results = append(results, *r)
	}
	return results, nil
}

func checkDashboard(file string) (*DashboardResult, error) {
	content, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var d dashboard
	decoder := json.NewDecoder(bytes.NewReader(content))
	if err := decoder.Decode(&d); err != nil {
		return nil, err
	}
	var problems []string
	if d.Title == "" || d.UID == "" || d.Schema == 0 {
		problems = append(problems, "title, uid and schemaVersion are required")
	}
	values := map[string]string{}
	for k, v := range builtins {
		values[k] = v
	}
	result := &DashboardResult{Title: d.Title, UID: d.UID}
	datasourceVariable := ""
	for _, v := range d.Templating.List {
		result.Variables = append(result.Variables, v.Name)
		switch v.Type {
		case "interval", "custom", "constant":
			values[v.Name] = "5m"
			if len(v.Options) > 0 {
				values[v.Name] = fmt.Sprint(v.Options[0].Value)
			}
		case "datasource":
			datasourceVariable = v.Name
			values[v.Name] = "prometheus"
		default:
			// a label value, used in matchers: any text will do
			values[v.Name] = "sample-" + v.Name
		}
	}
	if datasourceVariable == "" {
		problems = append(problems, "no template variable of type datasource: the panels must not name one Grafana's data source")
	}
	all := map[string]bool{}
	parse := func(where, expr string) {
		text, unknown := substitute(expr, values)
		if len(unknown) > 0 {
			problems = append(problems, fmt.Sprintf("%s: unknown variable(s) %v in %q", where, unknown, expr))
			return
		}
		parsed, err := promql3.ParseExpr(text)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %q: %v", where, text, err))
			return
		}
		result.Queries = append(result.Queries, QueryInfo{Where: where, Expr: expr,
			Parsed: parsed.String(), Metrics: metricNames(parsed, all)})
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		query := queryText(v.Query)
		where := "variable " + v.Name
		if m := labelValues.FindStringSubmatch(query); m != nil {
			parse(where, m[1])
		} else if m := queryResult.FindStringSubmatch(query); m != nil {
			parse(where, m[1])
		} else {
			problems = append(problems, fmt.Sprintf("%s: query %q is neither label_values(selector, label) nor query_result(expr)", where, query))
		}
	}
	ids := map[int]string{}
	var walk func(panels []panel)
	walk = func(panels []panel) {
		for _, p := range panels {
			result.Panels++
			where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
			if other, seen := ids[p.ID]; seen || p.ID == 0 {
				problems = append(problems, fmt.Sprintf("%s: id missing or also used by %q", where, other))
			}
			ids[p.ID] = p.Title
			if p.Type != "row" && !strings.Contains(string(p.Datasource), "${"+datasourceVariable+"}") {
				problems = append(problems, fmt.Sprintf("%s: datasource %s is not ${%s}", where, p.Datasource, datasourceVariable))
			}
			if p.Type != "row" && p.Type != "text" && len(p.Targets) == 0 {
				problems = append(problems, where+": no query")
			}
			for _, t := range p.Targets {
				parse(fmt.Sprintf("%s target %s", where, t.RefID), t.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	result.Metrics = sortedKeys(all)
	return result, nil
}

// queryText is a variable's query: a string, or an object with the string in "query".
func queryText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	_ = json.Unmarshal(raw, &o)
	return o.Query
}

// substitute replaces $name, ${name}, ${name:format} and [[name]] by sample values; it returns
// the names it does not know.
func substitute(expr string, values map[string]string) (string, []string) {
	var unknown []string
	text := variableRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := variableRef.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3]
		v, ok := values[name]
		if !ok {
			unknown = append(unknown, name)
			return ref
		}
		return v
	})
	return text, unknown
}

// ---- alert unit tests ----------------------------------------------------------------------

// The tests' file, in the shape of promtool's unit test files (rule_files aside: the rules come
// from -rules).
type testFile struct {
	EvaluationInterval model.Duration `yaml:"evaluation_interval"`
	Tests              []testGroup    `yaml:"tests"`
}

type testGroup struct {
	Name        string `yaml:"name"`
	Interval    model.Duration
	InputSeries []struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	} `yaml:"input_series"`
	AlertRuleTests []alertRuleTest `yaml:"alert_rule_test"`
}

type alertRuleTest struct {
	EvalTime  model.Duration `yaml:"eval_time"`
	Alertname string         `yaml:"alertname"`
	ExpAlerts []expAlert     `yaml:"exp_alerts"`
}

// expAlert is an alert expected to fire: its labels (alertname aside) and, when given, all of
// its annotations, as the rule's templates expand them.
type expAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// TestResult is what `test` prints: per alert, how many checks expected it firing and how many
// expected it quiet, all of which passed.
type TestResult struct {
	Tests  int            `json:"tests"`
	Firing map[string]int `json:"firing"`
	Quiet  map[string]int `json:"quiet"`
}

func runTests(rulesFile string, files []string) (*TestResult, error) {
	if rulesFile == "" || len(files) == 0 {
		return nil, errors.New("usage: prom-check test -rules FILE TESTFILE...")
	}
	groups, err := loadGroups([]string{rulesFile})
	if err != nil {
		return nil, err
	}
	result := &TestResult{Firing: map[string]int{}, Quiet: map[string]int{}}
	var failures []string
	for _, file := range files {
		content, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var tf testFile
		decoder := yaml.NewDecoder(bytes.NewReader(content))
		decoder.KnownFields(true)
		if err := decoder.Decode(&tf); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if tf.EvaluationInterval == 0 {
			tf.EvaluationInterval = model.Duration(time.Minute)
		}
		for i, tg := range tf.Tests {
			result.Tests++
			name := fmt.Sprintf("%s: test %d %q", file, i+1, tg.Name)
			fails, err := runTest(groups, time.Duration(tf.EvaluationInterval), tg, result)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			for _, f := range fails {
				failures = append(failures, name+": "+f)
			}
		}
	}
	if len(failures) > 0 {
		return nil, errors.New(strings.Join(failures, "\n"))
	}
	return result, nil
}

func runTest(groups []rulefmt.RuleGroup, every time.Duration, tg testGroup, result *TestResult) ([]string, error) {
	dir, err := os.MkdirTemp("", "prom-check")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	db, err := tsdb.Open(dir, quiet, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		return nil, err
	}
	defer db.Close()

	interval := time.Duration(tg.Interval)
	if interval == 0 {
		interval = time.Minute
	}
	app := db.Appender(context.Background())
	for _, s := range tg.InputSeries {
		lset, points, err := promql3.ParseSeriesDesc(s.Series + " " + s.Values)
		if err != nil {
			return nil, fmt.Errorf("series %s %s: %w", s.Series, s.Values, err)
		}
		for i, p := range points {
			if p.Omitted {
				continue
			}
			// a stale marker comes as Prometheus's own stale NaN
			if _, err := app.Append(0, lset, int64(time.Duration(i)*interval/time.Millisecond), p.Value); err != nil {
				return nil, err
			}
		}
	}
	if err := app.Commit(); err != nil {
		return nil, err
	}

	engine := promql.NewEngine(promql.EngineOpts{
		Logger: quiet, MaxSamples: 10_000_000, Timeout: time.Minute,
		LookbackDelta: 5 * time.Minute, Parser: promql3,
	})
	query := rules.EngineQueryFunc(engine, db)
	var alerting []*rules.AlertingRule
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			expr, err := promql3.ParseExpr(r.Expr)
			if err != nil {
				return nil, err
			}
			alerting = append(alerting, rules.NewAlertingRule(r.Alert, expr, time.Duration(r.For),
				time.Duration(r.KeepFiringFor), labels.FromMap(r.Labels), labels.FromMap(r.Annotations),
				labels.EmptyLabels(), "", true, quiet))
		}
	}
	known := map[string]bool{}
	for _, r := range alerting {
		known[r.Name()] = true
	}

	checks := map[time.Duration][]int{}
	var last time.Duration
	for i, at := range tg.AlertRuleTests {
		t := time.Duration(at.EvalTime)
		if t%every != 0 {
			return nil, fmt.Errorf("eval_time %s is not a multiple of evaluation_interval %s", t, every)
		}
		if !known[at.Alertname] {
			return nil, fmt.Errorf("no alert rule %q", at.Alertname)
		}
		checks[t] = append(checks[t], i)
		last = max(last, t)
	}
	var failures []string
	start := time.Unix(0, 0).UTC()
	// every rule evaluated at every step, as a rule group would be: pending alerts fire once
	// their for: has passed
	for t := time.Duration(0); t <= last; t += every {
		for _, r := range alerting {
			if _, err := r.Eval(context.Background(), 0, start.Add(t), query, nil, 0); err != nil {
				return nil, fmt.Errorf("evaluating %s at %s: %w", r.Name(), t, err)
			}
		}
		for _, i := range checks[t] {
			at := tg.AlertRuleTests[i]
			var got []string
			for _, r := range alerting {
				if r.Name() != at.Alertname {
					continue
				}
				for _, a := range r.ActiveAlerts() {
					if a.State == rules.StateFiring {
						got = append(got, describe(a.Labels.Map(), a.Annotations.Map(), true))
					}
				}
			}
			var want []string
			for _, e := range at.ExpAlerts {
				l := map[string]string{"alertname": at.Alertname}
				for k, v := range e.ExpLabels {
					l[k] = v
				}
				want = append(want, describe(l, e.ExpAnnotations, anyAnnotations(at.ExpAlerts)))
			}
			if !anyAnnotations(at.ExpAlerts) {
				// compare labels only where no annotations are expected
				got = labelsOnly(got)
			}
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				failures = append(failures, fmt.Sprintf("%s at %s:\n  want %v\n  got  %v",
					at.Alertname, model.Duration(t), want, got))
			} else if len(want) > 0 {
				result.Firing[at.Alertname]++
			} else {
				result.Quiet[at.Alertname]++
			}
		}
	}
	return failures, nil
}

// anyAnnotations is true when an expected alert gives annotations; otherwise only labels are
// compared.
func anyAnnotations(exp []expAlert) bool {
	for _, x := range exp {
		if x.ExpAnnotations != nil {
			return true
		}
	}
	return false
}

const annotationsMark = " annotations "

func describe(lbls, annotations map[string]string, withAnnotations bool) string {
	text := fmt.Sprint(lbls)
	if withAnnotations {
		text += annotationsMark + fmt.Sprint(annotations)
	}
	return text
}

func labelsOnly(described []string) []string {
	out := make([]string, len(described))
	for i, d := range described {
		out[i], _, _ = strings.Cut(d, annotationsMark)
	}
	return out
}
