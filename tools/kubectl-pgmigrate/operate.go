package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// pollInterval is how often --wait reads the migration.
const pollInterval = 2 * time.Second

func newCutoverCommand(o *options) *cobra.Command {
	var force, wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "cutover NAME",
		Short: "Cut a continuous migration over: set spec.keepReplicating to false",
		Long: `Cuts a continuous migration over: sets spec.keepReplicating: false with a merge patch, as
examples/cutover.yaml does in Git. Stop the application's writes to the source first: what is
written after the cutover's WAL position does not reach the target.

Per database the operator then records a WAL position on the source (cutoverLsn), waits until
the target has applied everything up to it, copies every sequence's value, drops the
subscription, slot and publication, and a cutover Pod copies unlogged tables and large
objects; then the migration is Ready.

Only a continuous migration in phase Syncing (every database caught up) is cut over; anything
else is refused (exit code 2) and nothing changes. --force asks for the cutover of a
continuous migration that is still Validating or Migrating: it then starts as soon as every
database has caught up. Never for a Failed migration: a spec change starts a Failed migration
over, so the flag would start a new migration (use restart once the cause is fixed).

If Git manages the PgMigration, commit keepReplicating: false too, or the next sync sets it
back (a database that has its cutoverLsn is cut over regardless).`,
		Example: `  kubectl pgmigrate cutover shop
  kubectl pgmigrate cutover shop --wait --timeout 30m`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.connect()
			if err != nil {
				return err
			}
			ctx, name, w := cmd.Context(), args[0], o.streams.Out
			var already string
			m, patched, err := c.patchChecked(ctx, name, func(m *migration) (map[string]any, error) {
				var err error
				already, err = cutoverDecision(m, force)
				if err != nil || already != "" {
					return nil, err
				}
				return map[string]any{"spec": map[string]any{"keepReplicating": false}}, nil
			})
			if err != nil {
				return err
			}
			ref := "pgmigration/" + name
			if patched {
				fmt.Fprintf(w, "%s: cutover asked for (spec.keepReplicating: false).\n", ref)
				if m.phase() != phaseSyncing {
					fmt.Fprintf(w, "It is %s: the cutover starts as soon as every database has"+
						" caught up.\n", phaseOf(m))
				}
				fmt.Fprint(w, `Next, per database, the operator
  records a WAL position on the source (status.databases[].cutoverLsn),
  waits until the target has applied every change up to it,
  copies every sequence's value, drops the subscription, slot and publication,
  and a cutover Pod copies unlogged tables and large objects.
Then the migration is Ready. Writes to the source after the cutover position do not reach
the target.
`)
				if manager := gitOpsManager(m); manager != "" {
					fmt.Fprintf(w, "Note: %s seems to manage this PgMigration: commit"+
						" keepReplicating: false as well, or its next sync sets it back.\n", manager)
				}
			} else {
				fmt.Fprintf(w, "%s: %s\n", ref, already)
			}
			fmt.Fprintf(w, "Watch it:\n  kubectl wait --for=condition=Ready %s -n %s"+
				" --timeout=30m\n  kubectl pgmigrate status %s -n %s\n", ref, c.namespace, name,
				c.namespace)
			if !wait {
				return nil
			}
			fmt.Fprintf(w, "Waiting up to %s for %s to be Ready...\n", timeout, ref)
			done, err := c.waitFor(ctx, name, timeout, w, func(m *migration) (bool, error) {
				switch m.phase() {
				case phaseReady:
					return true, nil
				case phaseFailed:
					return false, fmt.Errorf("%s failed during the cutover: %s", ref,
						oneLine(m.Status.Message))
				}
				return false, nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s is Ready, completed %s.\n", ref, when(done.Status.CompletedAt,
				time.Now()))
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false,
		"also ask while the migration is still Validating or Migrating: the cutover starts once"+
			" it has caught up")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the migration is Ready")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "how long --wait waits")
	return cmd
}

// cutoverDecision says whether keepReplicating: false may be set on m: an error (a refusal)
// when not, a non-empty text when the cutover was already asked for, else "" (set it).
func cutoverDecision(m *migration, force bool) (string, error) {
	ref := "pgmigration/" + m.Metadata.Name
	phase := m.phase()
	switch {
	case m.Metadata.DeletionTimestamp != "":
		return "", refuse("%s is being deleted", ref)
	// before the other refusals: what matters most here is that the patch would restart it
	case phase == phaseFailed:
		return "", refuse("%s is Failed, not Syncing: nothing is replicating. A spec change"+
			" starts a Failed migration over, so keepReplicating: false now would start a new"+
			" migration that cuts over as soon as it caught up; it is not set (not even with"+
			" --force). See kubectl pgmigrate status %s; once the cause is fixed, kubectl"+
			" pgmigrate restart %s", ref, m.Metadata.Name, m.Metadata.Name)
	case m.validateOnly():
		return "", refuse("%s is a dry run (spec.validateOnly: true): it copies nothing, so"+
			" there is nothing to cut over", ref)
	case m.method() == methodDump:
		return "", refuse("%s uses method dump, which has no cutover: the copy ends by itself"+
			" in phase Ready", ref)
	case phase == phaseReady:
		return "", refuse("%s is already Ready, completed %s: nothing left to cut over", ref,
			when(m.Status.CompletedAt, time.Now()))
	case phase == phaseSyncing && m.cutoverBegun():
		return "the cutover is under way (a database has its cutover position)", nil
	case !m.keepReplicating():
		return "the cutover was already asked for (spec.keepReplicating: false)", nil
	case phase == phaseSyncing:
		return "", nil
	case force:
		return "", nil
	default:
		return "", refuse("%s is %s, not Syncing: the cutover is for a continuous migration"+
			" whose databases have all caught up. Wait for Syncing (kubectl wait"+
			" --for=jsonpath='{.status.phase}'=Syncing %s), or use --force to ask now: the"+
			" cutover then starts as soon as every database has caught up", ref,
			phaseOf(m), ref)
	}
}

// gitOpsManager names the GitOps tool that seems to apply m, or "".
func gitOpsManager(m *migration) string {
	keys := make([]string, 0, len(m.Metadata.Labels)+len(m.Metadata.Annotations))
	for k := range m.Metadata.Labels {
		keys = append(keys, k)
	}
	for k := range m.Metadata.Annotations {
		keys = append(keys, k)
	}
	for _, f := range m.Metadata.ManagedFields {
		keys = append(keys, f.Manager)
	}
	for _, k := range keys {
		switch {
		case strings.Contains(k, "argocd"):
			return "Argo CD"
		case strings.Contains(k, "fluxcd.io") || k == "kustomize-controller" ||
			k == "helm-controller":
			return "Flux"
		}
	}
	return ""
}

func newRestartCommand(o *options) *cobra.Command {
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "restart NAME",
		Short: "Start a Failed migration over (a new pgmigrate.io/restart value)",
		Long: `Starts a Failed migration over: sets the annotation pgmigrate.io/restart to a new value (the
current time), which the operator acts on in phase Failed only: it runs the pre-flight checks
again (phase Validating) and, if they pass, migrates from the start; the target databases it
created are emptied first. Fix the cause first (kubectl pgmigrate status NAME), or it fails
the same way again.

A migration that is not Failed is refused (exit code 2) and left as it is: a new value set now
would start the migration over the moment it fails, without anyone asking.

--wait waits until the operator has taken the new value and prints where the migration is.`,
		Example: `  kubectl pgmigrate restart shop
  kubectl pgmigrate restart shop --wait`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.connect()
			if err != nil {
				return err
			}
			ctx, name, w := cmd.Context(), args[0], o.streams.Out
			ref := "pgmigration/" + name
			var token string
			m, _, err := c.patchChecked(ctx, name, func(m *migration) (map[string]any, error) {
				if m.Metadata.DeletionTimestamp != "" {
					return nil, refuse("%s is being deleted", ref)
				}
				if m.phase() != phaseFailed {
					return nil, refuse("%s is %s, not Failed: restart starts only a Failed"+
						" migration over. The operator acts on a new %s value in phase Failed"+
						" only; set now, it would start the migration over the moment it fails,"+
						" so it is not set", ref, phaseOf(m), restartAnnotation)
				}
				token = newRestartToken(m.Metadata.Annotations[restartAnnotation], time.Now())
				return map[string]any{"metadata": map[string]any{
					"annotations": map[string]any{restartAnnotation: token}}}, nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s: restart asked for (%s=%s).\n", ref, restartAnnotation, token)
			fmt.Fprintln(w, "The operator runs the pre-flight checks again (phase Validating)"+
				" and, if they pass, migrates from the start.")
			if m.Status != nil && m.Status.Message != "" {
				fmt.Fprintf(w, "It had failed with: %s\nIf that is not fixed, it fails again.\n",
					oneLine(m.Status.Message))
			}
			fmt.Fprintf(w, "Watch it:\n  kubectl pgmigrate status %s -n %s\n  kubectl get"+
				" pgmigration %s -n %s -w\n", name, c.namespace, name, c.namespace)
			if !wait {
				return nil
			}
			started, err := c.waitFor(ctx, name, timeout, io.Discard,
				func(m *migration) (bool, error) {
					return m.Status != nil && m.Status.RestartToken == token, nil
				})
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s started over: phase %s: %s\n", ref, orNone(started.phase()),
				oneLine(started.Status.Message))
			return nil
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false,
		"wait until the operator has started the migration over")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "how long --wait waits")
	return cmd
}

// newRestartToken is the annotation's new value: the time, made different from the old one.
func newRestartToken(old string, now time.Time) string {
	token := now.UTC().Format(time.RFC3339Nano)
	if token == old {
		token += "-again"
	}
	return token
}

// waitFor reads the migration every pollInterval until done says so or fails, printing each new
// phase and message to w; it gives up after timeout.
func (c *clients) waitFor(ctx context.Context, name string, timeout time.Duration, w io.Writer,
	done func(*migration) (bool, error)) (*migration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := ""
	for {
		m, err := c.get(ctx, name)
		if err == nil {
			if line := orNone(m.phase()) + ": " + messageOf(m); line != last {
				fmt.Fprintf(w, "  %s %s\n", time.Now().Format("15:04:05"), line)
				last = line
			}
			ok, err := done(m)
			if err != nil || ok {
				return m, err
			}
		} else if ctx.Err() == nil && !isTransient(err) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("timed out after %s waiting for pgmigration/%s (%s); it"+
					" goes on: kubectl pgmigrate status %s", timeout, name, last, name)
			}
			return nil, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

func messageOf(m *migration) string {
	if m.Status == nil {
		return ""
	}
	return oneLine(m.Status.Message)
}

// phaseOf names the phase for a sentence ("pgmigration/x is ..."), also before the first status.
func phaseOf(m *migration) string {
	if m.phase() == "" {
		return "new (no status yet)"
	}
	return m.phase()
}
