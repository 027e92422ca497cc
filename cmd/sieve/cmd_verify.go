package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/sieve-data/sieve/pipeline"
)

func init() { extraCommands = append(extraCommands, verifyCommand) }

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "re-check a finished run against the files on disk: read = kept + rejected, row counts, every output's checksum",
		ArgsUsage: "RUN_DIR",
		Description: "Checks that stats.json adds up (read = kept + rejected, per stage and per language), that every\n" +
			"output file has the size and SHA-256 recorded in manifest.json and no unlisted or temporary file is\n" +
			"in data/, that the dataset files hold as many rows per language as stats.json counts kept and the\n" +
			"rejects file as many as it counts rejected, and for a task-mode run that every task's counts add up\n" +
			"and sum to the run's. Exits 1 on any mismatch, listing each one.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the result as one JSON object"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("give one run directory: sieve verify RUN_DIR", 2)
			}
			dir := filepath.Clean(c.Args().First())
			opt := pipeline.Options{}
			setTaskHooks(&opt)
			v, err := pipeline.Verify(c.Context, dir, opt)
			if err != nil {
				return cli.Exit(err.Error(), 2)
			}
			if c.Bool("json") {
				b, _ := json.MarshalIndent(map[string]any{
					"dir": v.Dir, "ok": v.OK(), "files": v.Files, "rows": v.Rows, "reject_rows": v.RejectRows,
					"tasks": v.Tasks, "problems": append([]string{}, v.Problems...),
				}, "", "  ")
				fmt.Fprintln(c.App.Writer, string(b))
			} else {
				for _, p := range v.Problems {
					fmt.Fprintf(c.App.Writer, "%s: %s\n", dir, p)
				}
			}
			if !v.OK() {
				return cli.Exit(fmt.Sprintf("verify %s: %d problem(s)", dir, len(v.Problems)), 1)
			}
			if !c.Bool("json") {
				fmt.Fprintf(c.App.Writer, "%s: ok: %d files match their checksums, %d dataset rows and %d rejects match stats.json", dir, v.Files, v.Rows, v.RejectRows)
				if v.Tasks > 0 {
					fmt.Fprintf(c.App.Writer, ", %d task markers", v.Tasks)
				}
				fmt.Fprintln(c.App.Writer)
			}
			return nil
		},
	}
}
