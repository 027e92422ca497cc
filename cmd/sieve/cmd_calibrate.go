package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sieve-data/sieve/pipeline"
	"github.com/sieve-data/sieve/stages"
	"github.com/sieve-data/sieve/stages/quality"
)

func init() { extraCommands = append(extraCommands, calibrateCommand) }

// calibrateCommand is `sieve calibrate`: per-language thresholds for the quality stages,
// derived from a sample of the corpus, written as a thresholds file that the stages include.
func calibrateCommand() *cli.Command {
	def := quality.DefaultCalibrateOptions()
	return &cli.Command{
		Name:      "calibrate",
		Usage:     "derive per-language quality thresholds and stop words from a sample of the corpus",
		ArgsUsage: "[INPUT...]",
		Description: "Runs the pipeline's inputs through the stages before its first quality stage (langid, " +
			"dedup, ...), measures the first --sample documents of each language with every rule of the quality " +
			"stages (gopher_quality, gopher_repetition, c4_quality, fineweb_quality), and writes per-language " +
			"thresholds (at --quantile of each language's own values, documents that are outliers on several " +
			"rules left out) and stop words (the words found in the most documents) to -o. Prints, per language, " +
			"how many sampled documents each rule removes with the stages' thresholds and with the calibrated " +
			"ones. Include the file in each quality stage with `thresholds_file:`.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "pipeline YAML `FILE` with the quality stages"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "thresholds `FILE` to write (YAML)"},
			&cli.IntFlag{Name: "sample", Value: def.SampleDocs, Usage: "documents sampled per language (the first ones read; 0 = all)"},
			&cli.Int64Flag{Name: "max-read", Value: 100000, Usage: "stop reading the inputs after this many documents (0 = read everything)"},
			&cli.Float64Flag{Name: "quantile", Value: def.Quantile, Usage: "share of a language's documents a rule may remove"},
			&cli.StringFlag{Name: "mode", Value: def.Mode, Usage: "widen: never tighter than the stages' thresholds | fit: the quantiles as they are"},
			&cli.Float64Flag{Name: "fence", Value: def.Fence, Usage: "k of the Q1-k*IQR / Q3+k*IQR outlier fence (0 = use every document)"},
			&cli.IntFlag{Name: "outliers", Value: def.Outliers, Usage: "a document beyond the fence on this many thresholds is left out"},
			&cli.IntFlag{Name: "stop-words", Value: def.StopWords, Usage: "stop words derived per language (0 = keep the stages' lists)"},
			&cli.IntFlag{Name: "min-docs", Value: def.MinDocs, Usage: "languages with fewer sampled documents are not calibrated"},
			&cli.IntFlag{Name: "workers", Aliases: []string{"w"}, Value: 0, Usage: "workers (0 = the config's, or the number of CPUs)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"},
		},
		Action: runCalibrate,
	}
}

func runCalibrate(c *cli.Context) error {
	path := c.String("config")
	if path == "" || c.String("output") == "" {
		return cli.Exit("usage: sieve calibrate -c PIPELINE.yaml -o THRESHOLDS.yaml [INPUT...]", 2)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return cli.Exit(err.Error(), 2)
	}
	cfg, err := pipeline.Load(path, text, pipeline.DefaultRegistry())
	if err != nil {
		return cli.Exit(err.Error(), 2)
	}
	if c.NArg() > 0 {
		cfg.Inputs = cfg.Inputs[:0]
		for _, a := range c.Args().Slice() {
			in := pipeline.DefaultInput()
			in.Path = a
			cfg.Inputs = append(cfg.Inputs, in)
		}
	}
	if len(cfg.Inputs) == 0 {
		return cli.Exit("no inputs: list them under `inputs:` or give them as arguments", 2)
	}
	opts := stages.CalibrateOptions{
		CalibrateOptions: quality.CalibrateOptions{
			Quantile: c.Float64("quantile"), Fence: c.Float64("fence"), Outliers: c.Int("outliers"), Mode: c.String("mode"),
			StopWords: c.Int("stop-words"), MinStopDF: quality.DefaultCalibrateOptions().MinStopDF,
			MinDocs: c.Int("min-docs"), SampleDocs: c.Int("sample"),
		},
		MaxRead: c.Int64("max-read"), Workers: c.Int("workers"), OpenInputs: openInputs,
	}
	if err := opts.CalibrateOptions.Validate(); err != nil {
		return cli.Exit(err.Error(), 2)
	}
	if opts.MaxRead < 0 {
		return cli.Exit("--max-read must be >= 0", 2)
	}
	if !c.Bool("quiet") {
		opts.Logger = slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	out := c.String("output")
	run, err := stages.Calibrate(c.Context, cfg, opts)
	if err != nil {
		if errors.Is(err, c.Context.Err()) && c.Context.Err() != nil {
			return cli.Exit("interrupted: nothing written", 1)
		}
		return cli.Exit(err.Error(), 1)
	}
	var buf bytes.Buffer
	if err := run.WriteYAML(&buf, calibrationHeader(run, path, out)); err != nil {
		return cli.Exit(err.Error(), 1)
	}
	if err := pipeline.WriteFileAtomic(out, buf.Bytes()); err != nil {
		return cli.Exit(err.Error(), 1)
	}
	if c.Bool("quiet") {
		return nil
	}
	w := c.App.Writer
	st := run.Stats
	fmt.Fprintf(w, "read %d documents; %d reached the quality stages", st.Read, st.Kept)
	if len(run.Before) > 0 {
		fmt.Fprintf(w, " (after %s)", strings.Join(run.Before, ", "))
	}
	fmt.Fprintln(w)
	if err := run.WriteReport(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nwrote %s\n", out)
	printThresholdsHint(w, cfg, path, out, run.QualityStages)
	return nil
}

// calibrationHeader is the comment at the top of the thresholds file.
func calibrationHeader(run *stages.CalibrationRun, config, out string) string {
	o := run.Options
	docs := 0
	for _, l := range run.Languages {
		if l.Members == nil {
			docs += l.Docs
		}
	}
	kinds := make([]string, len(run.Stages))
	for i, s := range run.Stages {
		kinds[i] = s.Kind
	}
	return fmt.Sprintf("Per-language thresholds written by `sieve calibrate -c %s` (sieve %s) from %d documents\n"+
		"(at most %d per language), quantile %v, mode %s, outlier fence %v x IQR on %d thresholds.\n"+
		"Each quality stage (%s) reads its section with\n  thresholds_file: %s\n"+
		"Entries of a stage's per_language win over this file.",
		config, Version, docs, o.SampleDocs, o.Quantile, o.Mode, o.Fence, o.Outliers, strings.Join(kinds, ", "), relativeTo(config, out))
}

// relativeTo returns target relative to the directory of config (as thresholds_file is
// read), or target itself when that is not possible.
func relativeTo(config, target string) string {
	absCfg, err1 := filepath.Abs(filepath.Dir(config))
	absOut, err2 := filepath.Abs(target)
	if err1 != nil || err2 != nil {
		return target
	}
	rel, err := filepath.Rel(absCfg, absOut)
	if err != nil {
		return target
	}
	return rel
}

// printThresholdsHint names the quality stages that do not read the file yet.
func printThresholdsHint(w io.Writer, cfg *pipeline.Config, config, out string, names []string) {
	rel := relativeTo(config, out)
	absOut, _ := filepath.Abs(out)
	var missing []string
	for _, sc := range cfg.Stages {
		if !slices.Contains(names, sc.Name) {
			continue
		}
		p := thresholdsFileOf(sc.Config)
		if p == "" {
			missing = append(missing, sc.Name)
			continue
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(cfg.BaseDir, p)
		}
		if abs, _ := filepath.Abs(p); abs != absOut {
			missing = append(missing, sc.Name)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(w, "to use it, add `thresholds_file: %s` to %s in %s\n", rel, strings.Join(missing, ", "), config)
	}
}

// thresholdsFileOf returns the thresholds_file of a quality stage config.
func thresholdsFileOf(cfg any) string {
	switch c := cfg.(type) {
	case *quality.GopherQualityConfig:
		return c.ThresholdsFile
	case *quality.GopherRepetitionConfig:
		return c.ThresholdsFile
	case *quality.C4QualityConfig:
		return c.ThresholdsFile
	case *quality.FineWebQualityConfig:
		return c.ThresholdsFile
	}
	return ""
}
