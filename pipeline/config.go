package pipeline

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config is a pipeline as written in YAML.
type Config struct {
	Inputs    []Input       `yaml:"inputs" doc:"files, directories or globs to read, in this order"`
	Stages    []StageConfig `yaml:"stages" doc:"ordered list of {kind: params}"`
	Output    Output        `yaml:"output" doc:"where and how kept documents are written"`
	Rejects   Rejects       `yaml:"rejects" doc:"where rejected documents are written"`
	Workers   int           `yaml:"workers" doc:"workers for parallel stages; 0 = number of CPUs"`
	BatchSize int           `yaml:"batch_size" doc:"documents per batch between stages"`
	Coverage  Coverage      `yaml:"coverage" doc:"languages the dataset should cover, and how its card and audit samples are made"`

	BaseDir string `yaml:"-"` // directory of the config file (set by the loader)
}

// Input is one entry of `inputs`.
type Input struct {
	Path      string `yaml:"path" doc:"file, directory (read recursively) or glob; relative to the config file"`
	Format    string `yaml:"format" doc:"jsonl | text | csv | tsv | parquet | arrow | warc | auto (by extension, after removing .gz/.zst)"`
	TextField string `yaml:"text_field" doc:"field holding the text: JSON field (jsonl) or column (csv, tsv, parquet, arrow); dotted paths reach into objects and struct columns"`
	IDField   string `yaml:"id_field" doc:"field or column holding the id (jsonl, csv, tsv, parquet, arrow); when absent the id is <file>:<line>"`
	TextMode  string `yaml:"text_mode" doc:"text format: file | line | paragraph (blank-line separated)"`
	OnError   string `yaml:"on_error" doc:"per-record problems (bad JSON, invalid UTF-8, empty text, truncated file): reject | fail"`
	// MaxRecordBytes bounds one record (JSON line, text line or file) in bytes; a longer record
	// is rejected (read.record_too_large) without being held in memory.
	MaxRecordBytes int `yaml:"max_record_bytes" doc:"longest record accepted, in bytes; longer ones are rejected"`
	// Delimiter, Quoting and Columns shape csv and tsv inputs; HTML says what warc does with
	// HTML pages. Empty means the format's default.
	Delimiter string   `yaml:"delimiter" doc:"csv/tsv field separator, one character; default , for csv and a tab for tsv"`
	Quoting   string   `yaml:"quoting" doc:"csv/tsv quoting: csv (RFC 4180 double quotes, the default) | none (no quoting: a line is a record, split at every delimiter)"`
	Columns   []string `yaml:"columns" doc:"csv/tsv column names for a file without a header row; empty: the first row is the header"`
	HTML      string   `yaml:"html" doc:"warc: what an HTML page becomes: extract (main content, the default) | text (all visible text) | raw (the HTML itself)"`
	// Adapter, Fields, View and Task make instruction records of the input's records (see
	// Instruction and Adapters); text_field is then not used.
	Adapter string            `yaml:"adapter" doc:"instruction records: alpaca | sharegpt | messages | pairs | mapping (jsonl, parquet, arrow, csv, tsv); empty = text records"`
	Fields  map[string]string `yaml:"fields" doc:"adapter: the record's field for each part, e.g. {instruction: q, output: a, lang: lang}; dotted paths reach into objects and lists (answers.0)"`
	View    string            `yaml:"view" doc:"adapter: the text stages judge: all (user and assistant turns, the default) | output (assistant turns) | prompt (user turns)"`
	Task    string            `yaml:"task" doc:"adapter: task label of every record (e.g. qa) unless fields.task names a field holding it"`

	Line int `yaml:"-"` // line of this entry in the config file, for messages
}

// Output says where kept documents go.
type Output struct {
	Dir          string `yaml:"dir" doc:"run directory (created); relative to the current directory"`
	Format       string `yaml:"format" doc:"parquet | jsonl | arrow (Arrow IPC file)"`
	Compression  string `yaml:"compression" doc:"parquet: zstd | snappy | gzip | none; jsonl: zstd | none; arrow: zstd | lz4 | none (none can be memory-mapped)"`
	RowGroupSize int    `yaml:"row_group_size" doc:"parquet rows per row group"`
	MaxShardRows int    `yaml:"max_shard_rows" doc:"rows per output file before a new shard starts; 0 = no limit"`
	Confine      bool   `yaml:"confine" doc:"refuse a dir outside the current directory (symbolic links resolved), so a shared config cannot write elsewhere"`

	// MaxShardBytes bounds a shard by the bytes of its rows' strings, before compression,
	// so a file is at most about that big.
	MaxShardBytes int64 `yaml:"max_shard_bytes" doc:"uncompressed bytes of row data per output file before a new shard starts (the file is smaller); 0 = no limit"`
	// Shape is the record layout: "text" or "instruction" (see Instruction).
	Shape string `yaml:"shape" doc:"columns of the dataset files: text | instruction (messages, instruction, input, output, task, template)"`
	// Splits maps split names to shares; a document goes to a split by a hash of its id.
	Splits map[string]float64 `yaml:"splits" doc:"share of each split, chosen by a hash of the document id: {train: 0.98, validation: 0.01, test: 0.01}; empty = all in train"`
}

// Rejects says where rejected documents go.
type Rejects struct {
	Enabled     bool   `yaml:"enabled" doc:"write rejected documents (they are always counted in stats.json)"`
	Format      string `yaml:"format" doc:"jsonl | parquet"`
	Compression string `yaml:"compression" doc:"as for output"`
}

// Coverage says which languages a dataset is meant to cover and how its documentation (the
// dataset card, report.html and the audit samples) is made. It never changes what a run keeps.
type Coverage struct {
	Default       CoverageTarget            `yaml:"default" doc:"minimums for a targeted language that sets none of its own"`
	Targets       map[string]CoverageTarget `yaml:"targets" doc:"languages to cover, by label (yor_Latn) or ISO code (yo, yor), each {min_docs, min_words}"`
	AuditSamples  int                       `yaml:"audit_samples" doc:"kept and rejected documents sampled per language into audit/<lang>.md; 0 = none"`
	Seed          uint64                    `yaml:"seed" doc:"seed of the audit sampling (same seed and data: same samples)"`
	BytesPerToken float64                   `yaml:"bytes_per_token" doc:"UTF-8 bytes per token for the estimated token counts"`
	License       string                    `yaml:"license" doc:"license of the dataset for its card (a Hub license id such as cc-by-4.0, or other)"`
	PrettyName    string                    `yaml:"pretty_name" doc:"dataset name for its card; empty: the output directory's name"`
	// Tokenizer is a Hugging Face tokenizer.json (resolved against the config file's
	// directory by the loader); when set, kept documents' tokens are counted exactly.
	Tokenizer string `yaml:"tokenizer,omitempty" doc:"Hugging Face tokenizer.json (BPE: Llama 2/3, Mistral, Qwen, Gemma, GPT-2) whose tokens are counted for every kept document, per language, with tokens per word; relative to the config file; empty: tokens are estimated as bytes / bytes_per_token"`
	// Loaded is Tokenizer once loaded (by the loader, or LoadTokenizer).
	Loaded *Tokenizer `yaml:"-"`
}

// CoverageTarget is the minimum size of one language. A zero field means no minimum; in a
// target it means the default's.
type CoverageTarget struct {
	MinDocs  int64 `yaml:"min_docs" doc:"minimum kept documents"`
	MinWords int64 `yaml:"min_words" doc:"minimum kept words"`
	// MinTokens needs coverage.tokenizer: estimated tokens do not decide a target.
	MinTokens int64 `yaml:"min_tokens,omitempty" doc:"minimum kept tokens under coverage.tokenizer (which it needs)"`
}

// Validate checks the coverage section. Target labels are checked for their shape only
// (ISO 639 code, optionally "_" and an ISO 15924 script); the report resolves them.
func (c *Coverage) Validate() []FieldError {
	var errs []FieldError
	check := func(path string, t CoverageTarget) {
		if t.MinDocs < 0 {
			errs = append(errs, FieldError{path + ".min_docs", fmt.Sprintf("must be >= 0, got %d", t.MinDocs)})
		}
		if t.MinWords < 0 {
			errs = append(errs, FieldError{path + ".min_words", fmt.Sprintf("must be >= 0, got %d", t.MinWords)})
		}
		if t.MinTokens < 0 {
			errs = append(errs, FieldError{path + ".min_tokens", fmt.Sprintf("must be >= 0, got %d", t.MinTokens)})
		} else if t.MinTokens > 0 && c.Tokenizer == "" {
			errs = append(errs, FieldError{path + ".min_tokens", "needs coverage.tokenizer: tokens are only counted with a tokenizer (bytes_per_token gives an estimate, which does not decide targets)"})
		}
	}
	check("default", c.Default)
	keys := make([]string, 0, len(c.Targets))
	for k := range c.Targets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !langLabelShape(k) {
			errs = append(errs, FieldError{"targets." + k, fmt.Sprintf("%q is not a language label: want an ISO 639 code with an optional script, like yor_Latn, yor or yo", k)})
			continue
		}
		check("targets."+k, c.Targets[k])
	}
	if c.AuditSamples < 0 || c.AuditSamples > 1000 {
		errs = append(errs, FieldError{"audit_samples", fmt.Sprintf("must be in 0..1000, got %d", c.AuditSamples)})
	}
	if !(c.BytesPerToken >= 0.5 && c.BytesPerToken <= 64) {
		errs = append(errs, FieldError{"bytes_per_token", fmt.Sprintf("must be in 0.5..64, got %v", c.BytesPerToken)})
	}
	if c.License == "" {
		errs = append(errs, FieldError{"license", "required (use unknown or other when no license applies yet)"})
	}
	return errs
}

// langLabelShape reports whether s looks like a language label: 2 or 3 lower-case letters,
// optionally "_" or "-" and 4 letters of a script ("yor_Latn", "yor", "yo", "sr-Latn").
func langLabelShape(s string) bool {
	code, script, hasScript := strings.Cut(strings.ReplaceAll(s, "-", "_"), "_")
	if len(code) < 2 || len(code) > 3 || (hasScript && len(script) != 4) {
		return false
	}
	for _, r := range code + script {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// StageConfig is one entry of `stages`: a single-key mapping from kind to parameters.
type StageConfig struct {
	Kind   string
	Name   string    // unique name used in rejects and stats: the kind, or kind#N when repeated
	Params yaml.Node // the parameter mapping as written (may be zero)
	Line   int       // position of the kind key, for messages
	Column int
	Config any // decoded, validated config (set by the loader)
}

// Default returns a config with every default filled in.
func Default() Config {
	return Config{
		Output:    Output{Dir: "out", Format: "parquet", Compression: "zstd", RowGroupSize: 10000, Shape: "text"},
		Rejects:   Rejects{Enabled: true, Format: "jsonl", Compression: "none"},
		BatchSize: 256,
		Coverage:  Coverage{AuditSamples: 20, Seed: 1, BytesPerToken: 4, License: "unknown"},
	}
}

// DefaultInput returns an input with every default filled in.
func DefaultInput() Input {
	return Input{Format: "auto", TextField: "text", IDField: "id", TextMode: "line", OnError: "reject", MaxRecordBytes: 64 << 20}
}

// Validate checks the values that do not depend on registered formats or stages.
func (in *Input) Validate() []FieldError {
	var errs []FieldError
	if in.Path == "" {
		errs = append(errs, FieldError{"path", "required"})
	}
	if !oneOf(in.TextMode, "file", "line", "paragraph") {
		errs = append(errs, FieldError{"text_mode", fmt.Sprintf("must be one of file, line, paragraph; got %q", in.TextMode)})
	}
	if !oneOf(in.OnError, "reject", "fail") {
		errs = append(errs, FieldError{"on_error", fmt.Sprintf("must be one of reject, fail; got %q", in.OnError)})
	}
	if in.TextField == "" {
		errs = append(errs, FieldError{"text_field", "required"})
	}
	if in.MaxRecordBytes < 1024 || in.MaxRecordBytes > 1<<30 {
		errs = append(errs, FieldError{"max_record_bytes", fmt.Sprintf("must be in 1024..1073741824, got %d", in.MaxRecordBytes)})
	}
	if n := len([]rune(in.Delimiter)); in.Delimiter != "" && (n != 1 || strings.ContainsAny(in.Delimiter, "\"\r\n\uFFFD")) {
		errs = append(errs, FieldError{"delimiter", fmt.Sprintf("must be one character other than a quote, CR or LF; got %q", in.Delimiter)})
	}
	if !oneOf(in.Quoting, "", "csv", "none") {
		errs = append(errs, FieldError{"quoting", fmt.Sprintf("must be one of csv, none; got %q", in.Quoting)})
	}
	if !oneOf(in.HTML, "", "extract", "text", "raw") {
		errs = append(errs, FieldError{"html", fmt.Sprintf("must be one of extract, text, raw; got %q", in.HTML)})
	}
	errs = append(errs, in.validateAdapter()...)
	return errs
}

// Validate checks the output section.
func (o *Output) Validate() []FieldError {
	var errs []FieldError
	if o.Dir == "" {
		errs = append(errs, FieldError{"dir", "required (or pass -o DIR)"})
	}
	if o.RowGroupSize < 1 {
		errs = append(errs, FieldError{"row_group_size", fmt.Sprintf("must be >= 1, got %d", o.RowGroupSize)})
	}
	if o.MaxShardRows < 0 {
		errs = append(errs, FieldError{"max_shard_rows", fmt.Sprintf("must be >= 0, got %d", o.MaxShardRows)})
	}
	if !oneOf(o.Compression, "zstd", "snappy", "gzip", "lz4", "none") {
		errs = append(errs, FieldError{"compression", fmt.Sprintf("must be one of zstd, snappy, gzip, lz4, none; got %q", o.Compression)})
	}
	errs = append(errs, o.validateDataset()...)
	return errs
}

// Validate checks the rejects section.
func (r *Rejects) Validate() []FieldError {
	var errs []FieldError
	if r.Enabled && !oneOf(r.Format, "jsonl", "parquet") {
		errs = append(errs, FieldError{"format", fmt.Sprintf("must be one of jsonl, parquet; got %q", r.Format)})
	}
	if !oneOf(r.Compression, "zstd", "snappy", "gzip", "none") {
		errs = append(errs, FieldError{"compression", fmt.Sprintf("must be one of zstd, snappy, gzip, none; got %q", r.Compression)})
	}
	return errs
}

func oneOf(s string, valid ...string) bool {
	for _, v := range valid {
		if s == v {
			return true
		}
	}
	return false
}
