// Command sieve turns raw text corpora into clean, documented training datasets for
// underrepresented languages. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(runMain(ctx, os.Args, os.Stdout, os.Stderr))
}

// runMain runs the app and maps errors to exit codes: 0 ok, 1 run failed, 2 bad usage or
// config.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, hoistFlags(app, args))
	if err == nil {
		return 0
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(stderr, "sieve:", msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintln(stderr, "sieve:", err)
	return 1
}
