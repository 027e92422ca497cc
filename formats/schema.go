package formats

import (
	"fmt"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sieve-data/sieve/pipeline"
)

// UndeterminedLang is the language written for documents whose Lang is empty (no langid
// stage ran, or it could not decide): ISO 639-3 "und".
const UndeterminedLang = "und"

// DatasetLang returns the language a kept document is filed under: doc.Lang, or
// UndeterminedLang when that is empty. It is both the value of the lang column and the
// <lang> directory of the Hub layout.
func DatasetLang(doc *pipeline.Document) string {
	if doc.Lang == "" {
		return UndeterminedLang
	}
	return doc.Lang
}

// TextSchema is the Arrow schema of text records (the kept documents of a run):
//
//	id          string   document id
//	text        string   document text
//	lang        string   ISO 639-3 + "_" + ISO 15924 (e.g. "yor_Latn"), "und" when unknown; dictionary-encoded
//	script      string   ISO 15924 (e.g. "Latn"), "" when unknown; dictionary-encoded
//	lang_score  double   confidence of lang in [0,1], 0 when unknown
//	source      string   the input file the document was read from, as the reader named it; dictionary-encoded
//	metadata    string   doc.Meta as canonical JSON (keys sorted at every level, no HTML escaping);
//	                     "{}" when the document has no metadata, never null
//
// Every column is required (never null), and uses only plain Parquet types (BYTE_ARRAY
// with the STRING annotation, DOUBLE) so that DuckDB, pyarrow and Hugging Face datasets
// read the files as they are. Strings that are not valid UTF-8 are written with each
// invalid byte replaced by U+FFFD, in Parquet and JSONL alike.
func TextSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String},
		{Name: "text", Type: arrow.BinaryTypes.String},
		{Name: "lang", Type: arrow.BinaryTypes.String},
		{Name: "script", Type: arrow.BinaryTypes.String},
		{Name: "lang_score", Type: arrow.PrimitiveTypes.Float64},
		{Name: "source", Type: arrow.BinaryTypes.String},
		{Name: "metadata", Type: arrow.BinaryTypes.String},
	}, nil)
}

// RejectSchema is the Arrow schema of rejected documents:
//
//	id      string  document id
//	stage   string  stage name that rejected it ("read" for unparsable input); dictionary-encoded
//	reason  string  stable reason code, e.g. "length.too_short"; dictionary-encoded
//	detail  string  human explanation, e.g. "12 chars < min 50"
//	file    string  input file; dictionary-encoded
//	line    int64   1-based line (or record) number, 0 when the input is not line-based
//	offset  int64   byte offset of the record in the decompressed input
//	lang    string  doc.Lang as it was when rejected ("" when langid had not run); dictionary-encoded
//	text    string  document text
//
// As for TextSchema, every column is required and plain.
func RejectSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String},
		{Name: "stage", Type: arrow.BinaryTypes.String},
		{Name: "reason", Type: arrow.BinaryTypes.String},
		{Name: "detail", Type: arrow.BinaryTypes.String},
		{Name: "file", Type: arrow.BinaryTypes.String},
		{Name: "line", Type: arrow.PrimitiveTypes.Int64},
		{Name: "offset", Type: arrow.PrimitiveTypes.Int64},
		{Name: "lang", Type: arrow.BinaryTypes.String},
		{Name: "text", Type: arrow.BinaryTypes.String},
	}, nil)
}

// Shape is a record layout shared by the Parquet and JSONL writers: the Arrow schema of
// its Parquet files, the columns worth dictionary encoding, and how one document becomes
// one row (Parquet) or one JSON object (JSONL). The zero Shape is not usable; get one from
// TextShape or RejectShape.
type Shape struct {
	name        string
	schema      *arrow.Schema
	dictColumns []string
	// newRows returns an appender that fills the builders of b (built from schema).
	newRows func(b *array.RecordBuilder) rowAppender
	// appendJSON appends one JSON object (without newline) for doc to e.buf.
	appendJSON func(e *jsonEncoder, doc *pipeline.Document) error
}

// Name returns the shape's name ("text" or "reject").
func (s Shape) Name() string { return s.name }

// Schema returns the shape's Arrow schema.
func (s Shape) Schema() *arrow.Schema { return s.schema }

// rowAppender appends one document as one row to the builders it was made for. It returns
// the number of payload bytes appended (used to bound a row group's memory).
type rowAppender interface {
	appendRow(doc *pipeline.Document) (int, error)
}

// TextShape is the layout of kept documents; see TextSchema for its columns.
func TextShape() Shape {
	return Shape{
		name:        "text",
		schema:      TextSchema(),
		dictColumns: []string{"lang", "script", "source"},
		newRows:     newTextRows,
		appendJSON:  appendTextJSON,
	}
}

// RejectShape is the layout of rejected documents; see RejectSchema for its columns.
func RejectShape() Shape {
	return Shape{
		name:        "reject",
		schema:      RejectSchema(),
		dictColumns: []string{"stage", "reason", "file", "lang"},
		newRows:     newRejectRows,
		appendJSON:  appendRejectJSON,
	}
}

type textRows struct {
	id, text, lang, script, source, metadata *array.StringBuilder
	score                                    *array.Float64Builder
	enc                                      jsonEncoder // for metadata; its buffer is reused
}

func newTextRows(b *array.RecordBuilder) rowAppender {
	return &textRows{
		id:       b.Field(0).(*array.StringBuilder),
		text:     b.Field(1).(*array.StringBuilder),
		lang:     b.Field(2).(*array.StringBuilder),
		script:   b.Field(3).(*array.StringBuilder),
		score:    b.Field(4).(*array.Float64Builder),
		source:   b.Field(5).(*array.StringBuilder),
		metadata: b.Field(6).(*array.StringBuilder),
	}
}

func (r *textRows) appendRow(doc *pipeline.Document) (int, error) {
	r.enc.buf = r.enc.buf[:0]
	if err := r.enc.appendMeta(doc.Meta); err != nil {
		return 0, fmt.Errorf("document %q: metadata: %w", doc.ID, err)
	}
	n := appendString(r.id, doc.ID)
	n += appendString(r.text, doc.Text)
	n += appendString(r.lang, DatasetLang(doc))
	n += appendString(r.script, doc.Script)
	r.score.Append(doc.LangScore)
	n += appendString(r.source, doc.Origin.File)
	r.metadata.BinaryBuilder.Append(r.enc.buf) // already valid UTF-8: the encoder replaces bad bytes
	return n + len(r.enc.buf) + 8, nil
}

type rejectRows struct {
	id, stage, reason, detail, file, lang, text *array.StringBuilder
	line, offset                                *array.Int64Builder
}

func newRejectRows(b *array.RecordBuilder) rowAppender {
	return &rejectRows{
		id:     b.Field(0).(*array.StringBuilder),
		stage:  b.Field(1).(*array.StringBuilder),
		reason: b.Field(2).(*array.StringBuilder),
		detail: b.Field(3).(*array.StringBuilder),
		file:   b.Field(4).(*array.StringBuilder),
		line:   b.Field(5).(*array.Int64Builder),
		offset: b.Field(6).(*array.Int64Builder),
		lang:   b.Field(7).(*array.StringBuilder),
		text:   b.Field(8).(*array.StringBuilder),
	}
}

func (r *rejectRows) appendRow(doc *pipeline.Document) (int, error) {
	n := appendString(r.id, doc.ID)
	n += appendString(r.stage, doc.Rejected.Stage)
	n += appendString(r.reason, doc.Rejected.Reason)
	n += appendString(r.detail, doc.Rejected.Detail)
	n += appendString(r.file, doc.Origin.File)
	r.line.Append(doc.Origin.Line)
	r.offset.Append(doc.Origin.Offset)
	n += appendString(r.lang, doc.Lang)
	n += appendString(r.text, doc.Text)
	return n + 16, nil
}

// appendString appends s to a string column without an intermediate copy, replacing
// invalid UTF-8 (Parquet STRING columns must hold UTF-8; DuckDB refuses anything else). It
// returns the number of bytes appended.
func appendString(b *array.StringBuilder, s string) int {
	s = validUTF8(s)
	// The builder copies the bytes into its own buffer and never writes through the slice.
	b.BinaryBuilder.Append(unsafe.Slice(unsafe.StringData(s), len(s)))
	return len(s)
}

// validUTF8 returns s with each byte that is not part of valid UTF-8 replaced by U+FFFD,
// as encoding/json does, so that Parquet and JSONL output carry the same text.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
