// Package report documents a finished sieve run: per-language coverage against the targets
// of the pipeline's coverage section, the dataset card README.md (Hugging Face Hub format),
// report.html with inline SVG charts, and audit samples audit/<lang>.md whose checkbox
// verdicts it reads back. Everything comes from the run directory (stats.json,
// manifest.json, the dataset files and the rejects), so a report can be rebuilt at any time
// without reprocessing the corpus. STATS.md documents the stats.json schema.
package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sieve-data/sieve/pipeline"
)

// Run is a finished run directory as the report reads it.
type Run struct {
	Dir      string
	Stats    *pipeline.Stats
	Manifest *pipeline.Manifest
	Coverage pipeline.Coverage
	Stages   []StageInfo // the configured stages in order ("read" excluded)
	// Data maps each language to its dataset files (relative to Dir, slash-separated) in
	// shard order.
	Data       map[string][]string
	DataFormat string // parquet | jsonl | arrow
	DataExt    string // .parquet | .jsonl | .jsonl.zst | .arrow
	DataShape  string // text | instruction (output.shape of the resolved config)
	DataBytes  map[string]int64
	Rejects    string // the rejects file relative to Dir, "" when the run wrote none
}

// StageInfo is one configured stage with its resolved parameters.
type StageInfo struct {
	Name   string // as in stats.json and the rejects: kind, or kind#N when repeated
	Kind   string
	Params map[string]any
}

// shardName matches the dataset files the sink writes: <split>-NNNNN-of-NNNNN.<ext>.
var shardName = regexp.MustCompile(`^[a-z]+-\d{5}-of-\d{5}\.(parquet|jsonl|jsonl\.zst|arrow)$`)

// LoadRun reads stats.json and manifest.json of a run directory and lists its dataset and
// rejects files. cov, when not nil, replaces the coverage section recorded in the manifest.
// It fails when the files disagree with each other: a dataset file listed in the manifest is
// missing, or data/ holds a dataset file the manifest does not list.
func LoadRun(dir string, cov *pipeline.Coverage) (*Run, error) {
	r := &Run{Dir: dir, Data: map[string][]string{}, DataBytes: map[string]int64{}}
	r.Stats = new(pipeline.Stats)
	if err := readJSON(filepath.Join(dir, "stats.json"), r.Stats); err != nil {
		return nil, err
	}
	if r.Stats.Version != pipeline.StatsVersion {
		return nil, fmt.Errorf("%s: stats version %d; this sieve reads version %d", filepath.Join(dir, "stats.json"), r.Stats.Version, pipeline.StatsVersion)
	}
	if len(r.Stats.Stages) == 0 || r.Stats.Stages[0].Name != "read" {
		return nil, fmt.Errorf("%s: stages must start with \"read\"", filepath.Join(dir, "stats.json"))
	}
	r.Manifest = new(pipeline.Manifest)
	if err := readJSON(filepath.Join(dir, "manifest.json"), r.Manifest); err != nil {
		return nil, err
	}
	if cov != nil {
		r.Coverage = *cov
		if err := checkTokenizer(cov, r.Stats); err != nil {
			return nil, err
		}
	} else {
		c, err := manifestCoverage(r.Manifest)
		if err != nil {
			return nil, fmt.Errorf("%s: coverage: %w", filepath.Join(dir, "manifest.json"), err)
		}
		r.Coverage = c
	}
	if errs := r.Coverage.Validate(); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = "coverage." + e.Field + ": " + e.Msg
		}
		return nil, errors.New(strings.Join(msgs, "; "))
	}
	stages, err := manifestStages(r.Manifest, r.Stats)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	r.Stages = stages
	r.DataShape = manifestShape(r.Manifest)
	if err := r.listFiles(); err != nil {
		return nil, err
	}
	return r, nil
}

// checkTokenizer refuses a coverage section naming another tokenizer than the one the run
// counted tokens with: token counts come from stats.json, and a report cannot recount them
// without reprocessing every kept document.
func checkTokenizer(cov *pipeline.Coverage, st *pipeline.Stats) error {
	if cov.Tokenizer == "" {
		return nil // the run's token figures, exact or estimated, stand as recorded
	}
	if st.Tokenizer == nil {
		return fmt.Errorf("coverage.tokenizer: %s: this run counted no tokens (it ran without coverage.tokenizer), and sieve report does not reprocess the dataset to count them: rerun sieve run with the tokenizer, or drop coverage.tokenizer from the report's config", cov.Tokenizer)
	}
	sum := ""
	if cov.Loaded != nil {
		sum = cov.Loaded.Info.SHA256
	} else {
		data, err := os.ReadFile(cov.Tokenizer)
		if err != nil {
			return fmt.Errorf("coverage.tokenizer: %w", err)
		}
		h := sha256.Sum256(data)
		sum = hex.EncodeToString(h[:])
	}
	if sum != st.Tokenizer.SHA256 {
		return fmt.Errorf("coverage.tokenizer: %s (sha256 %.12s) is not the tokenizer this run counted tokens with, %s (sha256 %.12s), and sieve report does not reprocess the dataset to recount: rerun sieve run with the new tokenizer", cov.Tokenizer, sum, st.Tokenizer.File, st.Tokenizer.SHA256)
	}
	return nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// manifestCoverage decodes the coverage section of the resolved config over the defaults.
// A run made before the section existed gets the defaults.
func manifestCoverage(m *pipeline.Manifest) (pipeline.Coverage, error) {
	c := pipeline.Default().Coverage
	raw, ok := m.ConfigResolved["coverage"]
	if !ok || raw == nil {
		return c, nil
	}
	data, err := yaml.Marshal(raw)
	if err != nil {
		return c, err
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		return c, err
	}
	return c, nil
}

// manifestStages pairs the stages of stats.json with their parameters in the resolved config.
func manifestStages(m *pipeline.Manifest, st *pipeline.Stats) ([]StageInfo, error) {
	var out []StageInfo
	list, _ := m.ConfigResolved["stages"].([]any)
	if len(list) != len(st.Stages)-1 {
		return nil, fmt.Errorf("config lists %d stages, stats.json %d", len(list), len(st.Stages)-1)
	}
	for i, item := range list {
		s := st.Stages[i+1]
		info := StageInfo{Name: s.Name, Kind: s.Kind, Params: map[string]any{}}
		if mm, ok := item.(map[string]any); ok && len(mm) == 1 {
			for kind, p := range mm {
				if kind != s.Kind {
					return nil, fmt.Errorf("stage %d is %q in the config and %q in stats.json", i, kind, s.Kind)
				}
				if pm, ok := p.(map[string]any); ok {
					info.Params = pm
				}
			}
		}
		out = append(out, info)
	}
	return out, nil
}

// listFiles fills Data, DataFormat, DataExt and Rejects from the manifest's outputs and
// checks them against the directory.
func (r *Run) listFiles() error {
	listed := map[string]bool{}
	for _, rel := range r.Manifest.Outputs {
		rel = filepath.ToSlash(rel)
		listed[rel] = true
		full := filepath.Join(r.Dir, filepath.FromSlash(rel))
		fi, err := os.Stat(full)
		if err != nil {
			return fmt.Errorf("manifest.json lists %s: %w", rel, err)
		}
		switch {
		case strings.HasPrefix(rel, "data/"):
			parts := strings.Split(rel, "/")
			if len(parts) != 3 || !shardName.MatchString(parts[2]) {
				return fmt.Errorf("manifest.json lists %s, which is not a dataset file data/<lang>/<split>-NNNNN-of-NNNNN.<ext>", rel)
			}
			ext := path.Ext(parts[2])
			format := "parquet"
			if strings.HasSuffix(parts[2], ".jsonl.zst") {
				ext, format = ".jsonl.zst", "jsonl"
			} else if ext == ".jsonl" {
				format = "jsonl"
			} else if ext == ".arrow" {
				format = "arrow"
			}
			if r.DataExt != "" && r.DataExt != ext {
				return fmt.Errorf("manifest.json lists dataset files with extensions %s and %s", r.DataExt, ext)
			}
			r.DataExt, r.DataFormat = ext, format
			r.Data[parts[1]] = append(r.Data[parts[1]], rel)
			r.DataBytes[parts[1]] += fi.Size()
		case rel == "rejects.jsonl" || rel == "rejects.jsonl.zst" || rel == "rejects.parquet":
			r.Rejects = rel
		}
	}
	for _, files := range r.Data {
		sort.Strings(files)
	}
	// A dataset file the manifest does not list would be loaded by the card's globs.
	found, _ := filepath.Glob(filepath.Join(r.Dir, "data", "*", "*"))
	for _, f := range found {
		rel, _ := filepath.Rel(r.Dir, f)
		rel = filepath.ToSlash(rel)
		if shardName.MatchString(path.Base(rel)) && !listed[rel] {
			return fmt.Errorf("%s is not listed in manifest.json: the data directory holds files of another run", rel)
		}
	}
	return nil
}

// hasStageKind reports whether any configured stage has the given kind.
func (r *Run) hasStageKind(kind string) bool {
	for _, s := range r.Stages {
		if s.Kind == kind {
			return true
		}
	}
	return false
}
