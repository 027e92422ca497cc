package pipeline

import (
	"context"
	"log/slog"
)

// Stage inspects, annotates or rejects one document. A per-document outcome goes in the
// Verdict; a non-nil error means the run cannot go on (I/O, broken model, cancelled ctx).
// Process is never called with a rejected document.
type Stage interface {
	Process(ctx context.Context, doc *Document) (Verdict, error)
	// Close releases resources after the last document. It is called once, also after a
	// failed run.
	Close(ctx context.Context) error
}

// Mode says how the runner may call a stage.
type Mode int

const (
	// Parallel stages are safe for concurrent use and see documents in any order.
	Parallel Mode = iota
	// Ordered stages are called from one goroutine with documents in Seq order (for example
	// dedup that keeps the first document of a cluster).
	Ordered
)

func (m Mode) String() string {
	if m == Ordered {
		return "ordered"
	}
	return "parallel"
}

// Reporter is implemented by stages that record their own figures (replacements made,
// clusters found, memory used). Report is called once after the last document; its result is
// written under stats.stages[i].extra.
type Reporter interface {
	Report() map[string]any
}

// Validator is implemented by stage configs (and other config structs) that check their
// values after decoding. Each FieldError names the YAML key (dot path inside the struct).
type Validator interface {
	Validate() []FieldError
}

// FieldError is a problem with one configuration field.
type FieldError struct {
	Field string // YAML key path inside the validated struct, e.g. "min_words" or "targets.yor_Latn"
	Msg   string // e.g. "must be >= 1, got 0"
}

// Env is what a stage constructor gets besides its own config.
type Env struct {
	Name    string       // stage name as it appears in rejects and stats, e.g. "length"
	BaseDir string       // directory of the config file; relative paths in stage configs are relative to it
	Workers int          // number of workers the run uses
	Logger  *slog.Logger // never nil
}

// Resolve returns path relative to the config's directory unless it is absolute.
func (e *Env) Resolve(path string) string { return resolvePath(e.BaseDir, path) }

// Preparer is implemented by Ordered stages that can do the costly part of their work on
// one document (hashing, signatures) in parallel before Process sees the documents in read
// order. Prepare may keep its result in doc.Scratch, which Process must read and clear.
type Preparer interface {
	Prepare(ctx context.Context, doc *Document) error
}

// prepareStage runs a Preparer's Prepare as a parallel step.
type prepareStage struct{ p Preparer }

func (s prepareStage) Process(ctx context.Context, d *Document) (Verdict, error) {
	return Keep, s.p.Prepare(ctx, d)
}
func (prepareStage) Close(context.Context) error { return nil }

// FileUser is implemented by stage configs that read files other than the inputs: a model,
// word lists, thresholds, templates, evaluation sets. UsedFiles returns their paths as
// written in the config (relative to the config file's directory; a directory stands for
// every file below it, a glob for its matches). The manifest records each file's size and
// sha256 (see UsedFiles), and a task-mode run replans when one changes, as for the inputs.
type FileUser interface {
	UsedFiles() []string
}
