package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// Execution modes a PhasedConfig can ask for.
const (
	// ModeAuto streams in a single-process run and runs as phases when the run is split into
	// more than one task.
	ModeAuto = "auto"
	// ModeStreaming always streams: the stage sees the documents of one task only, so a run
	// of several tasks refuses it.
	ModeStreaming = "streaming"
	// ModeSharded always runs as phases, also in a single process (for corpora whose index
	// does not fit in memory, or to get what only the phases can do, such as keep: longest).
	ModeSharded = "sharded"
)

// PhasedConfig is implemented by the config of a stage that needs to see every document of
// a run (deduplication) and can do so as phases that exchange files through a work
// directory, each phase split into tasks (see RunTask). The streaming stage built by the
// stage's Spec.New is used when the run does not need the phases.
type PhasedConfig interface {
	// ExecMode returns ModeAuto, ModeStreaming or ModeSharded.
	ExecMode() string
	// Phased returns the stage's phases for a run whose work directory for this stage is
	// dir (shared by every task of the run; created by the phases as needed).
	Phased(env *Env, dir string) (Phased, error)
}

// Phased runs a stage with a global view as phases. A run with such a stage reads its input
// more than once: a shard pass per phased stage, then the pass that writes the dataset, in
// which the stage is replaced by its Filter. Each input pass runs as N tasks; task i reads
// the same part of the input every time and is shard i of the stage.
type Phased interface {
	// ShardPhase names the input pass that feeds WriteShard, e.g. "signatures".
	ShardPhase() string
	// WriteShard is the stage's part of its shard pass for shard `shard`: run calls emit,
	// in read order, for every document of the shard that reaches the stage, and returns
	// the run's error. WriteShard returns the files it wrote (absolute paths).
	WriteShard(ctx context.Context, shard int, run func(emit func(*Document) error) error) ([]string, error)
	// Phases lists the phases between the shard pass and the filter pass for a run of
	// `shards` shards; tasks is the run's task count, a hint for how far to split them.
	Phases(shards, tasks int) []GlobalPhase
	// Filter returns the stage that stands for this one in later input passes over shard
	// `shard`: it is called from one goroutine with the shard's documents in the order
	// WriteShard saw them, and decides each from the phases' results.
	Filter(shard int) (Stage, error)
}

// ShardPreparer is implemented by Phased stages whose shard pass has costly work per
// document (hashing, signatures) that can run on the workers before WriteShard sees the
// documents in read order. PrepareShard may leave its result in doc.Scratch, which the
// emit of WriteShard then finds.
type ShardPreparer interface {
	PrepareShard(ctx context.Context, doc *Document) error
}

// shardPrepareStage runs a ShardPreparer as a parallel step.
type shardPrepareStage struct{ p ShardPreparer }

func (s shardPrepareStage) Process(ctx context.Context, d *Document) (Verdict, error) {
	return Keep, s.p.PrepareShard(ctx, d)
}
func (shardPrepareStage) Close(context.Context) error { return nil }

// GlobalPhase is a phase of a Phased stage that does not read the input.
type GlobalPhase struct {
	Name  string // unique among the stage's phases, e.g. "buckets"
	Tasks int    // >= 1
	// Run runs task `task` of Tasks and returns the files it wrote (absolute paths). It
	// may run at the same time as the phase's other tasks, in other processes.
	Run func(ctx context.Context, task int) ([]string, error)
}

// PhaseKind says what a phase does.
type PhaseKind string

const (
	PhaseInput  PhaseKind = "input"  // reads the input, split across the run's tasks
	PhaseGlobal PhaseKind = "global" // works on the files of earlier phases
	PhaseMerge  PhaseKind = "merge"  // one task: builds the run directory from the tasks' outputs
)

// PhaseMergeName is the name of the last phase of every task-mode run.
const PhaseMergeName = "merge"

// PhaseInfo describes one phase of a task-mode run, as `sieve plan` prints it.
type PhaseInfo struct {
	Name  string    `json:"name"`
	Kind  PhaseKind `json:"kind"`
	Tasks int       `json:"tasks"`
	// Stage is the phased stage the phase works for (input passes: the stage whose shards
	// it writes; empty for the pass that writes the dataset and for merge).
	Stage string `json:"stage,omitempty"`
	// Target is the index in the config's stages of that stage, -1 when none.
	Target int `json:"target"`
	// Step is the index of a global phase in its stage's Phases list.
	Step int `json:"step,omitempty"`
}

// phasedStages decides which stages run as phases in a run of n tasks and builds them.
// Ordered stages that cannot run as phases are refused when n > 1: they would only see
// their own task's documents.
func phasedStages(cfg *Config, reg *Registry, n, workers int, env func(sc *StageConfig) *Env) (map[int]Phased, error) {
	out := map[int]Phased{}
	for i := range cfg.Stages {
		sc := &cfg.Stages[i]
		spec, ok := reg.Lookup(sc.Kind)
		if !ok {
			return nil, fmt.Errorf("stage %s: unknown kind", sc.Kind)
		}
		c := sc.Config
		if c == nil {
			c = spec.Config()
		}
		pc, ok := c.(PhasedConfig)
		if !ok {
			if spec.Mode == Ordered && n > 1 {
				return nil, fmt.Errorf("stage %s%s sees documents in read order across the whole run and cannot run split into %d tasks; run it in one process", sc.Name, lineSuffix(sc.Line), n)
			}
			continue
		}
		mode := pc.ExecMode()
		switch {
		case mode == ModeSharded || mode == ModeAuto && n > 1:
		case mode == ModeStreaming && n > 1:
			return nil, fmt.Errorf("stage %s%s has mode: streaming, which would only see the documents of one of the %d tasks; use mode: sharded or auto", sc.Name, lineSuffix(sc.Line), n)
		default:
			continue
		}
		p, err := pc.Phased(env(sc), filepath.Join(cfg.Output.Dir, "work", sc.Name))
		if err != nil {
			return nil, fmt.Errorf("stage %s%s: %w", sc.Name, lineSuffix(sc.Line), err)
		}
		out[i] = p
	}
	return out, nil
}

func lineSuffix(line int) string {
	if line > 0 {
		return fmt.Sprintf(" (line %d)", line)
	}
	return ""
}

// HasShardedStage reports whether a single-process run of cfg runs as phases: some stage
// asks for mode: sharded.
func HasShardedStage(cfg *Config, reg *Registry) bool {
	for i := range cfg.Stages {
		c := cfg.Stages[i].Config
		if c == nil {
			if spec, ok := reg.Lookup(cfg.Stages[i].Kind); ok {
				c = spec.Config()
			}
		}
		if pc, ok := c.(PhasedConfig); ok && pc.ExecMode() == ModeSharded {
			return true
		}
	}
	return false
}

// buildPhases lists the phases of a run of n tasks over cfg, given its phased stages.
func buildPhases(cfg *Config, phased map[int]Phased, n int) ([]PhaseInfo, error) {
	var targets []int
	for i := range cfg.Stages {
		if _, ok := phased[i]; ok {
			targets = append(targets, i)
		}
	}
	qualify := len(targets) > 1
	name := func(stage, phase string) string {
		if qualify {
			return stage + "." + phase
		}
		return phase
	}
	var out []PhaseInfo
	for _, ti := range targets {
		p := phased[ti]
		sname := cfg.Stages[ti].Name
		out = append(out, PhaseInfo{Name: name(sname, p.ShardPhase()), Kind: PhaseInput, Tasks: n, Stage: sname, Target: ti})
		for step, gp := range p.Phases(n, n) {
			if gp.Tasks < 1 {
				return nil, fmt.Errorf("stage %s: phase %s has %d tasks", sname, gp.Name, gp.Tasks)
			}
			out = append(out, PhaseInfo{Name: name(sname, gp.Name), Kind: PhaseGlobal, Tasks: gp.Tasks, Stage: sname, Target: ti, Step: step})
		}
	}
	final := "process"
	if len(targets) > 0 {
		final = "filter"
	}
	out = append(out, PhaseInfo{Name: final, Kind: PhaseInput, Tasks: n, Target: -1})
	out = append(out, PhaseInfo{Name: PhaseMergeName, Kind: PhaseMerge, Tasks: 1, Target: -1})
	seen := map[string]bool{}
	for _, ph := range out {
		if seen[ph.Name] || strings.ContainsAny(ph.Name, "/\\ ") {
			return nil, fmt.Errorf("phase name %q is repeated or not usable in a path", ph.Name)
		}
		seen[ph.Name] = true
	}
	return out, nil
}
