package main

import (
	"io"
	"sort"

	"github.com/urfave/cli/v2"

	_ "github.com/sieve-data/sieve/formats" // readers and writers register themselves
	_ "github.com/sieve-data/sieve/stages"  // stage kinds register themselves
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "0.1.0-dev"

// extraCommands and evalCommands let each cmd_*.go file add its commands from init, so adding
// a command touches one file.
var (
	extraCommands []func() *cli.Command
	evalCommands  []func() *cli.Command
)

// newApp builds the CLI writing to stdout and stderr, so tests can run commands in-process.
func newApp(stdout, stderr io.Writer) *cli.App {
	cmds := []*cli.Command{runCommand(), lintCommand(), stagesCommand(), configCommand(), versionCommand()}
	for _, f := range extraCommands {
		cmds = append(cmds, f())
	}
	var evals []*cli.Command
	for _, f := range evalCommands {
		evals = append(evals, f())
	}
	if len(evals) > 0 {
		sort.Slice(evals, func(i, j int) bool { return evals[i].Name < evals[j].Name })
		cmds = append(cmds, &cli.Command{
			Name:        "eval",
			Usage:       "measure a component on labelled data",
			Subcommands: evals,
		})
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	return &cli.App{
		Name:                 "sieve",
		Usage:                "curate clean, documented training datasets for underrepresented languages",
		Version:              Version,
		Writer:               stdout,
		ErrWriter:            stderr,
		Commands:             cmds,
		EnableBashCompletion: true,
		HideVersion:          false,
		ExitErrHandler:       func(*cli.Context, error) {}, // runMain prints errors and picks the exit code
	}
}
