package stages

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/sieve-data/sieve/pipeline"
	"github.com/sieve-data/sieve/stages/quality"
)

// CalibrateOptions configure Calibrate.
type CalibrateOptions struct {
	quality.CalibrateOptions
	// MaxRead stops reading after this many documents; 0 = read every input.
	MaxRead int64
	Workers int // 0 = the config's workers (or the number of CPUs)
	// OpenInputs opens the configured inputs as one source (the CLI passes the formats
	// package's; tests their own).
	OpenInputs func(ctx context.Context, ins []pipeline.Input) (pipeline.Source, error)
	Registry   *pipeline.Registry // nil = the default registry
	Logger     *slog.Logger
}

// CalibrationRun is what Calibrate returns: the calibration and the counts of the run that
// fed it.
type CalibrationRun struct {
	*quality.Calibration
	Stats *pipeline.Stats // the inputs through the stages before the quality stages
	// Before names the stages that ran before measuring, QualityStages the calibrated ones.
	Before, QualityStages []string
}

// Calibrate runs the configured inputs through the stages that come before the first
// quality stage (language identification, dedup, ...), measures every document that those
// keep with each quality stage's rules, and derives per-language thresholds from the first
// opts.SampleDocs documents of each language. Stages after the first quality stage do not
// run; each quality stage is measured on the text as it reaches the first one.
func Calibrate(ctx context.Context, cfg *pipeline.Config, opts CalibrateOptions) (*CalibrationRun, error) {
	reg := opts.Registry
	if reg == nil {
		reg = pipeline.DefaultRegistry()
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if len(cfg.Inputs) == 0 {
		return nil, errors.New("calibrate: no inputs")
	}
	first := -1
	var qs []quality.CalibrationStage
	seen := map[string]string{}
	for i, sc := range cfg.Stages {
		if quality.DefaultConfig(sc.Kind) == nil {
			continue
		}
		if first < 0 {
			first = i
		}
		if other, dup := seen[sc.Kind]; dup {
			return nil, fmt.Errorf("calibrate: stages %s and %s are both %s; a thresholds file has one section per kind, so calibrate with one of them", other, sc.Name, sc.Kind)
		}
		seen[sc.Kind] = sc.Name
		c := sc.Config
		if c == nil {
			c = quality.DefaultConfig(sc.Kind)
		}
		qs = append(qs, quality.CalibrationStage{Name: sc.Name, Kind: sc.Kind, Config: c})
	}
	if first < 0 {
		return nil, fmt.Errorf("calibrate: the pipeline has no quality stage (%s)", strings.Join(quality.Kinds(), ", "))
	}
	cal, err := quality.NewCalibrator(qs, opts.CalibrateOptions)
	if err != nil {
		return nil, err
	}
	pre := *cfg
	pre.Stages = cfg.Stages[:first]
	workers := opts.Workers
	if workers <= 0 {
		workers = cfg.Workers
	}
	built, err := pipeline.BuildStages(&pre, reg, workers, logger)
	if err != nil {
		return nil, err
	}
	run := &CalibrationRun{}
	for _, s := range built {
		run.Before = append(run.Before, s.Name)
	}
	for _, s := range qs {
		run.QualityStages = append(run.QualityStages, s.Name)
	}
	src, err := opts.OpenInputs(ctx, cfg.Inputs)
	if err != nil {
		for _, s := range built {
			_ = s.Stage.Close(ctx)
		}
		return nil, err
	}
	defer src.Close()
	var source pipeline.Source = src
	if opts.MaxRead > 0 {
		source = &limitSource{Source: src, left: opts.MaxRead}
	}
	stagesPlan := append(built, pipeline.StageInstance{Name: "calibrate.measure", Kind: "calibrate.measure", Mode: pipeline.Parallel, Stage: measureStage{cal}})
	st, err := pipeline.Run(ctx, &pipeline.Plan{
		Source:    source,
		Stages:    stagesPlan,
		Output:    &calibrationSink{cal: cal},
		Workers:   workers,
		BatchSize: cfg.BatchSize,
	})
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	run.Calibration = cal.Result()
	run.Stats = st
	return run, nil
}

// limitSource ends a source after a number of documents.
type limitSource struct {
	pipeline.Source
	left int64
}

func (l *limitSource) Next(ctx context.Context, d *pipeline.Document) error {
	if l.left <= 0 {
		return io.EOF
	}
	l.left--
	return l.Source.Next(ctx, d)
}

// measureStage measures each document in parallel and hands the measurements to the sink
// through doc.Scratch (it is the plan's last stage).
type measureStage struct{ cal *quality.Calibrator }

func (m measureStage) Process(_ context.Context, d *pipeline.Document) (pipeline.Verdict, error) {
	d.Scratch = m.cal.Measure(d.Lang, d.Text)
	return pipeline.Keep, nil
}

func (measureStage) Close(context.Context) error { return nil }

// calibrationSink adds the measurements in read order.
type calibrationSink struct{ cal *quality.Calibrator }

func (s *calibrationSink) Write(_ context.Context, d *pipeline.Document) error {
	m, ok := d.Scratch.(*quality.DocMeasure)
	if !ok {
		return fmt.Errorf("%s: document reached the calibration sink unmeasured", d.Origin)
	}
	d.Scratch = nil
	s.cal.Add(d.Lang, m)
	return nil
}

func (s *calibrationSink) Commit(context.Context) error { return nil }
func (s *calibrationSink) Abort() error                 { return nil }
