// Package pipeline owns sieve's core types (Document, Stage, Source, Sink), the stage
// registry, the YAML configuration loader and linter, the concurrent runner and the run
// accounting that proves no document is lost.
package pipeline

import (
	"fmt"
	"strconv"
)

// Position says where a document came from, for rejects and error messages.
type Position struct {
	File   string `json:"file"`
	Line   int64  `json:"line,omitempty"` // 1-based line (or record) number; 0 when not line-based
	Offset int64  `json:"offset"`         // byte offset of the record in the decompressed stream
}

func (p Position) String() string {
	if p.Line > 0 {
		return p.File + ":" + strconv.FormatInt(p.Line, 10)
	}
	return p.File + "@" + strconv.FormatInt(p.Offset, 10)
}

// Rejection records why a document left the pipeline. The zero value means "not rejected".
type Rejection struct {
	Stage  string `json:"stage"`  // stage name as configured, e.g. "length" or "read"
	Reason string `json:"reason"` // stable code "<stage kind>.<why>", e.g. "length.too_short"
	Detail string `json:"detail"` // for people: "12 chars < min 50"
}

// Document is one record flowing through the pipeline. Stages may annotate it; only the
// runner sets Seq and Rejected (from the Verdict a stage returns). Readers may pre-reject a
// record they could not parse (Rejected.Stage == "read") so it is still accounted for.
type Document struct {
	Seq       uint64         // read order across all inputs; makes output independent of worker count
	ID        string         // from the input id field, or "<file base>:<line>" when absent
	Text      string         // the text stages look at
	Origin    Position       // where it was read
	Lang      string         // ISO 639-3 + "_" + ISO 15924, e.g. "yor_Latn"; set by langid
	Script    string         // ISO 15924, e.g. "Latn"; set by langid
	LangScore float64        // confidence of Lang in [0,1]
	Meta      map[string]any // pass-through input fields and stage annotations; may be nil
	Rejected  Rejection      // set once; a rejected document skips every later stage
	// Words is the document's word count for the statistics, set by the runner on a
	// parallel worker after the last stage (a stage that counts words anyway may set it
	// first; the runner then keeps it).
	Words int
	// Tokens is the document's token count under coverage.tokenizer, set by the runner
	// next to Words; 0 when no tokenizer is configured.
	Tokens int
	// Scratch carries a value from a stage's Prepare to its Process (see Preparer); nil
	// between stages.
	Scratch any
	// Instruction, when not nil, makes the document an instruction record (set by an input
	// adapter or a template stage); Text is then a view of it (Instruction.View), which is
	// what stages judge. Nil for a text record.
	Instruction *Instruction
}

// IsRejected reports whether the document has been rejected.
func (d *Document) IsRejected() bool { return d.Rejected.Reason != "" }

// Reject marks d as rejected by stage with reason and detail. The first rejection wins.
func (d *Document) Reject(stage, reason, detail string) {
	if d.Rejected.Reason != "" {
		return
	}
	d.Rejected = Rejection{Stage: stage, Reason: reason, Detail: detail}
}

// SetMeta sets a metadata key, allocating the map on first use.
func (d *Document) SetMeta(key string, v any) {
	if d.Meta == nil {
		d.Meta = make(map[string]any, 4)
	}
	d.Meta[key] = v
}

// Verdict is a stage's decision on one document. The zero value keeps it.
type Verdict struct {
	Reason string // stable "<stage kind>.<why>", e.g. "length.too_short"
	Detail string // for people: "12 chars < min 50"
}

// Keep is the verdict that keeps a document.
var Keep = Verdict{}

// Rejectf builds a rejecting verdict with a formatted detail.
func Rejectf(reason, format string, args ...any) Verdict {
	return Verdict{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Kept reports whether v keeps the document.
func (v Verdict) Kept() bool { return v.Reason == "" }
