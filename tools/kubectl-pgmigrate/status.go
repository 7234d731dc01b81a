package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/duration"
)

func newStatusCommand(o *options) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Phase, per-database progress and lag, and the checks that did not pass",
		Long: `Prints what a PgMigration is doing: phase, method, message, when it started and finished,
its conditions, one line per database (phase, tables ready/total, replication lag, the Pod
working on it, its message; lag time, rows and bytes copied when the operator reports them),
what the checks estimated before the copy (the data's size, the copy's duration and its
basis, the target's free disk, the source's WAL rate, each database's largest tables), and
the pre-flight checks that did not pass, each with its remedy.

-o json prints the migration's name, namespace and generation and its status exactly as the
API server holds it.`,
		Example: `  kubectl pgmigrate status shop -n shop
  kubectl pgmigrate status shop -o json | jq '.status.databases'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := o.read(cmd, args[0], output)
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(o.streams.Out, struct {
					Name       string         `json:"name"`
					Namespace  string         `json:"namespace"`
					Generation int64          `json:"generation"`
					Status     map[string]any `json:"status"`
				}{m.Metadata.Name, m.Metadata.Namespace, m.Metadata.Generation, m.rawStatus})
			}
			return printStatus(o.streams.Out, m, time.Now())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "json: the status as the API server holds it")
	return cmd
}

func newChecksCommand(o *options) *cobra.Command {
	var all bool
	var output string
	cmd := &cobra.Command{
		Use:   "checks NAME",
		Short: "The pre-flight checks: those that warned or failed (--all: every one)",
		Long: `Prints the pre-flight checks of a PgMigration (status.checks): name, result, what was
found and, for a warning or a failure, what to do about it.

By default only the checks that did not pass (Warning, Failed) are listed, with a count of
the others; --all lists every check in the operator's order. The exit code is 0 whatever the
checks say: a failed check shows as phase Failed (kubectl pgmigrate status).`,
		Example: `  kubectl pgmigrate checks shop
  kubectl pgmigrate checks shop --all`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := o.read(cmd, args[0], output)
			if err != nil {
				return err
			}
			var checks []checkResult
			if m.Status != nil {
				checks = m.Status.Checks
			}
			shown := checks
			if !all {
				shown = notPassed(checks)
			}
			if output == "json" {
				if shown == nil {
					shown = []checkResult{}
				}
				return printJSON(o.streams.Out, shown)
			}
			w := o.streams.Out
			if len(checks) == 0 {
				fmt.Fprintf(w, "No checks yet (phase %s): the operator has not run them.\n",
					orNone(m.phase()))
				return nil
			}
			fmt.Fprintln(w, checkCounts(checks))
			if len(shown) == 0 {
				fmt.Fprintln(w, "Every check passed (--all lists them).")
				return nil
			}
			return printChecks(w, shown, "")
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "list every check, also those that passed")
	cmd.Flags().StringVarP(&output, "output", "o", "", "json: the listed checks as status holds them")
	return cmd
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printStatus(out io.Writer, m *migration, now time.Time) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	field := func(name, value string) {
		fmt.Fprintf(w, "%s:\t%s\n", name, value)
	}
	field("Name", m.Metadata.Name)
	field("Namespace", m.Metadata.Namespace)
	s := m.Status
	if s == nil {
		field("Phase", "(no status yet: the operator has not seen this migration)")
		return w.Flush()
	}
	field("Phase", orNone(s.Phase))
	field("Method", m.method())
	field("Message", oneLine(s.Message))
	if s.Progress != "" {
		field("Databases", s.Progress)
	}
	if s.Lag != "" {
		field("Lag", s.Lag)
	}
	if m.method() == methodContinuous && !m.validateOnly() {
		switch {
		case s.CutoverStartedAt != "":
			field("Cutover", "asked for "+when(s.CutoverStartedAt, now))
		case !m.keepReplicating():
			field("Cutover", "asked for (keepReplicating: false): it starts once every database"+
				" is caught up")
		default:
			field("Cutover", "not asked for (keepReplicating: true)")
		}
	}
	field("Started", when(s.StartedAt, now))
	field("Completed", when(s.CompletedAt, now))
	if token := m.Metadata.Annotations[restartAnnotation]; token != "" {
		field("Restart", restartAnnotation+"="+token)
	}
	if !m.statusIsCurrent() && s.ObservedGeneration != nil {
		field("Note", fmt.Sprintf("this status describes generation %d, the spec is at %d: the"+
			" operator has not acted on the last change yet", *s.ObservedGeneration,
			m.Metadata.Generation))
	}
	if err := w.Flush(); err != nil {
		return err
	}

	if len(s.Conditions) > 0 {
		fmt.Fprintln(out, "\nConditions:")
		w = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "  TYPE\tSTATUS\tREASON\tSINCE")
		for _, c := range s.Conditions {
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", c.Type, c.Status, orDash(c.Reason),
				age(c.LastTransitionTime, now))
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}

	if len(s.Databases) > 0 {
		fmt.Fprintln(out)
		if err := printDatabases(out, s.Databases, m.method() != methodDump); err != nil {
			return err
		}
	}

	if s.Estimate != nil {
		fmt.Fprintln(out)
		if err := printEstimate(out, s.Estimate); err != nil {
			return err
		}
	}

	fmt.Fprintln(out)
	if len(s.Checks) == 0 {
		fmt.Fprintln(out, "Checks: none yet")
		return nil
	}
	fmt.Fprintln(out, "Checks: "+checkCounts(s.Checks))
	if shown := notPassed(s.Checks); len(shown) > 0 {
		return printChecks(out, shown, "")
	}
	return nil
}

// printDatabases prints one line per database; the columns for lag time, rows and bytes
// copied appear only when some database has them, the lag only for the continuous method.
func printDatabases(out io.Writer, dbs []databaseStatus, continuous bool) error {
	lag := continuous
	var lagTime, rows, bytes bool
	for _, d := range dbs {
		lag = lag || d.LagBytes != nil
		lagTime = lagTime || d.LagSeconds != nil
		rows = rows || d.RowsCopied != nil
		bytes = bytes || d.BytesCopied != nil
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	header := []string{"DATABASE", "PHASE", "TABLES"}
	if lag {
		header = append(header, "LAG")
	}
	if lagTime {
		header = append(header, "LAG TIME")
	}
	if rows {
		header = append(header, "ROWS COPIED")
	}
	if bytes {
		header = append(header, "BYTES COPIED")
	}
	header = append(header, "POD", "MESSAGE")
	fmt.Fprintln(w, strings.Join(header, "\t"))
	for _, d := range dbs {
		cells := []string{d.Name, orDash(d.Phase), tables(d)}
		if lag {
			cell := "-"
			if d.LagBytes != nil {
				cell = humanBytes(*d.LagBytes)
			}
			cells = append(cells, cell)
		}
		if lagTime {
			cells = append(cells, seconds(d.LagSeconds))
		}
		if rows {
			cells = append(cells, intOrDash(d.RowsCopied))
		}
		if bytes {
			cell := "-"
			if d.BytesCopied != nil {
				cell = humanBytes(*d.BytesCopied)
			}
			cells = append(cells, cell)
		}
		message := oneLine(d.Message)
		if d.ReplicationErrors != nil && *d.ReplicationErrors > 0 {
			message = strings.TrimSpace(fmt.Sprintf("%s [replication errors: %d]", message,
				*d.ReplicationErrors))
		}
		cells = append(cells, orDash(d.Pod), orDash(message))
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	return w.Flush()
}

// printEstimate prints what the checks measured before the copy: the size of the data, the
// copy's estimated duration with its basis, the target's free disk and the source's WAL rate,
// then per database its size, tables and largest tables. Indented, like the conditions.
func printEstimate(out io.Writer, e *estimate) error {
	fmt.Fprintln(out, "Estimate (measured while validating):")
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(w, "  %s:\t%s\n", name, oneLine(value))
		}
	}
	if e.Total != "" {
		field("Data", fmt.Sprintf("%s in %d %s", e.Total, len(e.Databases),
			plural(len(e.Databases), "database", "databases")))
	}
	switch {
	case e.CopyDuration != "":
		field("Copy", e.CopyDuration+" ("+e.CopyBasis+")")
	default:
		field("Copy", e.CopyBasis)
	}
	field("Target free disk", e.TargetFreeDisk)
	field("Source WAL", e.SourceWal)
	if err := w.Flush(); err != nil {
		return err
	}
	if len(e.Databases) == 0 {
		return nil
	}
	fmt.Fprintln(out)
	w = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  DATABASE\tSIZE\tTABLES\tLARGEST TABLES")
	for _, d := range e.Databases {
		largest := make([]string, 0, len(d.LargestTables))
		for _, t := range d.LargestTables {
			largest = append(largest, fmt.Sprintf("%s (%s)", t.Name, t.Size))
		}
		last := strings.Join(largest, ", ")
		if d.Message != "" {
			last = oneLine(d.Message)
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", d.Name, orDash(d.Size), intOrDash(d.Tables),
			orDash(last))
	}
	return w.Flush()
}

// printChecks prints each check on a line (name, result, message), its remedy on the next.
func printChecks(out io.Writer, checks []checkResult, indent string) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "%sCHECK\tRESULT\tMESSAGE\n", indent)
	for _, c := range checks {
		fmt.Fprintf(w, "%s%s\t%s\t%s\n", indent, c.Name, c.Result, orDash(oneLine(c.Message)))
		if c.Remedy != "" {
			fmt.Fprintf(w, "%s\t\tremedy: %s\n", indent, oneLine(c.Remedy))
		}
	}
	return w.Flush()
}

func notPassed(checks []checkResult) []checkResult {
	var out []checkResult
	for _, c := range checks {
		if c.Result != "Passed" {
			out = append(out, c)
		}
	}
	return out
}

func checkCounts(checks []checkResult) string {
	counts := map[string]int{}
	for _, c := range checks {
		counts[c.Result]++
	}
	return fmt.Sprintf("%d passed, %d %s, %d failed", counts["Passed"], counts["Warning"],
		plural(counts["Warning"], "warning", "warnings"), counts["Failed"])
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func tables(d databaseStatus) string {
	switch {
	case d.TablesTotal == nil && d.TablesSynced == nil:
		return "-"
	case d.TablesTotal == nil:
		return fmt.Sprintf("%d/-", *d.TablesSynced)
	case d.TablesSynced == nil:
		return fmt.Sprintf("-/%d", *d.TablesTotal)
	default:
		return fmt.Sprintf("%d/%d", *d.TablesSynced, *d.TablesTotal)
	}
}

// humanBytes prints a byte count as pg_size_pretty does, as the operator prints status.lag
// (checks/Bytes.java): bytes below 10 kB, then the largest unit that keeps at least 10.
func humanBytes(n int64) string {
	units := []string{"bytes", "kB", "MB", "GB", "TB", "PB"}
	v := float64(n)
	u := 0
	for math.Abs(v) >= 10*1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	if u == 0 {
		return fmt.Sprintf("%d bytes", n)
	}
	// rounded half away from zero, as Java's %.0f (fmt alone rounds a half to even)
	return fmt.Sprintf("%.0f %s", math.Round(v), units[u])
}

func seconds(s *float64) string {
	if s == nil {
		return "-"
	}
	d := time.Duration(*s * float64(time.Second))
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

func intOrDash(n *int64) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}

// when prints an RFC 3339 time and how long ago it was; "-" when unset.
func when(rfc3339 string, now time.Time) string {
	if rfc3339 == "" {
		return "-"
	}
	t, err := time.Parse(time.RFC3339Nano, rfc3339)
	if err != nil {
		return rfc3339
	}
	return fmt.Sprintf("%s (%s ago)", rfc3339, duration.HumanDuration(now.Sub(t)))
}

func age(rfc3339 string, now time.Time) string {
	t, err := time.Parse(time.RFC3339Nano, rfc3339)
	if err != nil {
		return "-"
	}
	return duration.HumanDuration(now.Sub(t))
}

// oneLine keeps a message (a Pod's termination message may span lines) on one line of a table.
func oneLine(s string) string {
	var lines []string
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if line = strings.ReplaceAll(strings.TrimSpace(line), "\t", " "); line != "" {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, " / ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(none yet)"
	}
	return s
}
