package pipeline

import (
	"fmt"

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

	BaseDir string `yaml:"-"` // directory of the config file (set by the loader)
}

// Input is one entry of `inputs`.
type Input struct {
	Path      string `yaml:"path" doc:"file, directory (read recursively) or glob; relative to the config file"`
	Format    string `yaml:"format" doc:"jsonl | text | auto (by extension, after removing .gz/.zst)"`
	TextField string `yaml:"text_field" doc:"JSON field holding the text (jsonl); dotted paths reach into objects"`
	IDField   string `yaml:"id_field" doc:"JSON field holding the id (jsonl); when absent the id is <file>:<line>"`
	TextMode  string `yaml:"text_mode" doc:"text format: file | line | paragraph (blank-line separated)"`
	OnError   string `yaml:"on_error" doc:"per-record problems (bad JSON, invalid UTF-8, empty text, truncated file): reject | fail"`
	// MaxRecordBytes bounds one record (JSON line, text line or file) in bytes; a longer record
	// is rejected (read.record_too_large) without being held in memory.
	MaxRecordBytes int `yaml:"max_record_bytes" doc:"longest record accepted, in bytes; longer ones are rejected"`

	Line int `yaml:"-"` // line of this entry in the config file, for messages
}

// Output says where kept documents go.
type Output struct {
	Dir          string `yaml:"dir" doc:"run directory (created); relative to the current directory"`
	Format       string `yaml:"format" doc:"parquet | jsonl"`
	Compression  string `yaml:"compression" doc:"parquet: zstd | snappy | gzip | none; jsonl: zstd | none"`
	RowGroupSize int    `yaml:"row_group_size" doc:"parquet rows per row group"`
	MaxShardRows int    `yaml:"max_shard_rows" doc:"rows per output file before a new shard starts; 0 = no limit"`
}

// Rejects says where rejected documents go.
type Rejects struct {
	Enabled     bool   `yaml:"enabled" doc:"write rejected documents (they are always counted in stats.json)"`
	Format      string `yaml:"format" doc:"jsonl | parquet"`
	Compression string `yaml:"compression" doc:"as for output"`
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
		Output:    Output{Dir: "out", Format: "parquet", Compression: "zstd", RowGroupSize: 10000},
		Rejects:   Rejects{Enabled: true, Format: "jsonl", Compression: "none"},
		BatchSize: 256,
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
	if !oneOf(o.Compression, "zstd", "snappy", "gzip", "none") {
		errs = append(errs, FieldError{"compression", fmt.Sprintf("must be one of zstd, snappy, gzip, none; got %q", o.Compression)})
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
