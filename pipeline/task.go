package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// InputFileInfo is one input file of a task-mode run as planned: found by expanding the
// inputs, not read yet.
type InputFileInfo struct {
	Path   string `json:"path"`
	Input  int    `json:"input"`  // index of its entry in Config.Inputs
	Format string `json:"format"` // reader, resolved from auto
	Size   int64  `json:"size"`   // bytes on disk; -1 when not a regular file
	MTime  int64  `json:"mtime_ns"`
}

// InputUnit is a part of the input that one task reads: a whole file, a byte range of an
// uncompressed line-based file that starts at the beginning of a line, or a run of whole
// blocks of a columnar file (row groups of Parquet, record batches of an Arrow IPC file).
type InputUnit struct {
	File  int   `json:"file"`  // index in RunPlan.Files
	Start int64 `json:"start"` // byte offset of the first line or block
	End   int64 `json:"end"`   // offset after the last line or block; -1: the whole file, decompressed
	Line  int64 `json:"line"`  // lines (rows) before Start, so line numbers and ids stay those of the whole file
	// Blocks > 0 makes the unit the blocks Block to Block+Blocks-1 of the file. Start and End
	// are then their byte extent, the file's first unit starting at 0 and its last ending at
	// its size, so that the units of a file cover it.
	Block  int `json:"block,omitempty"`
	Blocks int `json:"blocks,omitempty"`
}

// Whole reports whether the unit is a whole file.
func (u InputUnit) Whole() bool { return u.End < 0 }

// Bytes is the unit's share of the file on disk.
func (u InputUnit) Bytes(files []InputFileInfo) int64 {
	if u.Whole() {
		return max(files[u.File].Size, 0)
	}
	return u.End - u.Start
}

// RunPlan is how a task-mode run is split. It is computed by the first phase's tasks (every
// one computes the same plan) and kept as tasks/plan.json in the run directory, so later
// phases and the merge read the same split, and a rerun knows whether the config or the
// inputs changed.
type RunPlan struct {
	Version      int    `json:"version"`
	SieveVersion string `json:"sieve_version"`
	// ConfigSHA256 is the hash of the resolved config without workers and output.dir, which
	// do not change what a run writes.
	ConfigSHA256   string         `json:"config_sha256"`
	ConfigFile     string         `json:"config_file,omitempty"` // not part of PlanSHA256
	ConfigText     string         `json:"config"`
	ConfigResolved map[string]any `json:"config_resolved"`
	Output         Output         `json:"output"`
	Rejects        Rejects        `json:"rejects"`
	Workers        int            `json:"workers"`

	Tasks      int             `json:"tasks"`       // tasks of every input pass
	SplitBytes int64           `json:"split_bytes"` // as asked (0 = automatic)
	UnitBytes  int64           `json:"unit_bytes"`  // files larger than this were split; 0 = none
	Files      []InputFileInfo `json:"files"`
	// UsedFiles are the files stages read besides the inputs (a model, word lists,
	// evaluation sets), with size and modification time: a change replans the run.
	UsedFiles []UsedFile  `json:"used_files,omitempty"`
	Units     []InputUnit `json:"units"`
	// TaskUnits[t] is the index of task t's first unit; task t reads
	// Units[TaskUnits[t]:TaskUnits[t+1]] (len Tasks+1).
	TaskUnits []int       `json:"task_units"`
	Phases    []PhaseInfo `json:"phases"`
}

const planVersion = 1

// Phase returns the phase called name.
func (p *RunPlan) Phase(name string) (int, *PhaseInfo, bool) {
	for i := range p.Phases {
		if p.Phases[i].Name == name {
			return i, &p.Phases[i], true
		}
	}
	return -1, nil, false
}

// PhaseNames lists the phases in order.
func (p *RunPlan) PhaseNames() []string {
	out := make([]string, len(p.Phases))
	for i, ph := range p.Phases {
		out[i] = ph.Name
	}
	return out
}

// TaskInput returns the units task t reads.
func (p *RunPlan) TaskInput(t int) []InputUnit {
	return p.Units[p.TaskUnits[t]:p.TaskUnits[t+1]]
}

// TaskBytes returns the bytes on disk task t reads.
func (p *RunPlan) TaskBytes(t int) int64 {
	var n int64
	for _, u := range p.TaskInput(t) {
		n += u.Bytes(p.Files)
	}
	return n
}

// sha returns the hash that task markers record: of the plan without ConfigFile, so that
// tasks started with different spellings of the config path agree.
func (p *RunPlan) sha() string {
	q := *p
	q.ConfigFile = ""
	b, _ := json.Marshal(&q)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func planPath(dir string) string { return filepath.Join(dir, "tasks", "plan.json") }

// ReadPlan reads the plan of a task-mode run directory; it returns an error wrapping
// os.ErrNotExist when the directory holds none.
func ReadPlan(dir string) (*RunPlan, error) {
	b, err := os.ReadFile(planPath(dir))
	if err != nil {
		return nil, err
	}
	var p RunPlan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", planPath(dir), err)
	}
	if p.Version != planVersion {
		return nil, fmt.Errorf("%s: plan version %d; this sieve reads version %d", planPath(dir), p.Version, planVersion)
	}
	if len(p.TaskUnits) != p.Tasks+1 || p.Tasks < 1 {
		return nil, fmt.Errorf("%s: %d tasks but %d task boundaries", planPath(dir), p.Tasks, len(p.TaskUnits))
	}
	for t := 0; t < p.Tasks; t++ {
		if p.TaskUnits[t] > p.TaskUnits[t+1] || p.TaskUnits[t+1] > len(p.Units) {
			return nil, fmt.Errorf("%s: bad task boundaries", planPath(dir))
		}
	}
	return &p, nil
}

// taskConfigSHA hashes what decides a task's outputs: the resolved config without workers
// and output.dir, and the sieve version.
func taskConfigSHA(cfg *Config, version string) string {
	m := ResolvedMap(cfg)
	delete(m, "workers")
	if out, ok := m["output"].(map[string]any); ok {
		o := make(map[string]any, len(out))
		for k, v := range out {
			if k != "dir" {
				o[k] = v
			}
		}
		m["output"] = o
	}
	m["sieve_version"] = version
	b, _ := json.Marshal(m)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// DefaultUnitBytes bounds the units of a run of several tasks when SplitBytes is 0: a file
// is split so that each task gets about four units, but no unit is smaller than this.
const DefaultUnitBytes = 64 << 20

// unitTarget is the size above which a file is split.
func unitTarget(files []InputFileInfo, n int, split int64) int64 {
	if split > 0 {
		return split
	}
	if n <= 1 {
		return 0
	}
	var total int64
	for _, f := range files {
		total += max(f.Size, 0)
	}
	return max(total/int64(4*n), DefaultUnitBytes)
}

// assignUnits gives each of n tasks a contiguous run of units, balanced by bytes: a unit
// goes to the task whose share of the total holds the unit's middle byte.
func assignUnits(files []InputFileInfo, units []InputUnit, n int) []int {
	var total int64
	for _, u := range units {
		total += u.Bytes(files)
	}
	bounds := make([]int, n+1)
	var before int64
	t := 0
	for i, u := range units {
		b := u.Bytes(files)
		mid := before + b/2
		owner := 0
		if total > 0 {
			owner = int(min(int64(n-1), mid*int64(n)/total))
		} else {
			owner = min(n-1, i*n/max(len(units), 1))
		}
		for t < owner {
			t++
			bounds[t] = i
		}
		before += b
	}
	for t < n {
		t++
		bounds[t] = len(units)
	}
	return bounds
}

// makePlan computes the plan of a run of n tasks.
func makePlan(ctx context.Context, cfg *Config, opt *Options, files []InputFileInfo, used []UsedFile, n int, split int64) (*RunPlan, error) {
	if opt.SplitInputs == nil {
		return nil, errors.New("task mode: no input splitter configured")
	}
	target := unitTarget(files, n, split)
	units, err := opt.SplitInputs(ctx, files, cfg.Inputs, target)
	if err != nil {
		return nil, err
	}
	resolved := ResolvedMap(cfg)
	p := &RunPlan{
		Version: planVersion, SieveVersion: opt.SieveVersion,
		ConfigSHA256: taskConfigSHA(cfg, opt.SieveVersion), ConfigFile: opt.ConfigFile,
		ConfigText: string(opt.ConfigText), ConfigResolved: resolved,
		Output: cfg.Output, Rejects: cfg.Rejects, Workers: cfg.Workers,
		Tasks: n, SplitBytes: split, UnitBytes: target, Files: files, UsedFiles: used, Units: units,
		TaskUnits: assignUnits(files, units, n),
	}
	// Round-trip the resolved config so it compares equal to a plan read back from disk.
	b, _ := json.Marshal(resolved)
	_ = json.Unmarshal(b, &p.ConfigResolved)
	return p, nil
}

// planMatches reports why a stored plan does not fit a run ("" when it does).
func planMatches(p *RunPlan, cfg *Config, opt *Options, files []InputFileInfo, used []UsedFile, n int, split int64) string {
	switch {
	case p.ConfigSHA256 != taskConfigSHA(cfg, opt.SieveVersion):
		return "the config (or the sieve version) changed"
	case n > 0 && p.Tasks != n:
		return fmt.Sprintf("it was split into %d tasks, not %d", p.Tasks, n)
	case n > 0 && p.SplitBytes != split:
		return fmt.Sprintf("it was split with --split-bytes %d, not %d", p.SplitBytes, split)
	case !slices.Equal(p.Files, files):
		return "the input files changed (list, sizes or modification times)"
	case !slices.Equal(p.UsedFiles, used):
		return "a file a stage reads changed (a model, word list, thresholds or evaluation set)"
	}
	return ""
}

// writePlan stores p unless an identical plan is there already.
func writePlan(dir string, p *RunPlan) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if old, err := os.ReadFile(planPath(dir)); err == nil && bytes.Equal(old, b) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(planPath(dir)), 0o755); err != nil {
		return fmt.Errorf("output dir: %w", err)
	}
	if err := WriteFileAtomic(planPath(dir), b); err != nil {
		return err
	}
	return syncDir(filepath.Dir(planPath(dir)))
}
