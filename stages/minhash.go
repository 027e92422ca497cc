package stages

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"sync"

	"github.com/cespare/xxhash/v2"

	"github.com/sieve-data/sieve/pipeline"
	"github.com/sieve-data/sieve/stages/minhash"
)

// MinhashDedupConfig configures near-duplicate removal with MinHash LSH.
type MinhashDedupConfig struct {
	Shingle     string  `yaml:"shingle" doc:"auto | word | char: auto uses characters for scripts written without spaces (Thai, Lao, Khmer, Myanmar, Tibetan, Han, kana), words otherwise"`
	NGram       int     `yaml:"ngram" doc:"words per shingle"`
	CharNGram   int     `yaml:"char_ngram" doc:"characters per shingle (char mode)"`
	Bands       int     `yaml:"bands" doc:"LSH bands; bands x rows hashes per signature"`
	Rows        int     `yaml:"rows" doc:"hashes per band"`
	Seed        uint64  `yaml:"seed" doc:"seeds the hash permutations; same seed, same result"`
	Threshold   float64 `yaml:"threshold" doc:"target Jaccard similarity: used by verify and by derive_bands"`
	DeriveBands bool    `yaml:"derive_bands" doc:"choose bands and rows (keeping bands x rows hashes) whose S-curve best separates similarities around threshold"`
	Verify      bool    `yaml:"verify" doc:"count a candidate pair only when its estimated Jaccard similarity is >= threshold (fewer false positives, a few more misses)"`
	Scope       string  `yaml:"scope" doc:"global | per_language: whether documents of different languages can be near-duplicates"`
	Keep        string  `yaml:"keep" doc:"first: keep the first document of a cluster in read order (the only choice in streaming mode; longest and max_meta need the sharded phases)"`
	KeepField   string  `yaml:"keep_field" doc:"numeric metadata field whose highest value is kept (keep: max_meta)"`
	Spill       string  `yaml:"spill" doc:"disk | memory: where band keys, signatures and ids of indexed documents live (disk: an unlinked temporary file)"`
	SpillDir    string  `yaml:"spill_dir" doc:"directory for the spill file; empty = the system temporary directory"`
	Mode        string  `yaml:"mode" doc:"auto | streaming | sharded: auto streams in a single-process run and runs the sharded phases (signatures, buckets, clusters, then a filter pass) when the run is split into tasks; sharded always runs the phases"`
}

// DefaultMinhashDedupConfig returns the defaults: 5-word shingles (5 characters for scripts
// written without spaces), 14 bands x 8 rows, keep first, global scope, spill on disk.
func DefaultMinhashDedupConfig() MinhashDedupConfig {
	return MinhashDedupConfig{
		Shingle: "auto", NGram: 5, CharNGram: 5, Bands: 14, Rows: 8, Seed: 1, Threshold: 0.8,
		Scope: "global", Keep: "first", Spill: "disk", Mode: pipeline.ModeAuto,
	}
}

// Validate implements pipeline.Validator.
func (c *MinhashDedupConfig) Validate() []pipeline.FieldError {
	var errs []pipeline.FieldError
	add := func(f, format string, args ...any) {
		errs = append(errs, pipeline.FieldError{Field: f, Msg: fmt.Sprintf(format, args...)})
	}
	if _, err := minhash.ParseShingleMode(c.Shingle); err != nil {
		add("shingle", "%v", err)
	}
	if c.NGram < 1 || c.NGram > 64 {
		add("ngram", "must be in 1..64, got %d", c.NGram)
	}
	if c.CharNGram < 1 || c.CharNGram > 64 {
		add("char_ngram", "must be in 1..64, got %d", c.CharNGram)
	}
	if c.Bands < 1 || c.Bands > 64 {
		add("bands", "must be in 1..64, got %d", c.Bands)
	}
	if c.Rows < 1 || c.Rows > 64 {
		add("rows", "must be in 1..64, got %d", c.Rows)
	}
	if c.Bands*c.Rows > 1024 {
		add("rows", "bands x rows must be <= 1024, got %d", c.Bands*c.Rows)
	}
	if !(c.Threshold > 0 && c.Threshold < 1) {
		add("threshold", "must be in (0, 1), got %v", c.Threshold)
	}
	switch c.Scope {
	case "global", "per_language":
	default:
		add("scope", "must be one of global, per_language; got %q", c.Scope)
	}
	switch c.Keep {
	case "first":
	case "longest", "max_meta":
		if c.Mode != pipeline.ModeSharded {
			add("keep", "%q needs mode: sharded (a streaming pass cannot take back a document it already kept); use first", c.Keep)
		}
		if c.Keep == "max_meta" && c.KeepField == "" {
			add("keep_field", "required with keep: max_meta")
		}
	default:
		add("keep", "must be one of first, longest (mode: sharded), max_meta (mode: sharded); got %q", c.Keep)
	}
	switch c.Mode {
	case pipeline.ModeAuto, pipeline.ModeStreaming, pipeline.ModeSharded:
	default:
		add("mode", "must be one of auto, streaming, sharded; got %q", c.Mode)
	}
	switch c.Spill {
	case "disk", "memory":
	default:
		add("spill", "must be one of disk, memory; got %q", c.Spill)
	}
	return errs
}

// Params returns the MinHash parameters the config asks for.
func (c *MinhashDedupConfig) Params() (minhash.Params, error) {
	if c.DeriveBands {
		return minhash.ParamsForThreshold(c.Threshold, c.Bands*c.Rows, c.Seed)
	}
	p := minhash.Params{Bands: c.Bands, Rows: c.Rows, Seed: c.Seed}
	return p, p.Validate()
}

// Sharded returns the configuration of the sharded phases (minhash.WriteSignatures and the
// rest) equivalent to this stage config, with dir as their work directory. Unlike the
// streaming stage, the phases accept keep longest and max_meta (see MinhashKeepValue).
func (c *MinhashDedupConfig) Sharded(dir string) (minhash.ShardedConfig, error) {
	p, err := c.Params()
	if err != nil {
		return minhash.ShardedConfig{}, err
	}
	so, err := c.ShingleOptions()
	if err != nil {
		return minhash.ShardedConfig{}, err
	}
	sc := minhash.ShardedConfig{Dir: dir, Params: p, Shingle: so, Verify: c.Verify, Threshold: c.Threshold, PerLanguage: c.Scope == "per_language"}
	switch c.Keep {
	case "first":
		sc.Keep = minhash.KeepFirst
	case "longest":
		sc.Keep = minhash.KeepLongest
	case "max_meta":
		if c.KeepField == "" {
			return sc, fmt.Errorf("keep: max_meta needs keep_field")
		}
		sc.Keep = minhash.KeepMaxMeta
	default:
		return sc, fmt.Errorf("keep must be one of first, longest, max_meta; got %q", c.Keep)
	}
	return sc, nil
}

// MinhashKeepValue is the keep value of a document for keep: max_meta: the numeric value
// of its metadata field (a JSON number or a numeric string), or -Inf when absent or not a
// number, so documents without the field are kept last.
func MinhashKeepValue(d *pipeline.Document, field string) float64 {
	switch v := d.Meta[field].(type) {
	case float64:
		return v
	case float32:
		return float64(v)
	case int:
		return float64(v)
	case int64:
		return float64(v)
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return f
		}
	case string:
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	}
	return math.Inf(-1)
}

// ShingleOptions returns the shingling options the config asks for.
func (c *MinhashDedupConfig) ShingleOptions() (minhash.ShingleOptions, error) {
	m, err := minhash.ParseShingleMode(c.Shingle)
	return minhash.ShingleOptions{Mode: m, WordN: c.NGram, CharN: c.CharNGram}, err
}

// MinhashDedup removes near-duplicates in one streaming pass, keeping the first document of
// each cluster in read order. Signatures are computed in parallel (Prepare); the index sees
// documents in read order (Process), so the result does not depend on the worker count.
//
// A kept document gets meta minhash_cluster (its own id: it is its cluster's first
// document) and minhash_cluster_size, the size of its cluster when it was kept, which in a
// keep-first streaming pass is always 1: the final sizes are only known at the end and are
// reported (histogram, largest clusters) in the stage's stats. A removed document goes to
// the rejects with reason minhash_dedup.near_duplicate, the id of the earliest document it
// matched and their estimated Jaccard similarity, and meta minhash_cluster (the id of the
// kept document of its cluster), so the final size of every cluster can be counted from the
// rejects. Documents without any word are kept and not indexed.
type MinhashDedup struct {
	cfg     MinhashDedupConfig
	params  minhash.Params
	hasher  *minhash.Hasher
	shingle minhash.ShingleOptions
	dd      *minhash.Deduper
	signers sync.Pool // *minhash.Signer
	scratch sync.Pool // *mhScratch

	notIndexed int64
	charDocs   int64
	wordDocs   int64
	kept       int64
}

type mhScratch struct {
	sig, keys []uint64
	shingles  int
	char      bool
}

var (
	_ pipeline.Stage     = (*MinhashDedup)(nil)
	_ pipeline.Preparer  = (*MinhashDedup)(nil)
	_ pipeline.Reporter  = (*MinhashDedup)(nil)
	_ pipeline.Validator = (*MinhashDedupConfig)(nil)
)

func init() {
	pipeline.MustRegister("minhash_dedup", pipeline.Spec{
		Summary:       "Removes near-duplicates (MinHash LSH over word or character shingles); keeps the first of each cluster in read order.",
		Example:       "{ngram: 5, bands: 14, rows: 8, scope: global}",
		Mode:          pipeline.Ordered,
		ReportPerTask: true, // figures of one index
		Config:        func() any { c := DefaultMinhashDedupConfig(); return &c },
		New: func(cfg any, env *pipeline.Env) (pipeline.Stage, error) {
			c := *cfg.(*MinhashDedupConfig)
			if c.SpillDir != "" {
				c.SpillDir = env.Resolve(c.SpillDir)
			}
			return NewMinhashDedup(c)
		},
	})
}

// NewMinhashDedup builds the stage. The spill file (spill: disk) is created at once, so a
// bad spill_dir fails before any work.
func NewMinhashDedup(cfg MinhashDedupConfig) (*MinhashDedup, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("minhash_dedup: %s: %s", errs[0].Field, errs[0].Msg)
	}
	if cfg.Keep != "first" {
		return nil, fmt.Errorf("minhash_dedup: keep %q needs the sharded phases; the streaming stage keeps the first document of a cluster", cfg.Keep)
	}
	p, err := cfg.Params()
	if err != nil {
		return nil, fmt.Errorf("minhash_dedup: %w", err)
	}
	so, err := cfg.ShingleOptions()
	if err != nil {
		return nil, fmt.Errorf("minhash_dedup: %w", err)
	}
	h, err := minhash.NewHasher(p)
	if err != nil {
		return nil, fmt.Errorf("minhash_dedup: %w", err)
	}
	dir := ""
	if cfg.Spill == "disk" {
		dir = cfg.SpillDir
		if dir == "" {
			dir = os.TempDir()
		}
	}
	dd, err := minhash.NewDeduper(minhash.DedupOptions{Params: p, Verify: cfg.Verify, Threshold: cfg.Threshold, SpillDir: dir})
	if err != nil {
		return nil, fmt.Errorf("minhash_dedup: %w", err)
	}
	s := &MinhashDedup{cfg: cfg, params: p, hasher: h, shingle: so, dd: dd}
	s.signers.New = func() any { return &minhash.Signer{H: h, Sh: minhash.NewShingler(so)} }
	s.scratch.New = func() any {
		return &mhScratch{sig: make([]uint64, p.NumHashes()), keys: make([]uint64, p.Bands)}
	}
	return s, nil
}

// Prepare computes the document's signature and band keys; it runs in parallel.
func (s *MinhashDedup) Prepare(_ context.Context, d *pipeline.Document) error {
	sg := s.signers.Get().(*minhash.Signer)
	sc := s.scratch.Get().(*mhScratch)
	sc.char = sg.Sh.ModeFor(d.Text, d.Script) == minhash.CharShingles
	sc.shingles = sg.Sign(d.Text, d.Script, sc.sig)
	s.signers.Put(sg)
	var salt uint64
	if s.cfg.Scope == "per_language" {
		salt = xxhash.Sum64String(d.Lang) | 1
	}
	s.hasher.BandKeys(sc.sig, salt, sc.keys)
	d.Scratch = sc
	return nil
}

// Process implements pipeline.Stage; documents arrive in read order.
func (s *MinhashDedup) Process(ctx context.Context, d *pipeline.Document) (pipeline.Verdict, error) {
	sc, ok := d.Scratch.(*mhScratch)
	if !ok {
		if err := s.Prepare(ctx, d); err != nil {
			return pipeline.Keep, err
		}
		sc = d.Scratch.(*mhScratch)
	}
	d.Scratch = nil
	defer s.scratch.Put(sc)
	if sc.char {
		s.charDocs++
	} else {
		s.wordDocs++
	}
	if sc.shingles == 0 {
		s.notIndexed++
		return pipeline.Keep, nil
	}
	m, err := s.dd.Add(d.ID, sc.sig, sc.keys)
	if err != nil {
		return pipeline.Keep, fmt.Errorf("minhash_dedup: %w", err)
	}
	if m.Duplicate {
		d.SetMeta("minhash_cluster", m.ClusterID)
		return pipeline.Rejectf("minhash_dedup.near_duplicate", "near-duplicate of %s (estimated Jaccard %.2f; cluster %s)", m.OfID, m.Similarity, m.ClusterID), nil
	}
	s.kept++
	d.SetMeta("minhash_cluster", d.ID)
	d.SetMeta("minhash_cluster_size", int64(1))
	return pipeline.Keep, nil
}

// Report implements pipeline.Reporter: the deduper's figures, the final cluster size
// histogram and the largest clusters (by the id of their kept document).
func (s *MinhashDedup) Report() map[string]any {
	st := s.dd.Stats()
	hist := map[string]int{}
	type big struct {
		ID   string `json:"id"`
		Size int    `json:"size"`
	}
	var top []big
	var roots []struct {
		root uint32
		size int
	}
	_ = s.dd.Clusters(func(root uint32, size int) error {
		switch {
		case size == 2:
			hist["2"]++
		case size <= 5:
			hist["3-5"]++
		case size <= 10:
			hist["6-10"]++
		case size <= 100:
			hist["11-100"]++
		default:
			hist[">100"]++
		}
		roots = append(roots, struct {
			root uint32
			size int
		}{root, size})
		return nil
	})
	sort.SliceStable(roots, func(i, j int) bool { return roots[i].size > roots[j].size })
	for _, r := range roots[:min(10, len(roots))] {
		id, err := s.dd.ID(r.root)
		if err != nil {
			id = fmt.Sprintf("#%d", r.root)
		}
		top = append(top, big{id, r.size})
	}
	return map[string]any{
		"bands": s.params.Bands, "rows": s.params.Rows, "seed": s.params.Seed,
		"shingle": s.shingle.Mode.String(), "ngram": s.shingle.WordN, "char_ngram": s.shingle.CharN,
		"docs_indexed": st.Docs, "docs_not_indexed": s.notIndexed,
		"docs_char_shingles": s.charDocs, "docs_word_shingles": s.wordDocs,
		"kept": s.kept, "near_duplicates": st.Duplicates,
		"clusters": st.Clusters, "largest_cluster": st.LargestCluster,
		"cluster_size_histogram": hist, "largest_clusters": top,
		"candidate_pairs": st.CandidatePairs, "refused_by_verification": st.RefusedByVerify,
		"index_entries": st.IndexEntries, "index_bytes": st.IndexBytes,
		"index_bytes_per_doc": st.IndexBytesPerDoc, "cluster_bytes_estimate": st.ClusterBytes,
		"spill_bytes": st.SpillBytes, "spill_in_memory": st.SpillInMemory, "index_rebuilds": st.Rebuilds,
	}
}

// Close implements pipeline.Stage; it releases the spill.
func (s *MinhashDedup) Close(context.Context) error { return s.dd.Close() }
