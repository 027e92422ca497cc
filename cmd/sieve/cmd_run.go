package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/sieve-data/sieve/formats"
	"github.com/sieve-data/sieve/lang"
	"github.com/sieve-data/sieve/pipeline"
	"github.com/sieve-data/sieve/report"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a pipeline: sieve run -c FILE [-o DIR], or sieve run INPUT... -o DIR with the default pipeline",
		ArgsUsage: "[INPUT...]",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "pipeline YAML `FILE` (default: the embedded default pipeline)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "run `DIR` (overrides output.dir)"},
			&cli.IntFlag{Name: "workers", Aliases: []string{"w"}, Value: -1, Usage: "workers for parallel stages (overrides workers; 0 = number of CPUs)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"},
			&cli.StringFlag{Name: "cpuprofile", Usage: "write a CPU profile to `FILE` (go tool pprof)"},
		}, taskFlags()...),
		Action: func(c *cli.Context) error {
			cfg, text, err := loadRunConfig(c)
			if err != nil {
				return err
			}
			if p := c.String("cpuprofile"); p != "" {
				f, err := os.Create(p)
				if err != nil {
					return cli.Exit(err.Error(), 2)
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return cli.Exit(err.Error(), 2)
				}
				defer pprof.StopCPUProfile()
			}
			spec, mode, err := taskSpec(c)
			if err != nil {
				return err
			}
			if mode != noTasks {
				return runTaskMode(c.Context, c, cfg, text, spec, mode)
			}
			return execute(c.Context, c, cfg, text)
		},
	}
}

// loadRunConfig loads -c FILE or the default pipeline and applies the command-line overrides.
func loadRunConfig(c *cli.Context) (*pipeline.Config, []byte, error) {
	var (
		cfg  *pipeline.Config
		text []byte
		err  error
	)
	if path := c.String("config"); path != "" {
		text, err = os.ReadFile(path)
		if err != nil {
			return nil, nil, cli.Exit(err.Error(), 2)
		}
		cfg, err = pipeline.Load(path, text, pipeline.DefaultRegistry())
	} else {
		if c.NArg() == 0 {
			return nil, nil, cli.Exit("give -c FILE, or INPUT... -o DIR to run the default pipeline (see `sieve config default`)", 2)
		}
		text = []byte(defaultPipelineYAML())
		cfg, err = pipeline.Load("<default pipeline>", text, pipeline.DefaultRegistry())
	}
	if err != nil {
		return nil, nil, cli.Exit(err.Error(), 2)
	}
	if c.NArg() > 0 {
		cfg.Inputs = cfg.Inputs[:0]
		for _, a := range c.Args().Slice() {
			in := pipeline.DefaultInput()
			in.Path = a
			cfg.Inputs = append(cfg.Inputs, in)
		}
	}
	if o := c.String("output"); o != "" {
		cfg.Output.Dir = o
	}
	if w := c.Int("workers"); w >= 0 {
		cfg.Workers = w
	}
	if len(cfg.Inputs) == 0 {
		return nil, nil, cli.Exit("no inputs: list them under `inputs:` or give them as arguments", 2)
	}
	return cfg, text, nil
}

func execute(ctx context.Context, c *cli.Context, cfg *pipeline.Config, text []byte) error {
	stderr := c.App.ErrWriter
	quiet := c.Bool("quiet")
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if !quiet {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	opt := pipeline.Options{
		Registry:     pipeline.DefaultRegistry(),
		OpenInputs:   openInputs,
		NewRejects:   formats.NewRejectsSink,
		SieveVersion: Version,
		ConfigFile:   c.String("config"),
		ConfigText:   text,
		Logger:       logger,
		CountWords:   lang.CountWords,
	}
	setTaskHooks(&opt)
	var prog *progressPrinter
	if !quiet {
		prog = newProgressPrinter(stderr)
		opt.OnProgress = prog.print
	}
	res, err := pipeline.Execute(ctx, cfg, opt)
	if prog != nil {
		prog.done()
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return cli.Exit("interrupted: nothing was committed; outputs of this run were removed", 1)
		}
		var ce pipeline.ConfigErrors
		var se *pipeline.StartError
		if errors.As(err, &ce) || errors.As(err, &se) {
			return cli.Exit(err.Error(), 2)
		}
		return cli.Exit("run failed: "+err.Error(), 1)
	}
	rep, err := buildReport(c, res.Dir)
	if err != nil {
		return err
	}
	if !quiet {
		st := res.Stats
		fmt.Fprintf(stderr, "read %d, kept %d, rejected %d in %.1fs (%.0f docs/s) -> %s\n",
			st.Read, st.Kept, st.Rejected, st.Seconds, float64(st.Read)/max(st.Seconds, 1e-9), res.Dir)
		for _, s := range st.Stages {
			for _, r := range sortedReasons(s.Rejected) {
				fmt.Fprintf(stderr, "  %-22s %-34s %d\n", s.Name, r, s.Rejected[r])
			}
		}
		fmt.Fprintf(stderr, "dataset card %s, report %s, audit samples in %s\n", filepath.Join(res.Dir, report.CardFile), filepath.Join(res.Dir, report.HTMLFile), filepath.Join(res.Dir, report.AuditDir))
		printCarried(stderr, res.Dir, rep)
	}
	return nil
}

// progressPrinter shows progress on a terminal as one rewritten line, elsewhere as a log
// line every 10 seconds.
type progressPrinter struct {
	w        io.Writer
	tty      bool
	last     time.Time
	printed  bool
	interval time.Duration
}

func newProgressPrinter(w io.Writer) *progressPrinter {
	p := &progressPrinter{w: w, interval: 10 * time.Second}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty, p.interval = true, 0
	}
	return p
}

func (p *progressPrinter) print(pr pipeline.Progress) {
	if time.Since(p.last) < p.interval {
		return
	}
	p.last = time.Now()
	secs := pr.Elapsed.Seconds()
	rate := float64(pr.Read) / max(secs, 1e-9)
	line := fmt.Sprintf("read %d (%.0f docs/s), kept %d, rejected %d", pr.Read, rate, pr.Kept, pr.Rejected)
	if pr.BytesTotal > 0 {
		frac := float64(pr.BytesDone) / float64(pr.BytesTotal)
		line += fmt.Sprintf(", %s of %s (%.1f%%)", humanBytes(pr.BytesDone), humanBytes(pr.BytesTotal), 100*frac)
		if frac > 0.001 {
			eta := time.Duration(secs * (1 - frac) / frac * float64(time.Second)).Round(time.Second)
			line += ", ETA " + eta.String()
		}
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.printed = true
	} else {
		fmt.Fprintf(p.w, "progress: %s\n", line)
	}
}

func (p *progressPrinter) done() {
	if p.tty && p.printed {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// openInputs plans every input (failing before any work on a missing path or unknown
// format) and opens them as one source; formats.Inputs records checksums for the manifest.
func openInputs(_ context.Context, ins []pipeline.Input) (pipeline.Source, error) {
	files, err := formats.PlanInputs(ins, "")
	if err != nil {
		return nil, err
	}
	return formats.OpenInputs(files), nil
}
