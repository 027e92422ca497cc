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
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// InputFile is one input file as recorded in the manifest.
type InputFile struct {
	Path        string `json:"path"`
	Format      string `json:"format"`
	Compression string `json:"compression"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"` // of the bytes on disk
	Records     int64  `json:"records"`
}

// InputRecorder is implemented by sources that can list the files they read, with their
// checksums, once reading is done.
type InputRecorder interface {
	InputFiles() []InputFile
}

// Manifest records how a run directory was made. It is written as manifest.json.
type Manifest struct {
	Version        int            `json:"version"`
	SieveVersion   string         `json:"sieve_version"`
	ConfigFile     string         `json:"config_file,omitempty"`
	ConfigText     string         `json:"config"`          // as given
	ConfigResolved map[string]any `json:"config_resolved"` // with every default filled in
	ConfigSHA256   string         `json:"config_sha256"`   // of the resolved config, as canonical JSON
	Inputs         []InputFile    `json:"inputs"`
	// UsedFiles are the files stages read besides the inputs (a fastText model, word lists,
	// thresholds, templates, evaluation sets, the tokenizer), with size and sha256.
	UsedFiles []UsedFile `json:"used_files,omitempty"`
	Outputs   []string   `json:"outputs"` // files relative to the run directory
	// Files lists every output file with its size and SHA-256 (sieve verify checks them).
	Files    []OutputFile `json:"files,omitempty"`
	Started  time.Time    `json:"started"`
	Finished time.Time    `json:"finished"`
	Workers  int          `json:"workers"`
	Read     int64        `json:"read"`
	Kept     int64        `json:"kept"`
	Rejected int64        `json:"rejected"`
	// Tasks describes how a task-mode run was split; nil for a single-process run.
	Tasks *TaskRunInfo `json:"tasks,omitempty"`
}

// StartError is an error found before any document was read: a missing input, a stage
// that cannot start (missing model or word list). The CLI reports it as a usage error.
type StartError struct{ Err error }

func (e *StartError) Error() string { return e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// Options wire a run to the readers, writers and stages it uses, so this package depends on
// none of them.
type Options struct {
	Registry *Registry
	// OpenInputs expands the configured inputs to files and opens them as one source. It
	// fails before any work when a path is missing. When the source implements InputRecorder,
	// its files are listed in the manifest.
	OpenInputs func(ctx context.Context, ins []Input) (Source, error)
	// NewRejects creates the rejects sink under dir.
	NewRejects   func(dir string, r *Rejects) (Sink, error)
	SieveVersion string
	ConfigFile   string
	ConfigText   []byte
	Logger       *slog.Logger
	CountWords   func(string) int
	OnProgress   func(Progress)

	// Task mode (RunTask, RunTasks, Merge). ListInputs expands the inputs to files with
	// their sizes and modification times, without reading them. SplitInputs cuts them into
	// units: files larger than target bytes (target > 0) into byte ranges starting at line
	// starts, or runs of whole row groups or record batches, where the format allows, others
	// whole. OpenUnits opens units as one source, in
	// order; when it implements InputRecorder it lists one entry per unit. MergeRejects
	// writes the rejects files parts, in order, as the one file dst.
	ListInputs   func(ins []Input) ([]InputFileInfo, error)
	SplitInputs  func(ctx context.Context, files []InputFileInfo, ins []Input, target int64) ([]InputUnit, error)
	OpenUnits    func(ctx context.Context, files []InputFileInfo, units []InputUnit, ins []Input) (Source, error)
	MergeRejects func(dst string, parts []string, r *Rejects) error
	// CountRows counts the records of a dataset or rejects file, for Verify.
	CountRows func(path string) (int64, error)
}

// Result is what Execute returns.
type Result struct {
	Dir      string
	Stats    *Stats
	Manifest *Manifest
}

// Execute runs a loaded configuration end to end: it builds every stage (failing before any
// work if one cannot start), opens the inputs, runs, and writes stats.json and manifest.json
// into the output directory.
func Execute(ctx context.Context, cfg *Config, opt Options) (*Result, error) {
	started := time.Now().UTC()
	logger := opt.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if len(cfg.Inputs) == 0 {
		return nil, errors.New("no inputs: give inputs in the config or as arguments")
	}
	if err := CheckConfined(cfg); err != nil {
		return nil, &StartError{Err: err}
	}
	if opt.Registry != nil && HasShardedStage(cfg, opt.Registry) {
		// A stage runs as phases: one task of each, resumable like any task-mode run.
		res, _, err := RunTasks(ctx, cfg, opt, 1, 0)
		return res, err
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	dir := cfg.Output.Dir
	src, err := opt.OpenInputs(ctx, cfg.Inputs)
	if err != nil {
		return nil, &StartError{Err: err}
	}
	defer src.Close()
	if err := prepareRunDir(dir); err != nil {
		return nil, err
	}
	tok, err := cfg.Coverage.LoadTokenizer()
	if err != nil {
		return nil, &StartError{Err: fmt.Errorf("coverage.tokenizer: %w", err)}
	}
	used, err := ListUsedFiles(cfg)
	if err == nil {
		err = HashUsedFiles(used)
	}
	if err != nil {
		return nil, &StartError{Err: err}
	}
	for i := range used {
		used[i].MTime = 0
	}
	stages, err := BuildStages(cfg, opt.Registry, workers, logger)
	if err != nil {
		return nil, &StartError{Err: err}
	}
	closeStages := func() {
		for _, s := range stages {
			_ = s.Stage.Close(ctx)
		}
	}

	wf, ok := LookupWriter(cfg.Output.Format)
	if !ok {
		closeStages()
		return nil, fmt.Errorf("output: unknown format %q", cfg.Output.Format)
	}
	out, err := wf(dir, &cfg.Output)
	if err != nil {
		closeStages()
		return nil, fmt.Errorf("output: %w", err)
	}
	var rej Sink
	if cfg.Rejects.Enabled && opt.NewRejects != nil {
		if rej, err = opt.NewRejects(dir, &cfg.Rejects); err != nil {
			_ = out.Abort()
			closeStages()
			return nil, fmt.Errorf("rejects: %w", err)
		}
	}
	plan := &Plan{
		Source: src, Stages: stages, Output: out, Rejects: rej,
		Workers: workers, BatchSize: cfg.BatchSize, CountWords: opt.CountWords,
		OnProgress: opt.OnProgress, Tokenizer: tok,
	}
	st, err := Run(ctx, plan)
	if err != nil {
		return &Result{Dir: dir, Stats: st}, err
	}
	var inputs []InputFile
	if rec, ok := src.(InputRecorder); ok {
		inputs = rec.InputFiles()
	}
	resolved := ResolvedMap(cfg)
	canon, _ := json.Marshal(resolved)
	sum := sha256.Sum256(canon)
	m := &Manifest{
		Version: 1, SieveVersion: opt.SieveVersion, ConfigFile: opt.ConfigFile,
		ConfigText: string(opt.ConfigText), ConfigResolved: resolved, ConfigSHA256: hex.EncodeToString(sum[:]),
		Inputs: inputs, UsedFiles: used, Started: started, Finished: time.Now().UTC(), Workers: workers,
		Read: st.Read, Kept: st.Kept, Rejected: st.Rejected,
	}
	if sf, ok := out.(SinkFiles); ok {
		m.Outputs = append(m.Outputs, sf.Files()...)
	}
	if sf, ok := rej.(SinkFiles); ok && rej != nil {
		m.Outputs = append(m.Outputs, sf.Files()...)
	}
	sort.Strings(m.Outputs)
	for _, rel := range m.Outputs {
		o, err := outputFile(dir, rel, true)
		if err != nil {
			return nil, fmt.Errorf("checksum of %s: %w", rel, err)
		}
		m.Files = append(m.Files, o)
	}
	if err := WriteJSONFile(filepath.Join(dir, "stats.json"), st); err != nil {
		return nil, err
	}
	if err := WriteJSONFile(filepath.Join(dir, "manifest.json"), m); err != nil {
		return nil, err
	}
	return &Result{Dir: dir, Stats: st, Manifest: m}, nil
}

// BuildStages constructs every configured stage. On error the stages built so far are
// closed and the error names the stage and its config line.
func BuildStages(cfg *Config, reg *Registry, workers int, logger *slog.Logger) ([]StageInstance, error) {
	var out []StageInstance
	for i := range cfg.Stages {
		si, err := buildStage(&cfg.Stages[i], cfg, reg, workers, logger)
		if err != nil {
			for _, b := range out {
				_ = b.Stage.Close(context.Background())
			}
			return nil, err
		}
		out = append(out, si)
	}
	return out, nil
}

// buildStage constructs one configured stage (its streaming form).
func buildStage(sc *StageConfig, cfg *Config, reg *Registry, workers int, logger *slog.Logger) (StageInstance, error) {
	spec, ok := reg.Lookup(sc.Kind)
	if !ok {
		return StageInstance{}, fmt.Errorf("stage %s: unknown kind", sc.Kind)
	}
	c := sc.Config
	if c == nil {
		c = spec.Config()
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	env := &Env{Name: sc.Name, BaseDir: cfg.BaseDir, Workers: workers, Logger: logger.With("stage", sc.Name)}
	s, err := spec.New(c, env)
	if err != nil {
		return StageInstance{}, fmt.Errorf("stage %s%s: %w", sc.Name, lineSuffix(sc.Line), err)
	}
	return StageInstance{Name: sc.Name, Kind: sc.Kind, Mode: spec.Mode, Stage: s}, nil
}

// runFiles are the names a run directory may hold at its top level.
var runFiles = []string{"data", "stats.json", "manifest.json", "rejects.jsonl", "rejects.jsonl.zst", "rejects.parquet", "README.md", "report.html", "audit", "tasks", "work"}

// auditDir holds the audit files a report writes. A rerun leaves it in place: reviewers'
// verdicts in it outlive the run, and the report of the rerun carries them over (or keeps
// them aside) only once the rerun has finished.
const auditDir = "audit"

// prepareRunDir creates dir, or clears the outputs of an earlier run in it (finished,
// failed or killed), but for the audit directory. It refuses a non-empty directory that is
// not a sieve run directory, so a typo cannot delete data.
func prepareRunDir(dir string) error {
	if err := checkRunDir(dir); err != nil {
		return err
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return fmt.Errorf("output dir: %w", err)
	}
	for _, e := range ents {
		if e.Name() == auditDir && e.IsDir() {
			continue
		}
		if slices.Contains(runFiles, e.Name()) || strings.HasPrefix(e.Name(), ".tmp-") {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("output dir: clear earlier run: %w", err)
			}
		}
	}
	return nil
}

// checkRunDir accepts a missing or empty directory and a sieve run directory: one holding
// manifest.json or tasks/plan.json, or only what a killed run leaves (run files, dataset
// shards and hidden temporary files). Anything else is refused.
func checkRunDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) || err == nil && len(ents) == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output dir: %w", err)
	}
	for _, marker := range []string{"manifest.json", filepath.Join("tasks", "plan.json")} {
		if _, err := os.Stat(filepath.Join(dir, marker)); err == nil {
			return nil
		}
	}
	refuse := fmt.Errorf("output dir %s is not empty and holds no manifest.json from an earlier sieve run; choose another directory or empty it", dir)
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, ".tmp-") && e.Type().IsRegular():
		case name == "data" && e.IsDir():
			if !onlyDatasetFiles(filepath.Join(dir, name)) {
				return refuse
			}
		case name == "tasks" || name == "work":
			// a task-mode run killed before it wrote its plan holds nothing else of value
		case name == auditDir && e.IsDir():
			// what an interrupted rerun keeps of the earlier run: its audit files
			if !onlyAuditFiles(filepath.Join(dir, name)) {
				return refuse
			}
		case slices.Contains(runFiles, name) && e.Type().IsRegular():
		default:
			return refuse
		}
	}
	return nil
}

// onlyAuditFiles reports whether dir holds only Markdown files and temporary files, and
// at most a directory "previous" of the same.
func onlyAuditFiles(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		name := e.Name()
		switch {
		case e.IsDir() && name == "previous" && filepath.Base(dir) == auditDir:
			if !onlyAuditFiles(filepath.Join(dir, name)) {
				return false
			}
		case e.Type().IsRegular() && (strings.HasSuffix(name, ".md") || strings.HasPrefix(name, ".tmp-")):
		default:
			return false
		}
	}
	return true
}

// onlyDatasetFiles reports whether data holds only language directories of dataset shards
// and temporary files.
func onlyDatasetFiles(data string) bool {
	langs, err := os.ReadDir(data)
	if err != nil {
		return false
	}
	for _, l := range langs {
		if !l.IsDir() {
			return false
		}
		files, err := os.ReadDir(filepath.Join(data, l.Name()))
		if err != nil {
			return false
		}
		for _, f := range files {
			if !f.Type().IsRegular() || !(shardFile.MatchString(f.Name()) || strings.HasPrefix(f.Name(), ".tmp-")) {
				return false
			}
		}
	}
	return true
}

// CheckConfined enforces output.confine: the run directory must lie inside the current
// directory once symbolic links are resolved, so a config cannot write elsewhere.
func CheckConfined(cfg *Config) error {
	if cfg == nil || !cfg.Output.Confine {
		return nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(wd); err == nil {
		wd = real
	}
	abs, err := filepath.Abs(cfg.Output.Dir)
	if err != nil {
		return err
	}
	// Resolve the longest existing prefix: a link inside the tree may point out of it.
	rest := ""
	p := abs
	for {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = filepath.Join(real, rest)
			break
		}
		parent := filepath.Dir(p)
		if parent == p {
			p = filepath.Join(p, rest)
			break
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
	rel, err := filepath.Rel(wd, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return fmt.Errorf("output.dir %s is outside the current directory %s, and output.confine is set", cfg.Output.Dir, wd)
	}
	if rel == "." {
		return fmt.Errorf("output.dir %s is the current directory itself; with output.confine, give a directory inside it", cfg.Output.Dir)
	}
	return nil
}

// WriteJSONFile writes v as indented JSON under a temporary name, syncs and renames it.
func WriteJSONFile(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	data = append(data, '\n')
	return WriteFileAtomic(path, data)
}

// WriteFileAtomic writes data to path through a synced temporary file and a rename, so the
// file is either absent, old, or complete.
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(name)
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return err
	}
	return nil
}

// ResolvedMap returns the configuration with every default filled in, as plain maps and
// lists (stage configs by their yaml tags), for the manifest and `sieve config`.
func ResolvedMap(cfg *Config) map[string]any {
	stages := make([]any, 0, len(cfg.Stages))
	for _, s := range cfg.Stages {
		stages = append(stages, map[string]any{s.Kind: toPlain(s.Config)})
	}
	inputs := make([]any, 0, len(cfg.Inputs))
	for i := range cfg.Inputs {
		inputs = append(inputs, toPlain(&cfg.Inputs[i]))
	}
	return map[string]any{
		"inputs":     inputs,
		"stages":     stages,
		"output":     toPlain(&cfg.Output),
		"rejects":    toPlain(&cfg.Rejects),
		"coverage":   toPlain(&cfg.Coverage),
		"workers":    cfg.Workers,
		"batch_size": cfg.BatchSize,
	}
}

// toPlain converts a struct to maps through its yaml tags.
func toPlain(v any) any {
	if v == nil {
		return map[string]any{}
	}
	data, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	var out any
	if err := yaml.Unmarshal(data, &out); err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	if out == nil {
		return map[string]any{}
	}
	return out
}
