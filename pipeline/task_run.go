package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// TaskSpec selects what one task-mode invocation runs.
type TaskSpec struct {
	// Phase names the phase; empty means the run's only input phase (a run without phased
	// stages) when Index >= 0.
	Phase string
	// Index is the task to run; < 0 runs every task of every phase in this process, one
	// after the other, then the merge (RunTasks).
	Index int
	// Count is the number of tasks: of the run for its input phases, of the phase for the
	// others (as `sieve plan` prints them).
	Count int
	// SplitBytes, when > 0, splits input files larger than this into byte ranges (line-based
	// uncompressed formats); 0 chooses from the input size and the task count.
	SplitBytes int64
}

// TaskResult is what RunTask did.
type TaskResult struct {
	Phase        string
	Index, Count int
	// Skipped is set when the task had finished in an earlier invocation with the same
	// plan; Redo says why it ran otherwise ("not finished", "the config changed", ...).
	Skipped bool
	Redo    string
	Marker  *TaskMarker
	Result  *Result // the merge's
}

// taskRun is one invocation in task mode.
type taskRun struct {
	cfg     *Config // nil when merging from the run directory alone
	opt     *Options
	dir     string
	logger  *slog.Logger
	workers int
	plan    *RunPlan
	planSHA string
	phased  map[int]Phased
}

func newTaskRun(cfg *Config, opt *Options) *taskRun {
	r := &taskRun{cfg: cfg, opt: opt, logger: opt.Logger}
	if r.logger == nil {
		r.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg != nil {
		r.dir = cfg.Output.Dir
		r.workers = cfg.Workers
		if r.workers <= 0 {
			r.workers = runtime.NumCPU()
		}
	}
	return r
}

// RunTask runs one task of a task-mode run (see TaskSpec), or the merge when spec.Phase is
// "merge". Tasks of one phase may run at the same time in different processes sharing the
// run directory; a phase's tasks need every task of the previous phase finished. A task
// whose marker shows it finished under the same plan is skipped; any other is redone from
// scratch. Nothing a task writes is visible under the run's final names before the merge.
func RunTask(ctx context.Context, cfg *Config, opt Options, spec TaskSpec) (*TaskResult, error) {
	if spec.Index < 0 {
		return nil, errors.New("task mode: no task index")
	}
	if spec.Count < 1 {
		return nil, errors.New("task mode: give the task count (--task-count N)")
	}
	if spec.Index >= spec.Count {
		return nil, &StartError{Err: fmt.Errorf("task index %d out of range for %d tasks (indexes start at 0)", spec.Index, spec.Count)}
	}
	r := newTaskRun(cfg, &opt)
	if err := r.checkDir(); err != nil {
		return nil, err
	}
	// Only the first phase may (re)write the plan; later phases must find the plan their
	// predecessors ran under.
	first := spec.Phase == ""
	if !first {
		phased, err := phasedStages(cfg, opt.Registry, spec.Count, r.workers, r.env)
		if err != nil {
			return nil, &StartError{Err: err}
		}
		phases, err := buildPhases(cfg, phased, spec.Count)
		if err != nil {
			return nil, &StartError{Err: err}
		}
		first = phases[0].Name == spec.Phase
		if _, err := ReadPlan(r.dir); !first && errors.Is(err, os.ErrNotExist) {
			names := make([]string, len(phases))
			for i, ph := range phases {
				names[i] = ph.Name
			}
			if !slices.Contains(names, spec.Phase) {
				return nil, &StartError{Err: fmt.Errorf("no phase %q in a run of %d tasks; its phases are %s", spec.Phase, spec.Count, strings.Join(names, ", "))}
			}
			return nil, &StartError{Err: fmt.Errorf("%s: the run has not started: run phase %s first", r.dir, phases[0].Name)}
		}
	}
	n := 0
	if first {
		n = spec.Count
	}
	if err := r.prepare(ctx, n, spec.SplitBytes, first); err != nil {
		return nil, err
	}
	name := spec.Phase
	if name == "" {
		var inputs []string
		for _, ph := range r.plan.Phases {
			if ph.Kind != PhaseMerge {
				inputs = append(inputs, ph.Name)
			}
		}
		if len(inputs) != 1 {
			return nil, &StartError{Err: fmt.Errorf("this pipeline runs as phases %s; give --phase", strings.Join(r.plan.PhaseNames(), ", "))}
		}
		name = inputs[0]
	}
	k, ph, ok := r.plan.Phase(name)
	if !ok {
		return nil, &StartError{Err: fmt.Errorf("no phase %q in this run; its phases are %s", name, strings.Join(r.plan.PhaseNames(), ", "))}
	}
	if k == 0 && r.plan.Tasks != spec.Count {
		return nil, &StartError{Err: fmt.Errorf("phase %s: planned for %d tasks, not %d", name, r.plan.Tasks, spec.Count)}
	}
	if ph.Tasks != spec.Count {
		return nil, &StartError{Err: fmt.Errorf("phase %s has %d tasks in this run (sieve plan lists them), not %d", name, ph.Tasks, spec.Count)}
	}
	return r.runOne(ctx, k, spec.Index)
}

// RunTasks runs every phase of a run of n tasks in this process, each task in turn (skipping
// those an earlier invocation finished), then merges. It is what `sieve run --task-count N`
// without a task index does, and how a single-process run with a sharded stage runs.
func RunTasks(ctx context.Context, cfg *Config, opt Options, n int, split int64) (*Result, []TaskResult, error) {
	if n < 1 {
		return nil, nil, errors.New("task mode: the task count must be at least 1")
	}
	r := newTaskRun(cfg, &opt)
	if err := r.checkDir(); err != nil {
		return nil, nil, err
	}
	if err := r.prepare(ctx, n, split, true); err != nil {
		return nil, nil, err
	}
	var done []TaskResult
	for k, ph := range r.plan.Phases {
		for t := 0; t < ph.Tasks; t++ {
			tr, err := r.runOne(ctx, k, t)
			if err != nil {
				return nil, done, err
			}
			done = append(done, *tr)
			if tr.Result != nil {
				return tr.Result, done, nil
			}
		}
	}
	return nil, done, errors.New("internal: the plan has no merge phase")
}

// Merge builds the run directory of a task-mode run from its tasks' outputs (the last
// phase; `sieve merge RUN_DIR`). It needs only the run directory.
func Merge(ctx context.Context, dir string, opt Options) (*Result, error) {
	r := newTaskRun(nil, &opt)
	r.dir = dir
	p, err := ReadPlan(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &StartError{Err: fmt.Errorf("%s holds no task-mode run (no tasks/plan.json)", dir)}
		}
		return nil, err
	}
	r.plan, r.planSHA, r.workers = p, p.sha(), p.Workers
	return r.merge(ctx)
}

// checkDir refuses an output directory that is not empty and not a sieve run directory.
func (r *taskRun) checkDir() error {
	if err := CheckConfined(r.cfg); err != nil {
		return &StartError{Err: err}
	}
	if err := checkRunDir(r.dir); err != nil {
		return &StartError{Err: err}
	}
	return os.MkdirAll(r.dir, 0o755)
}

// prepare loads the stored plan or, when mayWrite, computes and stores a new one for n tasks
// (n 0: whatever the stored plan says). It builds the phased stages.
func (r *taskRun) prepare(ctx context.Context, n int, split int64, mayWrite bool) error {
	if r.opt.ListInputs == nil || r.opt.OpenUnits == nil {
		return errors.New("task mode: no input lister configured")
	}
	if len(r.cfg.Inputs) == 0 {
		return &StartError{Err: errors.New("no inputs: give inputs in the config or as arguments")}
	}
	files, err := r.opt.ListInputs(r.cfg.Inputs)
	if err != nil {
		return &StartError{Err: err}
	}
	used, err := ListUsedFiles(r.cfg)
	if err != nil {
		return &StartError{Err: err}
	}
	old, err := ReadPlan(r.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		if !mayWrite {
			return err
		}
		old = nil
	}
	why := "no plan yet"
	if old != nil {
		why = planMatches(old, r.cfg, r.opt, files, used, n, split)
	}
	if why == "" {
		r.plan = old
	} else {
		if !mayWrite {
			first := "the first phase"
			if old != nil && len(old.Phases) > 0 {
				first = "phase " + old.Phases[0].Name
			}
			return &StartError{Err: fmt.Errorf("%s: the run was planned differently (%s); run %s first", r.dir, why, first)}
		}
		if old != nil {
			r.logger.Info("replanning the run", "why", why)
		}
	}
	tasks := n
	if r.plan != nil {
		tasks = r.plan.Tasks
	}
	r.phased, err = phasedStages(r.cfg, r.opt.Registry, tasks, r.workers, r.env)
	if err != nil {
		return &StartError{Err: err}
	}
	phases, err := buildPhases(r.cfg, r.phased, tasks)
	if err != nil {
		return &StartError{Err: err}
	}
	if r.plan == nil {
		if r.plan, err = makePlan(ctx, r.cfg, r.opt, files, used, n, split); err != nil {
			return &StartError{Err: err}
		}
		r.plan.Phases = phases
		if err := writePlan(r.dir, r.plan); err != nil {
			return err
		}
	} else if !slices.Equal(r.plan.Phases, phases) {
		return fmt.Errorf("%s: the stored plan lists other phases than the config gives", planPath(r.dir))
	}
	r.planSHA = r.plan.sha()
	return nil
}

func (r *taskRun) env(sc *StageConfig) *Env {
	return &Env{Name: sc.Name, BaseDir: r.cfg.BaseDir, Workers: r.workers, Logger: r.logger.With("stage", sc.Name)}
}

// deps hashes the markers of the phase before phase k, each of which must show its task
// finished under the current plan.
func (r *taskRun) deps(k int) (string, error) {
	if k == 0 {
		return "", nil
	}
	prev := r.plan.Phases[k-1]
	h := sha256.New()
	var missing []string
	for t := 0; t < prev.Tasks; t++ {
		m, b, err := readMarker(r.dir, prev.Name, t, prev.Tasks)
		if err != nil {
			return "", err
		}
		deps := ""
		if m != nil {
			deps = m.DepsSHA256
		}
		if why := markerProblem(r.dir, m, prev.Name, t, prev.Tasks, r.planSHA, deps); why != "" {
			missing = append(missing, fmt.Sprintf("task %d: %s", t, why))
			continue
		}
		h.Write(b)
	}
	if len(missing) > 0 {
		more := ""
		if len(missing) > 5 {
			more = fmt.Sprintf(" (and %d more)", len(missing)-5)
			missing = missing[:5]
		}
		return "", &StartError{Err: fmt.Errorf("phase %s must finish first: %s%s", prev.Name, strings.Join(missing, "; "), more)}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// runOne runs task t of phase k unless its marker shows it done.
func (r *taskRun) runOne(ctx context.Context, k, t int) (*TaskResult, error) {
	ph := &r.plan.Phases[k]
	tr := &TaskResult{Phase: ph.Name, Index: t, Count: ph.Tasks}
	if ph.Kind == PhaseMerge {
		res, err := r.merge(ctx)
		tr.Result = res
		return tr, err
	}
	deps, err := r.deps(k)
	if err != nil {
		return nil, err
	}
	m, _, err := readMarker(r.dir, ph.Name, t, ph.Tasks)
	if err != nil {
		r.logger.Warn("unreadable task marker; redoing the task", "err", err)
	}
	tr.Redo = markerProblem(r.dir, m, ph.Name, t, ph.Tasks, r.planSHA, deps)
	if tr.Redo == "" {
		tr.Skipped, tr.Marker = true, m
		r.logger.Debug("task already done", "phase", ph.Name, "task", t, "of", ph.Tasks)
		return tr, nil
	}
	if err := os.Remove(markerPath(r.dir, ph.Name, t, ph.Tasks)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	m = &TaskMarker{Version: markerVersion, Phase: ph.Name, Index: t, Count: ph.Tasks, PlanSHA256: r.planSHA,
		DepsSHA256: deps, Started: time.Now().UTC(), Workers: r.workers}
	m.Host, _ = os.Hostname()
	switch ph.Kind {
	case PhaseInput:
		err = r.runInput(ctx, ph, t, m)
	case PhaseGlobal:
		err = r.runGlobal(ctx, ph, t, m)
	default:
		err = fmt.Errorf("internal: phase %s of kind %s", ph.Name, ph.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("phase %s, task %d of %d: %w", ph.Name, t, ph.Tasks, err)
	}
	m.Finished = time.Now().UTC()
	if err := writeMarker(r.dir, m); err != nil {
		return nil, err
	}
	tr.Marker = m
	return tr, nil
}

// emitSink hands the documents that reach a phased stage to its WriteShard.
type emitSink struct {
	emit func(*Document) error
	n    int64
}

func (s *emitSink) Write(_ context.Context, d *Document) error { s.n++; return s.emit(d) }
func (s *emitSink) Commit(context.Context) error               { return nil }
func (s *emitSink) Abort() error                               { return nil }

// countStage counts the documents a phased stage's filter sees, to check them against its
// shard pass.
type countStage struct {
	Stage
	n atomic.Int64
}

func (c *countStage) Process(ctx context.Context, d *Document) (Verdict, error) {
	c.n.Add(1)
	return c.Stage.Process(ctx, d)
}

type filterCheck struct {
	stage int
	cs    *countStage
}

// passStages builds the stages an input pass runs for task t: every stage before the pass's
// target (all stages for the final pass), phased stages replaced by their filters.
func (r *taskRun) passStages(ph *PhaseInfo, t int) ([]StageInstance, []filterCheck, error) {
	upto := len(r.cfg.Stages)
	if ph.Target >= 0 {
		upto = ph.Target
	}
	var out []StageInstance
	var checks []filterCheck
	fail := func(err error) ([]StageInstance, []filterCheck, error) {
		for _, s := range out {
			_ = s.Stage.Close(context.Background())
		}
		return nil, nil, err
	}
	for i := 0; i < upto; i++ {
		sc := &r.cfg.Stages[i]
		if p, ok := r.phased[i]; ok {
			f, err := p.Filter(t)
			if err != nil {
				return fail(fmt.Errorf("stage %s: %w", sc.Name, err))
			}
			cs := &countStage{Stage: f}
			out = append(out, StageInstance{Name: sc.Name, Kind: sc.Kind, Mode: Ordered, Stage: cs})
			checks = append(checks, filterCheck{i, cs})
			continue
		}
		si, err := buildStage(sc, r.cfg, r.opt.Registry, r.workers, r.logger)
		if err != nil {
			return fail(err)
		}
		out = append(out, si)
	}
	if ph.Target >= 0 {
		if sp, ok := r.phased[ph.Target].(ShardPreparer); ok {
			sc := &r.cfg.Stages[ph.Target]
			out = append(out, StageInstance{Name: sc.Name, Kind: sc.Kind, Mode: Parallel, Stage: shardPrepareStage{sp}})
		}
	}
	return out, checks, nil
}

// runInput runs task t of an input pass.
func (r *taskRun) runInput(ctx context.Context, ph *PhaseInfo, t int, m *TaskMarker) error {
	td := taskDir(r.dir, ph.Name, t, ph.Tasks)
	tdRel := path.Join("tasks", ph.Name, taskName(t, ph.Tasks))
	if err := os.RemoveAll(td); err != nil {
		return fmt.Errorf("clear the task's earlier outputs: %w", err)
	}
	if ph.Target < 0 {
		if err := os.MkdirAll(td, 0o755); err != nil {
			return err
		}
	}
	src, err := r.opt.OpenUnits(ctx, r.plan.Files, r.plan.TaskInput(t), r.cfg.Inputs)
	if err != nil {
		return err
	}
	defer src.Close()
	stages, checks, err := r.passStages(ph, t)
	if err != nil {
		return err
	}
	var tok *Tokenizer
	if ph.Target < 0 { // a shard pass's stats are not reported: count tokens in the final pass only
		if tok, err = r.cfg.Coverage.LoadTokenizer(); err != nil {
			return fmt.Errorf("coverage.tokenizer: %w", err)
		}
	}
	plan := &Plan{Source: src, Stages: stages, Workers: r.workers, BatchSize: r.cfg.BatchSize,
		CountWords: r.opt.CountWords, OnProgress: r.opt.OnProgress, Tokenizer: tok}
	var st *Stats
	if ph.Target >= 0 {
		ran := false
		sink := &emitSink{}
		files, err := r.phased[ph.Target].WriteShard(ctx, t, func(emit func(*Document) error) error {
			ran = true
			sink.emit = emit
			plan.Output = sink
			var err error
			st, err = Run(ctx, plan)
			return err
		})
		if !ran {
			for _, s := range stages {
				_ = s.Stage.Close(context.Background())
			}
		}
		if err != nil {
			return err
		}
		m.Emitted = sink.n
		for _, f := range files {
			rel, err := filepath.Rel(r.dir, f)
			if err != nil || strings.HasPrefix(rel, "..") {
				return fmt.Errorf("stage %s wrote %s outside the run directory", ph.Stage, f)
			}
			o, err := outputFile(r.dir, rel, false)
			if err != nil {
				return err
			}
			m.Outputs = append(m.Outputs, o)
		}
	} else {
		wf, ok := LookupWriter(r.cfg.Output.Format)
		if !ok {
			return fmt.Errorf("output: unknown format %q", r.cfg.Output.Format)
		}
		out, err := wf(td, &r.cfg.Output)
		if err != nil {
			return fmt.Errorf("output: %w", err)
		}
		var rej Sink
		if r.cfg.Rejects.Enabled && r.opt.NewRejects != nil {
			if rej, err = r.opt.NewRejects(td, &r.cfg.Rejects); err != nil {
				_ = out.Abort()
				return fmt.Errorf("rejects: %w", err)
			}
		}
		plan.Output, plan.Rejects = out, rej
		if st, err = Run(ctx, plan); err != nil {
			return err
		}
		var rels []string
		if sf, ok := out.(SinkFiles); ok {
			rels = append(rels, sf.Files()...)
		}
		if sf, ok := rej.(SinkFiles); ok && rej != nil {
			rels = append(rels, sf.Files()...)
		}
		if err := WriteJSONFile(filepath.Join(td, "stats.json"), st); err != nil {
			return err
		}
		rels = append(rels, "stats.json")
		sort.Strings(rels)
		for _, rel := range rels {
			o, err := outputFile(r.dir, path.Join(tdRel, rel), true)
			if err != nil {
				return err
			}
			m.Outputs = append(m.Outputs, o)
		}
	}
	for _, c := range checks {
		want, err := r.shardDocs(c.stage, t)
		if err != nil {
			return err
		}
		if got := c.cs.n.Load(); got != want {
			return fmt.Errorf("stage %s: this pass gave %d documents to shard %d, its shard pass %d; a stage before it does not decide the same way on every run", r.cfg.Stages[c.stage].Name, got, t, want)
		}
	}
	m.Stats = st
	if rec, ok := src.(InputRecorder); ok {
		m.Inputs = rec.InputFiles()
	}
	return nil
}

// shardDocs returns how many documents the shard pass of stage i gave to shard t.
func (r *taskRun) shardDocs(i, t int) (int64, error) {
	for _, ph := range r.plan.Phases {
		if ph.Kind == PhaseInput && ph.Target == i {
			m, _, err := readMarker(r.dir, ph.Name, t, ph.Tasks)
			if err != nil {
				return 0, err
			}
			if m == nil {
				return 0, fmt.Errorf("phase %s: task %d has no marker", ph.Name, t)
			}
			return m.Emitted, nil
		}
	}
	return 0, fmt.Errorf("internal: no shard pass for stage %d", i)
}

// runGlobal runs task t of a phased stage's global phase.
func (r *taskRun) runGlobal(ctx context.Context, ph *PhaseInfo, t int, m *TaskMarker) error {
	p := r.phased[ph.Target]
	gps := p.Phases(r.plan.Tasks, r.plan.Tasks)
	if ph.Step >= len(gps) {
		return fmt.Errorf("internal: stage %s has no phase %d", ph.Stage, ph.Step)
	}
	files, err := gps[ph.Step].Run(ctx, t)
	if err != nil {
		return err
	}
	for _, f := range files {
		rel, err := filepath.Rel(r.dir, f)
		if err != nil || strings.HasPrefix(rel, "..") {
			return fmt.Errorf("stage %s wrote %s outside the run directory", ph.Stage, f)
		}
		o, err := outputFile(r.dir, rel, false)
		if err != nil {
			return err
		}
		m.Outputs = append(m.Outputs, o)
	}
	return nil
}

// shardFile matches a dataset shard name: split, index, count, extension.
var shardFile = regexp.MustCompile(`^(train|validation|test)-([0-9]{5})-of-([0-9]{5})(\..+)$`)

// TaskRunInfo is the manifest's record of a task-mode run.
type TaskRunInfo struct {
	Tasks       int         `json:"tasks"`
	PlanSHA256  string      `json:"plan_sha256"`
	Phases      []PhaseInfo `json:"phases"`
	TaskSeconds float64     `json:"task_seconds"` // summed over every task of every phase
}

// merge builds the run directory from the final pass's task outputs: it links every task's
// dataset shards under their Hub names (data/<lang>/<split>-NNNNN-of-NNNNN.<ext>, in task
// order), merges the rejects into one file, sums the stats and writes stats.json and
// manifest.json last.
func (r *taskRun) merge(ctx context.Context) (*Result, error) {
	k := -1
	for i, ph := range r.plan.Phases {
		if ph.Kind == PhaseInput && ph.Target < 0 {
			k = i
		}
	}
	if k < 0 {
		return nil, errors.New("internal: the plan has no final pass")
	}
	ph := r.plan.Phases[k]
	deps, err := r.deps(k)
	if err != nil {
		return nil, err
	}
	markers := make([]*TaskMarker, ph.Tasks)
	var missing []string
	for t := range markers {
		m, _, err := readMarker(r.dir, ph.Name, t, ph.Tasks)
		if err != nil {
			return nil, err
		}
		if why := markerProblem(r.dir, m, ph.Name, t, ph.Tasks, r.planSHA, deps); why != "" {
			missing = append(missing, fmt.Sprintf("task %d: %s", t, why))
		}
		markers[t] = m
	}
	if len(missing) > 0 {
		return nil, &StartError{Err: fmt.Errorf("cannot merge: phase %s: %s", ph.Name, strings.Join(missing, "; "))}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// From here on the directory is being rebuilt: without manifest.json it does not claim to
	// hold a finished run.
	if err := os.Remove(filepath.Join(r.dir, "manifest.json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	// Every task is done: temporary files of killed tasks and merges can go.
	if err := removeTopTemps(r.dir); err != nil {
		return nil, err
	}
	for _, sub := range []string{"tasks", "work"} {
		if err := removeTemps(filepath.Join(r.dir, sub)); err != nil {
			return nil, err
		}
	}
	type part struct {
		src OutputFile
		ext string
	}
	byLang := map[string][]part{} // by "<lang>/<split>"
	var rejParts []string
	rejName := ""
	for t, m := range markers {
		prefix := path.Join("tasks", ph.Name, taskName(t, ph.Tasks)) + "/"
		for _, o := range m.Outputs {
			rel := strings.TrimPrefix(o.Path, prefix)
			elems := strings.Split(rel, "/")
			switch {
			case len(elems) == 3 && elems[0] == "data":
				sm := shardFile.FindStringSubmatch(elems[2])
				if sm == nil {
					return nil, fmt.Errorf("task %d lists %s, which is not a dataset shard", t, o.Path)
				}
				key := elems[1] + "/" + sm[1]
				byLang[key] = append(byLang[key], part{o, sm[4]})
			case len(elems) == 1 && strings.HasPrefix(rel, "rejects."):
				if rejName != "" && rejName != rel {
					return nil, fmt.Errorf("tasks wrote rejects as %s and %s", rejName, rel)
				}
				rejName = rel
				rejParts = append(rejParts, filepath.Join(r.dir, filepath.FromSlash(o.Path)))
			}
		}
	}
	var files []OutputFile
	keep := map[string]bool{}
	for _, key := range slices.Sorted(maps.Keys(byLang)) {
		parts := byLang[key]
		lang, split, _ := strings.Cut(key, "/")
		ld := filepath.Join(r.dir, "data", lang)
		if err := os.MkdirAll(ld, 0o755); err != nil {
			return nil, err
		}
		for i, p := range parts {
			final := path.Join("data", lang, fmt.Sprintf("%s-%05d-of-%05d%s", split, i, len(parts), p.ext))
			if err := linkOrCopy(filepath.Join(r.dir, filepath.FromSlash(p.src.Path)), filepath.Join(r.dir, filepath.FromSlash(final))); err != nil {
				return nil, fmt.Errorf("merge: %w", err)
			}
			keep[final] = true
			files = append(files, OutputFile{Path: final, Size: p.src.Size, SHA256: p.src.SHA256})
		}
		if err := syncDir(ld); err != nil {
			return nil, err
		}
	}
	if err := removeStaleData(r.dir, keep); err != nil {
		return nil, err
	}
	for _, name := range []string{"rejects.jsonl", "rejects.jsonl.zst", "rejects.parquet"} {
		if name != rejName {
			if err := os.Remove(filepath.Join(r.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
		}
	}
	if rejName != "" {
		if r.opt.MergeRejects == nil {
			return nil, errors.New("merge: no rejects merger configured")
		}
		if err := r.opt.MergeRejects(filepath.Join(r.dir, rejName), rejParts, &r.plan.Rejects); err != nil {
			return nil, fmt.Errorf("merge rejects: %w", err)
		}
		o, err := outputFile(r.dir, rejName, true)
		if err != nil {
			return nil, err
		}
		files = append(files, o)
	}
	if err := syncDir(r.dir); err != nil {
		return nil, err
	}

	st := &Stats{Version: StatsVersion, Langs: map[string]LangStats{}}
	var started time.Time
	for t, m := range markers {
		if m.Stats == nil {
			return nil, fmt.Errorf("merge: task %d of phase %s recorded no stats", t, ph.Name)
		}
		if !m.Stats.Balanced || m.Stats.Read != m.Stats.Kept+m.Stats.Rejected {
			return nil, fmt.Errorf("merge: task %d of phase %s: %w: read %d, kept %d, rejected %d", t, ph.Name, ErrUnbalanced, m.Stats.Read, m.Stats.Kept, m.Stats.Rejected)
		}
		st.Merge(m.Stats)
		st.MergeExtras(m.Stats, r.opt.Registry)
	}
	st.Balanced = st.Read == st.Kept+st.Rejected && st.Rejected == st.RejectedTotal()
	if !st.Balanced {
		return nil, fmt.Errorf("merge: %w: read %d, kept %d, rejected %d (by stage %d)", ErrUnbalanced, st.Read, st.Kept, st.Rejected, st.RejectedTotal())
	}
	info := &TaskRunInfo{Tasks: r.plan.Tasks, PlanSHA256: r.planSHA, Phases: r.plan.Phases}
	for _, p := range r.plan.Phases {
		if p.Kind == PhaseMerge {
			continue
		}
		for t := 0; t < p.Tasks; t++ {
			if m, _, err := readMarker(r.dir, p.Name, t, p.Tasks); err == nil && m != nil {
				info.TaskSeconds += m.Finished.Sub(m.Started).Seconds()
				if started.IsZero() || m.Started.Before(started) {
					started = m.Started
				}
			}
		}
	}
	inputs, err := r.mergeInputs(ctx, markers)
	if err != nil {
		return nil, err
	}
	used := r.mergeUsedFiles()
	canon, _ := json.Marshal(r.plan.ConfigResolved)
	sum := sha256.Sum256(canon)
	man := &Manifest{
		Version: 1, SieveVersion: r.plan.SieveVersion, ConfigFile: r.plan.ConfigFile,
		ConfigText: r.plan.ConfigText, ConfigResolved: r.plan.ConfigResolved, ConfigSHA256: hex.EncodeToString(sum[:]),
		Inputs: inputs, Started: started, Finished: time.Now().UTC(), Workers: r.workers,
		Read: st.Read, Kept: st.Kept, Rejected: st.Rejected, Files: files, Tasks: info,
		UsedFiles: used,
	}
	for _, f := range files {
		man.Outputs = append(man.Outputs, f.Path)
	}
	sort.Strings(man.Outputs)
	if err := WriteJSONFile(filepath.Join(r.dir, "stats.json"), st); err != nil {
		return nil, err
	}
	if err := WriteJSONFile(filepath.Join(r.dir, "manifest.json"), man); err != nil {
		return nil, err
	}
	if err := syncDir(r.dir); err != nil {
		return nil, err
	}
	return &Result{Dir: r.dir, Stats: st, Manifest: man}, nil
}

// mergeUsedFiles hashes the files the stages read, as the plan recorded them. A file whose
// size or modification time changed since planning is listed without a hash, with a warning:
// the tasks may have read either version.
func (r *taskRun) mergeUsedFiles() []UsedFile { // r.cfg is nil for sieve merge
	used := slices.Clone(r.plan.UsedFiles)
	for i := range used {
		f := &used[i]
		fi, err := os.Stat(f.Path)
		if err == nil && fi.Size() == f.Size && fi.ModTime().UnixNano() == f.MTime {
			err = HashUsedFiles(used[i : i+1])
		} else if err == nil {
			err = errors.New("size or modification time changed since planning")
		}
		if err != nil {
			r.logger.Warn("a file a stage reads changed during the run; its sha256 is left out of the manifest", "file", f.Path, "err", err)
		}
		f.MTime = 0
	}
	return used
}

// mergeInputs lists every input file once, with the records all tasks read from it. A file
// read whole has the SHA-256 its task computed. A file split into several units was read
// by several tasks, none of which saw all of it: it is hashed here, which reads it once
// more. When it is gone or its size or modification time are no longer those the run was
// planned with, its sha256 stays empty, with a warning: the bytes there now are not
// necessarily the ones the tasks read.
func (r *taskRun) mergeInputs(ctx context.Context, markers []*TaskMarker) ([]InputFile, error) {
	out, units := mergeInputs(r.plan, markers)
	for i, f := range r.plan.Files {
		if units[i] < 2 {
			continue
		}
		t0 := time.Now()
		sum, why, err := hashInput(ctx, f)
		if err != nil {
			return nil, err
		}
		if why != "" {
			r.logger.Warn("input file not hashed for the manifest", "path", f.Path, "why", why)
			continue
		}
		out[i].SHA256 = sum
		r.logger.Info("hashed a split input file for the manifest", "path", f.Path, "bytes", f.Size, "seconds", time.Since(t0).Seconds())
	}
	return out, nil
}

// hashInput returns the SHA-256 of input file f, or why it was not computed.
func hashInput(ctx context.Context, f InputFileInfo) (sum, why string, err error) {
	osf, err := os.Open(f.Path)
	if err != nil {
		return "", err.Error(), nil
	}
	defer osf.Close()
	fi, err := osf.Stat()
	if err != nil {
		return "", err.Error(), nil
	}
	if fi.Size() != f.Size || fi.ModTime().UnixNano() != f.MTime {
		return "", fmt.Sprintf("it changed since the run was planned (%d bytes, modified %s)", fi.Size(), fi.ModTime().UTC().Format(time.RFC3339)), nil
	}
	h := sha256.New()
	if _, err := io.CopyBuffer(h, ctxReader{ctx, osf}, make([]byte, 1<<20)); err != nil {
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		return "", "", fmt.Errorf("hash input %s: %w", f.Path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), "", nil
}

// ctxReader stops a long read when ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// mergeInputs lists every input file once, with the records all tasks read from it and,
// for a file read as one unit, its checksum; units counts the units of each file.
func mergeInputs(p *RunPlan, markers []*TaskMarker) (out []InputFile, units []int) {
	out = make([]InputFile, len(p.Files))
	units = make([]int, len(p.Files))
	for i, f := range p.Files {
		out[i] = InputFile{Path: f.Path, Format: f.Format, Size: f.Size}
	}
	for _, u := range p.Units {
		units[u.File]++
	}
	idx := map[string]int{}
	for i, f := range p.Files {
		idx[f.Path] = i
	}
	for _, m := range markers {
		for _, in := range m.Inputs {
			i, ok := idx[in.Path]
			if !ok {
				continue
			}
			out[i].Records += in.Records
			out[i].Compression = in.Compression
			if units[i] == 1 {
				out[i].SHA256 = in.SHA256
			}
		}
	}
	return out, units
}

// linkOrCopy makes dst (replacing it) hold the bytes of src: a hard link when the file
// system allows one, otherwise a synced copy, renamed into place in both cases.
func linkOrCopy(src, dst string) error {
	tmp := filepath.Join(filepath.Dir(dst), ".tmp-link-"+filepath.Base(dst))
	_ = os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		if err := copyFile(src, tmp); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if serr := out.Sync(); err == nil {
		err = serr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeStaleData deletes dataset shards under dir/data that are not in keep (earlier runs'),
// and language directories left empty.
func removeStaleData(dir string, keep map[string]bool) error {
	langs, err := os.ReadDir(filepath.Join(dir, "data"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, l := range langs {
		if !l.IsDir() {
			continue
		}
		ld := filepath.Join(dir, "data", l.Name())
		ents, err := os.ReadDir(ld)
		if err != nil {
			return err
		}
		for _, e := range ents {
			rel := path.Join("data", l.Name(), e.Name())
			if e.Type().IsRegular() && (shardFile.MatchString(e.Name()) || strings.HasPrefix(e.Name(), ".tmp-")) && !keep[rel] {
				if err := os.Remove(filepath.Join(ld, e.Name())); err != nil {
					return err
				}
			}
		}
		_ = os.Remove(ld) // only when empty
	}
	return nil
}

// PlanRun computes the plan of a run of n tasks over cfg (see RunPlan) without running
// anything. With write, it stores the plan in the run directory as the first phase's tasks
// would, so that they need not each read the inputs to split them.
func PlanRun(ctx context.Context, cfg *Config, opt Options, n int, split int64, write bool) (*RunPlan, error) {
	if n < 1 {
		return nil, &StartError{Err: errors.New("the task count must be at least 1")}
	}
	r := newTaskRun(cfg, &opt)
	if !write {
		files, err := opt.ListInputs(cfg.Inputs)
		if err != nil {
			return nil, &StartError{Err: err}
		}
		phased, err := phasedStages(cfg, opt.Registry, n, r.workers, r.env)
		if err != nil {
			return nil, &StartError{Err: err}
		}
		phases, err := buildPhases(cfg, phased, n)
		if err != nil {
			return nil, &StartError{Err: err}
		}
		used, err := ListUsedFiles(cfg)
		if err != nil {
			return nil, &StartError{Err: err}
		}
		p, err := makePlan(ctx, cfg, &opt, files, used, n, split)
		if err != nil {
			return nil, &StartError{Err: err}
		}
		p.Phases = phases
		return p, nil
	}
	if err := r.checkDir(); err != nil {
		return nil, err
	}
	if err := r.prepare(ctx, n, split, true); err != nil {
		return nil, err
	}
	return r.plan, nil
}
