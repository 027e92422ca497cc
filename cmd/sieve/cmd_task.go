package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sieve-data/sieve/formats"
	"github.com/sieve-data/sieve/lang"
	"github.com/sieve-data/sieve/pipeline"
)

func init() { extraCommands = append(extraCommands, mergeCommand) }

// taskFlags are the task-mode flags of `sieve run`.
func taskFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "task-index", Value: -1, Usage: "run task `I` (0-based) of a run split into --task-count tasks; default $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX"},
		&cli.IntFlag{Name: "task-count", Usage: "split the run into `N` tasks (of the phase, for phases other than the input passes); without --task-index every task runs here in turn, then the merge; default $SLURM_ARRAY_TASK_COUNT"},
		&cli.StringFlag{Name: "phase", Usage: "run phase `NAME` (see sieve plan); merge builds the run directory from the tasks' outputs"},
		&cli.StringFlag{Name: "split-bytes", Usage: "split uncompressed JSONL and line-mode text files larger than `SIZE` (e.g. 256MiB) into byte ranges; default: about 4 ranges per task, at least 64MiB"},
	}
}

// taskMode is what the task flags ask for.
type taskMode int

const (
	noTasks    taskMode = iota // a plain single-process run
	oneTask                    // one task of one phase
	allTasks                   // every phase here (--task-count without --task-index)
	phaseTasks                 // every task of one phase here (--phase without --task-index)
	mergeTasks                 // --phase merge
)

// taskSpec reads the task flags, falling back on the variables Slurm job arrays and
// Kubernetes Indexed Jobs set.
func taskSpec(c *cli.Context) (pipeline.TaskSpec, taskMode, error) {
	spec := pipeline.TaskSpec{Phase: c.String("phase"), Index: c.Int("task-index"), Count: c.Int("task-count")}
	if s := c.String("split-bytes"); s != "" {
		n, err := parseBytes(s)
		if err != nil {
			return spec, noTasks, cli.Exit("--split-bytes: "+err.Error(), 2)
		}
		spec.SplitBytes = n
	}
	if !c.IsSet("task-index") {
		if id, ok := envInt("SLURM_ARRAY_TASK_ID"); ok {
			spec.Index = id
			if lo, ok := envInt("SLURM_ARRAY_TASK_MIN"); ok {
				spec.Index -= lo
			}
			if n, ok := envInt("SLURM_ARRAY_TASK_COUNT"); ok && !c.IsSet("task-count") {
				spec.Count = n
			}
		} else if id, ok := envInt("JOB_COMPLETION_INDEX"); ok {
			spec.Index = id
			if !c.IsSet("task-count") {
				return spec, noTasks, cli.Exit("$JOB_COMPLETION_INDEX is set: give --task-count (the Job's completions)", 2)
			}
		}
	}
	switch {
	case spec.Phase == pipeline.PhaseMergeName:
		return spec, mergeTasks, nil
	case spec.Index >= 0:
		if spec.Count < 1 {
			return spec, noTasks, cli.Exit("--task-index needs --task-count", 2)
		}
		return spec, oneTask, nil
	case spec.Phase != "":
		return spec, phaseTasks, nil
	case spec.Count > 0:
		return spec, allTasks, nil
	case spec.SplitBytes > 0:
		return spec, noTasks, cli.Exit("--split-bytes needs --task-count", 2)
	}
	return spec, noTasks, nil
}

func envInt(name string) (int, bool) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// parseBytes parses a size: a number with an optional K, M, G, T suffix (powers of 1024,
// with or without "iB"/"B").
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		up := strings.ToUpper(t)
		for _, form := range []string{u.suffix + "IB", u.suffix + "B", u.suffix} {
			if strings.HasSuffix(up, form) {
				t, mult = strings.TrimSpace(t[:len(t)-len(form)]), u.m
				goto parsed
			}
		}
	}
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "b")
parsed:
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q: want a positive size such as 268435456 or 256MiB", s)
	}
	return n * mult, nil
}

// setTaskHooks wires the task-mode readers and writers into opt.
func setTaskHooks(opt *pipeline.Options) {
	opt.ListInputs = formats.ListInputs
	opt.SplitInputs = formats.SplitInputs
	opt.OpenUnits = func(_ context.Context, files []pipeline.InputFileInfo, units []pipeline.InputUnit, ins []pipeline.Input) (pipeline.Source, error) {
		return formats.OpenUnits(files, units, ins), nil
	}
	opt.MergeRejects = formats.MergeRejects
	opt.CountRows = formats.CountRows
}

// runOptions are the options of every run.
func runOptions(c *cli.Context, text []byte) pipeline.Options {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if !c.Bool("quiet") {
		logger = slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelInfo}))
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
	return opt
}

// runTaskMode runs what the task flags ask for.
func runTaskMode(ctx context.Context, c *cli.Context, cfg *pipeline.Config, text []byte, spec pipeline.TaskSpec, mode taskMode) error {
	stderr := c.App.ErrWriter
	quiet := c.Bool("quiet")
	opt := runOptions(c, text)
	var prog *progressPrinter
	if !quiet {
		prog = newProgressPrinter(stderr)
		opt.OnProgress = prog.print
	}
	done := func() {
		if prog != nil {
			prog.done()
		}
	}
	switch mode {
	case oneTask:
		start := time.Now()
		tr, err := pipeline.RunTask(ctx, cfg, opt, spec)
		done()
		if err != nil {
			return runError(err)
		}
		if !quiet {
			printTask(stderr, tr, time.Since(start))
		}
		return nil
	case phaseTasks:
		p, err := pipeline.ReadPlan(cfg.Output.Dir)
		if err != nil {
			return cli.Exit(fmt.Sprintf("--phase %s without --task-index runs every task of the phase, which needs the run's plan: %v", spec.Phase, err), 2)
		}
		_, ph, ok := p.Phase(spec.Phase)
		if !ok {
			return cli.Exit(fmt.Sprintf("no phase %q in this run; its phases are %s", spec.Phase, strings.Join(p.PhaseNames(), ", ")), 2)
		}
		if spec.Count > 0 && spec.Count != ph.Tasks {
			return cli.Exit(fmt.Sprintf("phase %s has %d tasks in this run, not %d", spec.Phase, ph.Tasks, spec.Count), 2)
		}
		for t := 0; t < ph.Tasks; t++ {
			start := time.Now()
			s := spec
			s.Index, s.Count = t, ph.Tasks
			tr, err := pipeline.RunTask(ctx, cfg, opt, s)
			if err != nil {
				done()
				return runError(err)
			}
			if !quiet {
				printTask(stderr, tr, time.Since(start))
			}
		}
		done()
		return nil
	case allTasks:
		res, trs, err := pipeline.RunTasks(ctx, cfg, opt, spec.Count, spec.SplitBytes)
		done()
		if !quiet {
			skipped := 0
			for _, tr := range trs {
				if tr.Skipped {
					skipped++
				}
			}
			if skipped > 0 {
				fmt.Fprintf(stderr, "resumed: %d of %d tasks had finished in an earlier run\n", skipped, len(trs))
			}
		}
		if err != nil {
			return runError(err)
		}
		return finishRun(c, res)
	case mergeTasks:
		res, err := pipeline.Merge(ctx, cfg.Output.Dir, opt)
		done()
		if err != nil {
			return runError(err)
		}
		return finishRun(c, res)
	}
	return errors.New("internal: no task mode")
}

// runError maps a run's error to an exit code: 2 for problems found before any work.
func runError(err error) error {
	if errors.Is(err, context.Canceled) {
		return cli.Exit("interrupted: the task's outputs were removed; rerun the same command to redo it", 1)
	}
	var ce pipeline.ConfigErrors
	var se *pipeline.StartError
	if errors.As(err, &ce) || errors.As(err, &se) {
		return cli.Exit(err.Error(), 2)
	}
	return cli.Exit("run failed: "+err.Error(), 1)
}

func printTask(w io.Writer, tr *pipeline.TaskResult, d time.Duration) {
	label := fmt.Sprintf("phase %s, task %d of %d", tr.Phase, tr.Index, tr.Count)
	switch {
	case tr.Result != nil:
		printSummary(w, tr.Result)
	case tr.Skipped:
		fmt.Fprintf(w, "%s: already done (rerun after a change of config or inputs redoes it)\n", label)
	default:
		fmt.Fprintf(w, "%s: done in %.1fs", label, d.Seconds())
		if st := tr.Marker.Stats; st != nil {
			fmt.Fprintf(w, " (read %d, kept %d, rejected %d)", st.Read, st.Kept, st.Rejected)
		}
		if tr.Redo != "" && tr.Redo != "not finished" {
			fmt.Fprintf(w, "; redone: %s", tr.Redo)
		}
		fmt.Fprintln(w)
	}
}

// finishRun builds the report of a merged run and prints its summary.
func finishRun(c *cli.Context, res *pipeline.Result) error {
	rep, err := buildReport(c, res.Dir)
	if err != nil {
		return err
	}
	if !c.Bool("quiet") {
		printSummary(c.App.ErrWriter, res)
		printCarried(c.App.ErrWriter, res.Dir, rep)
	}
	return nil
}

func printSummary(w io.Writer, res *pipeline.Result) {
	st := res.Stats
	fmt.Fprintf(w, "read %d, kept %d, rejected %d -> %s\n", st.Read, st.Kept, st.Rejected, res.Dir)
	for _, s := range st.Stages {
		for _, r := range sortedReasons(s.Rejected) {
			fmt.Fprintf(w, "  %-22s %-34s %d\n", s.Name, r, s.Rejected[r])
		}
	}
	if t := res.Manifest.Tasks; t != nil {
		fmt.Fprintf(w, "%d tasks, %.1fs of task time in all\n", t.Tasks, t.TaskSeconds)
	}
}

func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "build the run directory of a task-mode run from its tasks' outputs (same as sieve run -c FILE --phase merge)",
		ArgsUsage: "RUN_DIR",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("give one run directory: sieve merge RUN_DIR", 2)
			}
			opt := runOptions(c, nil)
			res, err := pipeline.Merge(c.Context, filepath.Clean(c.Args().First()), opt)
			if err != nil {
				return runError(err)
			}
			return finishRun(c, res)
		},
	}
}
