package formats

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

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
	// newRows returns an appender that fills cols (made from schema).
	newRows func(cols *columns) rowAppender
	// appendJSON appends one JSON object (without newline) for doc to e.buf.
	appendJSON func(e *jsonEncoder, doc *pipeline.Document) error
}

// Name returns the shape's name ("text" or "reject").
func (s Shape) Name() string { return s.name }

// Schema returns the shape's Arrow schema.
func (s Shape) Schema() *arrow.Schema { return s.schema }

// rowAppender appends one document as one row to the columns it was made for, or nothing
// when it returns an error. It returns the number of string bytes appended.
type rowAppender interface {
	appendRow(doc *pipeline.Document) (int, error)
}

// maxRowBytes bounds the string bytes of one row, so that the int32 offsets of a row group
// (at most RowGroupBytes plus one row) cannot overflow.
const maxRowBytes = 1 << 30

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
	id, text, lang, script, source, metadata *stringColumn
	score                                    *float64Column
	enc                                      jsonEncoder // for metadata; its buffer is reused
}

func newTextRows(c *columns) rowAppender {
	return &textRows{
		id:       c.str(0),
		text:     c.str(1),
		lang:     c.str(2),
		script:   c.str(3),
		score:    c.f64(4),
		source:   c.str(5),
		metadata: c.str(6),
	}
}

func (r *textRows) appendRow(doc *pipeline.Document) (int, error) {
	r.enc.buf = r.enc.buf[:0]
	if err := r.enc.appendMeta(doc.Meta); err != nil {
		return 0, fmt.Errorf("document %q: metadata: %w", doc.ID, err)
	}
	lang := DatasetLang(doc)
	if n := len(doc.ID) + len(doc.Text) + len(lang) + len(doc.Script) + len(doc.Origin.File) + len(r.enc.buf); n > maxRowBytes {
		return 0, fmt.Errorf("document %q: %d bytes of strings, more than one Parquet row holds (%d)", doc.ID, n, maxRowBytes)
	}
	n := r.id.append(doc.ID)
	n += r.text.append(doc.Text)
	n += r.lang.append(lang)
	n += r.script.append(doc.Script)
	r.score.append(doc.LangScore)
	n += r.source.append(doc.Origin.File)
	n += r.metadata.appendBytes(r.enc.buf) // valid UTF-8: the encoder replaces bad bytes
	return n, nil
}

type rejectRows struct {
	id, stage, reason, detail, file, lang, text *stringColumn
	line, offset                                *int64Column
}

func newRejectRows(c *columns) rowAppender {
	return &rejectRows{
		id:     c.str(0),
		stage:  c.str(1),
		reason: c.str(2),
		detail: c.str(3),
		file:   c.str(4),
		line:   c.i64(5),
		offset: c.i64(6),
		lang:   c.str(7),
		text:   c.str(8),
	}
}

func (r *rejectRows) appendRow(doc *pipeline.Document) (int, error) {
	d := &doc.Rejected
	if n := len(doc.ID) + len(d.Stage) + len(d.Reason) + len(d.Detail) + len(doc.Origin.File) + len(doc.Lang) + len(doc.Text); n > maxRowBytes {
		return 0, fmt.Errorf("document %q: %d bytes of strings, more than one Parquet row holds (%d)", doc.ID, n, maxRowBytes)
	}
	n := r.id.append(doc.ID)
	n += r.stage.append(d.Stage)
	n += r.reason.append(d.Reason)
	n += r.detail.append(d.Detail)
	n += r.file.append(doc.Origin.File)
	r.line.append(doc.Origin.Line)
	r.offset.append(doc.Origin.Offset)
	n += r.lang.append(doc.Lang)
	n += r.text.append(doc.Text)
	return n, nil
}

// columns holds one row group of a shape in Go slices that keep their capacity from one
// row group to the next: the reusable builders of ParquetWriter. Arrays handed out by
// record point into these slices, so the columns may be reset only once the record has
// been written and released.
type columns struct {
	schema *arrow.Schema
	cols   []column
	n      int // rows
}

type column interface {
	array(n int) arrow.Array
	reset()
	capBytes() int // bytes retained
}

func newColumns(schema *arrow.Schema) *columns {
	c := &columns{schema: schema}
	for _, f := range schema.Fields() {
		switch f.Type.ID() {
		case arrow.STRING:
			c.cols = append(c.cols, &stringColumn{offsets: []int32{0}})
		case arrow.FLOAT64:
			c.cols = append(c.cols, &float64Column{})
		case arrow.INT64:
			c.cols = append(c.cols, &int64Column{})
		case arrow.LIST:
			c.cols = append(c.cols, newMessagesColumn(f.Type))
		default:
			panic(fmt.Sprintf("formats: column %s: type %s has no column buffer", f.Name, f.Type))
		}
	}
	return c
}

func (c *columns) str(i int) *stringColumn  { return c.cols[i].(*stringColumn) }
func (c *columns) f64(i int) *float64Column { return c.cols[i].(*float64Column) }
func (c *columns) i64(i int) *int64Column   { return c.cols[i].(*int64Column) }

// record returns the buffered rows as a record batch that shares the columns' memory.
func (c *columns) record() arrow.RecordBatch {
	arrs := make([]arrow.Array, len(c.cols))
	for i, col := range c.cols {
		arrs[i] = col.array(c.n)
	}
	rec := array.NewRecordBatch(c.schema, arrs, int64(c.n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

func (c *columns) reset() {
	for _, col := range c.cols {
		col.reset()
	}
	c.n = 0
}

func (c *columns) capBytes() int {
	n := 0
	for _, col := range c.cols {
		n += col.capBytes()
	}
	return n
}

// stringColumn is a UTF-8 column: Arrow's offsets and data buffers.
type stringColumn struct {
	offsets []int32 // offsets[0] == 0; one more than rows
	data    []byte
}

// append adds s, replacing invalid UTF-8 (Parquet STRING columns must hold UTF-8; DuckDB
// refuses anything else), and returns the number of bytes added.
func (c *stringColumn) append(s string) int {
	s = validUTF8(s)
	c.data = append(c.data, s...)
	c.offsets = append(c.offsets, int32(len(c.data)))
	return len(s)
}

// appendBytes adds b, which must be valid UTF-8.
func (c *stringColumn) appendBytes(b []byte) int {
	c.data = append(c.data, b...)
	c.offsets = append(c.offsets, int32(len(c.data)))
	return len(b)
}

func (c *stringColumn) array(n int) arrow.Array {
	data := array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{
		nil,
		memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.offsets[:n+1])),
		memory.NewBufferBytes(c.data),
	}, nil, 0, 0)
	defer data.Release()
	return array.NewStringData(data)
}

func (c *stringColumn) reset() {
	c.offsets = c.offsets[:1]
	c.data = c.data[:0]
}

func (c *stringColumn) capBytes() int { return 4*cap(c.offsets) + cap(c.data) }

type float64Column struct{ vals []float64 }

func (c *float64Column) append(v float64) { c.vals = append(c.vals, v) }

func (c *float64Column) array(n int) arrow.Array {
	data := array.NewData(arrow.PrimitiveTypes.Float64, n, []*memory.Buffer{
		nil, memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(c.vals[:n])),
	}, nil, 0, 0)
	defer data.Release()
	return array.NewFloat64Data(data)
}

func (c *float64Column) reset()        { c.vals = c.vals[:0] }
func (c *float64Column) capBytes() int { return 8 * cap(c.vals) }

type int64Column struct{ vals []int64 }

func (c *int64Column) append(v int64) { c.vals = append(c.vals, v) }

func (c *int64Column) array(n int) arrow.Array {
	data := array.NewData(arrow.PrimitiveTypes.Int64, n, []*memory.Buffer{
		nil, memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(c.vals[:n])),
	}, nil, 0, 0)
	defer data.Release()
	return array.NewInt64Data(data)
}

func (c *int64Column) reset()        { c.vals = c.vals[:0] }
func (c *int64Column) capBytes() int { return 8 * cap(c.vals) }

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
