package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func newLogsCommand(o *options) *cobra.Command {
	var database string
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "The logs of the Pods the operator ran for a migration",
		Long: `Prints the logs of the Pods the operator ran for a migration, read through the API server
(pods/log), oldest Pod first: per database a dump Pod (method dump), or for the continuous
method a schema Pod before the initial copy, an index Pod after it and a cutover Pod. A retry
is a new Pod; every attempt is shown. Each line starts with [its Pod's name] when there are
several Pods, and always with -f.

--database shows only that database's Pods. -f follows the logs, also of Pods started later,
until the migration is Ready or Failed and its Pods have ended (or Ctrl-C).`,
		Example: `  kubectl pgmigrate logs shop
  kubectl pgmigrate logs shop --database billing -f`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.connect()
			if err != nil {
				return err
			}
			l := &logPrinter{clients: c, name: args[0], database: database, out: o.streams.Out,
				errOut: o.streams.ErrOut}
			if follow {
				return l.follow(cmd.Context())
			}
			return l.dump(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&database, "database", "", "only the Pods of this database")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false,
		"follow the logs until the migration is Ready or Failed")
	return cmd
}

type logPrinter struct {
	*clients
	name, database string
	out, errOut    io.Writer
	mu             sync.Mutex // one line at a time from the streams of several Pods
}

// pods lists the migration's Pods (label pgmigrate.io/migration-uid, set by the operator on
// every Pod it runs), of one database when --database is given, oldest first.
func (l *logPrinter) pods(ctx context.Context, m *migration) ([]corev1.Pod, error) {
	list, err := l.core.Pods(l.namespace).List(ctx, metav1.ListOptions{
		LabelSelector: migrationUIDLabel + "=" + m.Metadata.UID,
	})
	if err != nil {
		return nil, fmt.Errorf("listing the Pods of pgmigration %q: %w", l.name, err)
	}
	var pods []corev1.Pod
	for _, p := range list.Items {
		if l.database == "" || p.Annotations[databaseAnnotation] == l.database {
			pods = append(pods, p)
		}
	}
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i].CreationTimestamp, pods[j].CreationTimestamp
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		return pods[i].Name < pods[j].Name
	})
	return pods, nil
}

// checkDatabase refuses a --database the migration does not migrate.
func (l *logPrinter) checkDatabase(m *migration) error {
	if l.database == "" {
		return nil
	}
	var known []string
	if m.Status != nil {
		for _, d := range m.Status.Databases {
			known = append(known, d.Name)
		}
	}
	if len(known) == 0 {
		known = m.Spec.Databases
	}
	if len(known) == 0 {
		return nil // not known yet: the checks decide which databases there are
	}
	for _, d := range known {
		if d == l.database {
			return nil
		}
	}
	return fmt.Errorf("pgmigration %q does not migrate database %q (it migrates %s)", l.name,
		l.database, strings.Join(known, ", "))
}

func (l *logPrinter) dump(ctx context.Context) error {
	m, err := l.get(ctx, l.name)
	if err != nil {
		return err
	}
	if err := l.checkDatabase(m); err != nil {
		return err
	}
	pods, err := l.pods(ctx, m)
	if err != nil {
		return err
	}
	if len(pods) == 0 {
		fmt.Fprintf(l.errOut, "No Pods of pgmigration/%s%s (phase %s).\n", l.name,
			l.forDatabase(), orNone(m.phase()))
		return nil
	}
	unread := 0
	for _, p := range pods {
		if !containerStarted(&p) {
			fmt.Fprintf(l.errOut, "%s: no log yet (%s)\n", p.Name, waitingReason(&p))
			continue
		}
		if err := l.stream(ctx, p.Name, false, len(pods) > 1); err != nil {
			fmt.Fprintf(l.errOut, "%s: %v\n", p.Name, err)
			unread++
		}
	}
	if unread > 0 {
		return fmt.Errorf("could not read the log of %d Pod(s)", unread)
	}
	return nil
}

func (l *logPrinter) follow(ctx context.Context) error {
	var wg sync.WaitGroup
	var active sync.Map // pod name -> true while its stream runs
	started := map[string]bool{}
	streams := 0
	first := true
	defer wg.Wait()
	for {
		m, err := l.get(ctx, l.name)
		gone := false
		var nf *notFound
		switch {
		case errors.As(err, &nf):
			gone = true // deleted while we followed: print what is left, then stop
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			if !isTransient(err) {
				return err
			}
		}
		if m != nil {
			if first {
				if err := l.checkDatabase(m); err != nil {
					return err
				}
				first = false
			}
			pods, err := l.pods(ctx, m)
			if err != nil && ctx.Err() == nil && !isTransient(err) {
				return err
			}
			for i := range pods {
				p := pods[i]
				if started[p.Name] || !containerStarted(&p) {
					continue
				}
				started[p.Name] = true
				streams++
				active.Store(p.Name, true)
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer active.Delete(p.Name)
					if err := l.stream(ctx, p.Name, true, true); err != nil && ctx.Err() == nil {
						l.mu.Lock()
						fmt.Fprintf(l.errOut, "%s: %v\n", p.Name, err)
						l.mu.Unlock()
					}
				}()
			}
		}
		running := 0
		active.Range(func(any, any) bool { running++; return true })
		terminal := gone || (m != nil && (m.phase() == phaseReady || m.phase() == phaseFailed))
		if terminal && running == 0 {
			if streams == 0 {
				fmt.Fprintf(l.errOut, "No Pods of pgmigration/%s%s.\n", l.name, l.forDatabase())
			}
			return nil
		}
		if terminal {
			// no new Pod comes: the streams end with their Pods; look once more after them
			wg.Wait()
			continue
		}
		select {
		case <-ctx.Done():
			return nil // Ctrl-C
		case <-time.After(pollInterval):
		}
	}
}

// stream copies one Pod's log to out, each line after [pod] when prefix is set.
func (l *logPrinter) stream(ctx context.Context, pod string, follow, prefix bool) error {
	rc, err := l.core.Pods(l.namespace).GetLogs(pod, &corev1.PodLogOptions{
		Container: podContainer, Follow: follow,
	}).Stream(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	r := bufio.NewReader(rc)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			if !strings.HasSuffix(line, "\n") {
				line += "\n"
			}
			l.mu.Lock()
			if prefix {
				fmt.Fprintf(l.out, "[%s] %s", pod, line)
			} else {
				fmt.Fprint(l.out, line)
			}
			l.mu.Unlock()
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (l *logPrinter) forDatabase() string {
	if l.database == "" {
		return ""
	}
	return " for database " + l.database
}

// containerStarted: the container has run, so there is a log to read.
func containerStarted(p *corev1.Pod) bool {
	for _, s := range p.Status.ContainerStatuses {
		if s.State.Running != nil || s.State.Terminated != nil || s.LastTerminationState.Terminated != nil {
			return true
		}
	}
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed ||
		p.Status.Phase == corev1.PodRunning
}

func waitingReason(p *corev1.Pod) string {
	for _, s := range p.Status.ContainerStatuses {
		if s.State.Waiting != nil && s.State.Waiting.Reason != "" {
			return s.State.Waiting.Reason
		}
	}
	return string(p.Status.Phase)
}
