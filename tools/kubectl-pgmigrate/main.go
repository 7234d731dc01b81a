// kubectl-pgmigrate is a kubectl plugin for PgMigrations (pgmigrate.io/v1alpha1): what a
// migration is doing, its pre-flight checks, the cutover, a restart after a failure, and the
// logs of its Pods. On PATH as kubectl-pgmigrate it runs as `kubectl pgmigrate`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// Exit codes: 0 done, 1 an error (usage, API, not found, a wait that failed or timed out),
// 2 refused: the migration is not in a state where the command makes sense (nothing changed).
const (
	exitError   = 1
	exitRefused = 2
)

// refusal is an error that changed nothing because the migration's state does not allow the
// command; it exits with exitRefused.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

func refuse(format string, args ...any) error {
	return &refusal{msg: fmt.Sprintf(format, args...)}
}

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand(streams).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(streams.ErrOut, "error:", err)
		var r *refusal
		if errors.As(err, &r) {
			os.Exit(exitRefused)
		}
		os.Exit(exitError)
	}
}

// options are what every subcommand shares: kubectl's connection flags (--kubeconfig,
// --context, -n/--namespace, --as, ...) and the output streams.
type options struct {
	flags   *genericclioptions.ConfigFlags
	streams genericiooptions.IOStreams
}

// clients are the API clients of one invocation, for the namespace the flags or the
// kubeconfig's context name.
type clients struct {
	namespace  string
	migrations dynamic.ResourceInterface
	core       corev1client.CoreV1Interface
}

// read checks the output format (empty or json) and reads the named PgMigration.
func (o *options) read(cmd *cobra.Command, name, output string) (*migration, error) {
	if output != "" && output != "json" {
		return nil, fmt.Errorf("unknown output format %q: only json", output)
	}
	c, err := o.connect()
	if err != nil {
		return nil, err
	}
	return c.get(cmd.Context(), name)
}

func (o *options) connect() (*clients, error) {
	config, err := o.flags.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	namespace, _, err := o.flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(config)
	if err != nil {
		return nil, err
	}
	core, err := corev1client.NewForConfig(config)
	if err != nil {
		return nil, err
	}
	return &clients{
		namespace:  namespace,
		migrations: dyn.Resource(migrationsResource).Namespace(namespace),
		core:       core,
	}, nil
}

func newRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &options{flags: genericclioptions.NewConfigFlags(true), streams: streams}
	root := &cobra.Command{
		Use:   "kubectl-pgmigrate",
		Short: "Inspect and operate PgMigrations (pgmigrate.io)",
		Long: `Inspect and operate PgMigrations (pgmigrate.io/v1alpha1).

Installed on PATH as kubectl-pgmigrate, it runs as "kubectl pgmigrate". It uses kubectl's
configuration: KUBECONFIG or --kubeconfig, --context, and -n/--namespace (default: the
context's namespace).

Exit codes: 0 done; 1 an error (bad usage, the API server, a migration not found, a --wait
that ended in Failed or timed out); 2 refused: the migration's phase does not allow the
command, and nothing was changed.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl pgmigrate"},
	}
	o.flags.AddFlags(root.PersistentFlags())
	root.AddCommand(newStatusCommand(o), newChecksCommand(o), newCutoverCommand(o),
		newRestartCommand(o), newLogsCommand(o))
	return root
}
