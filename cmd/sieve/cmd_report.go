package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/sieve-data/sieve/pipeline"
	"github.com/sieve-data/sieve/report"
)

func init() { extraCommands = append(extraCommands, reportCommand) }

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "rebuild the dataset card (README.md), report.html and audit/<lang>.md of a finished run, and count the audit verdicts",
		ArgsUsage: "RUN_DIR",
		Description: "Reads stats.json, manifest.json, the dataset files and the rejects of RUN_DIR; nothing is reprocessed.\n" +
			"Verdicts ticked in audit/<lang>.md are kept and counted. With -c, the coverage section (targets,\n" +
			"audit_samples, seed, bytes_per_token, license, pretty_name) comes from FILE instead of the run's manifest.\n" +
			"Token counts are the run's: a tokenizer in FILE must be the one the run counted with (report does not recount).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "take the coverage section from pipeline YAML `FILE`"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("give one run directory: sieve report RUN_DIR", 2)
			}
			dir := c.Args().First()
			var opt report.Options
			if path := c.String("config"); path != "" {
				text, err := os.ReadFile(path)
				if err != nil {
					return cli.Exit(err.Error(), 2)
				}
				cfg, err := pipeline.Load(path, text, pipeline.DefaultRegistry())
				if err != nil {
					return cli.Exit(err.Error(), 2)
				}
				opt.Coverage = &cfg.Coverage
			}
			res, err := report.BuildWith(c.Context, dir, opt)
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return cli.Exit(err.Error()+" (is "+dir+" a sieve run directory?)", 2)
				}
				return cli.Exit(err.Error(), 1)
			}
			for _, p := range res.Problems {
				fmt.Fprintln(c.App.ErrWriter, "warning:", p)
			}
			if !c.Bool("quiet") {
				printReport(c, dir, res)
			}
			return nil
		},
	}
}

// printReport prints the coverage and audit summary of a report.
func printReport(c *cli.Context, dir string, res *report.Result) {
	w := c.App.Writer
	cov := res.Coverage
	fmt.Fprintf(w, "%-12s %-28s %10s %12s %14s  %s\n", "label", "language", "docs", "words", "target", "status")
	for i := range cov.Langs {
		l := &cov.Langs[i]
		target := "-"
		if l.Targeted {
			target = fmt.Sprintf("%d docs", l.Target.MinDocs)
			if l.Target.MinWords > 0 {
				target = fmt.Sprintf("%d words", l.Target.MinWords)
			}
			if l.Target.MinTokens > 0 {
				target = fmt.Sprintf("%d tokens", l.Target.MinTokens)
			}
		}
		name := l.Name
		if len([]rune(name)) > 28 {
			name = string([]rune(name)[:27]) + "…"
		}
		fmt.Fprintf(w, "%-12s %-28s %10d %12d %14s  %s\n", l.Label, name, l.Docs, l.Words, target, l.Status)
	}
	if cov.Targeted > 0 {
		fmt.Fprintf(w, "%d of %d targeted languages meet their target\n", cov.Met, cov.Targeted)
	}
	var reviewed, drawn int
	for _, a := range res.Audit {
		reviewed += a.KeptReviewed + a.RejReviewed
		drawn += a.Kept + a.Rejected
		if a.KeptReviewed+a.RejReviewed > 0 {
			fmt.Fprintf(w, "audit %-12s kept %d/%d reviewed (ok %d, wrong language %d, poor quality %d); rejected %d/%d reviewed (rightly %d, wrongly %d)\n",
				a.Label, a.KeptReviewed, a.Kept, a.OK, a.WrongLanguage, a.PoorQuality, a.RejReviewed, a.Rejected, a.RightlyRejected, a.WronglyRejected)
		}
	}
	fmt.Fprintf(w, "audit: %d of %d samples reviewed\n", reviewed, drawn)
	fmt.Fprintf(w, "wrote %s/%s, %s/%s and %d audit files\n", dir, report.CardFile, dir, report.HTMLFile, len(res.Audit))
	printCarried(w, dir, res)
}

// buildReport writes the card, report.html and audit files of a run that has just
// finished, carrying over the verdicts of its earlier audit files, and prints the
// problems found in those as warnings.
func buildReport(c *cli.Context, dir string) (*report.Result, error) {
	res, err := report.BuildWith(c.Context, dir, report.Options{})
	if err != nil {
		return nil, cli.Exit(err.Error()+" (the dataset itself is complete; `sieve report "+dir+"` retries)", 1)
	}
	for _, p := range res.Problems {
		fmt.Fprintln(c.App.ErrWriter, "warning:", p)
	}
	return res, nil
}

// printCarried says where the verdicts of the earlier audit files went, when there were
// any.
func printCarried(w io.Writer, dir string, res *report.Result) {
	switch {
	case res.Carried+res.SetAside == 0:
	case res.SetAside == 0:
		fmt.Fprintf(w, "audit verdicts: %d carried over to the samples drawn again, none kept aside\n", res.Carried)
	default:
		fmt.Fprintf(w, "audit verdicts: %d carried over to the samples drawn again, %d kept aside in %s (not counted: sample no longer drawn, text changed, or not one box ticked)\n",
			res.Carried, res.SetAside, filepath.Join(dir, filepath.FromSlash(report.PreviousDir)))
	}
}
