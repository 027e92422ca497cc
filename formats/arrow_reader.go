package formats

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sieve-data/sieve/pipeline"
)

func init() {
	pipeline.RegisterReader("arrow", func(path string, in *pipeline.Input) (pipeline.Source, error) {
		return NewArrowReader(path, in)
	})
}

// arrowFileMagic starts an Arrow IPC file (the "file format", also Feather v2): the magic
// and two bytes of padding, then the IPC stream, then a footer that a sequential reader
// does not need.
var arrowFileMagic = []byte("ARROW1\x00\x00")

// ArrowReader reads an Arrow IPC file, in the file format (.arrow, Feather v2: detected by
// its magic "ARROW1") or the stream format, one record batch at a time: at most one batch
// is in memory. The file format is read sequentially as the stream it holds (its footer is
// not used), so a file compressed whole with gzip or zstd is read too. Buffers compressed
// inside the IPC messages (LZ4 frame or zstd, as pyarrow writes Feather) are decompressed by
// arrow-go.
//
// Rows become documents as in ParquetReader (see recordDecoder): Origin.Line is the 1-based
// row number in the file and Origin.Offset the byte offset, in the decompressed stream, of
// the IPC message holding the row's record batch.
//
// A schema without the text column is an error from NewArrowReader (naming the file and its
// columns), whatever in.OnError says: no row could be read. A stream cut off inside a
// message gives one read.truncated reject (or a *ReadError with on_error: fail) and ends
// the file; any other damage to the IPC stream is a fatal *ReadError naming the file and
// offset.
type ArrowReader struct {
	f    *File
	cr   *countReader
	mr   *offsetMessageReader
	rdr  *ipc.Reader
	dec  *recordDecoder
	name string
	fail bool

	rec      arrow.RecordBatch // current batch, owned by rdr (by the reader when blocks is set)
	row      int               // next row of rec
	rowNo    int64             // rows returned so far (and before the first batch read)
	batchOff int64
	done     bool
	nCheck   int

	blocks *arrowRange // a task-mode unit of an IPC file's record batches; f, cr, mr, rdr are nil then
}

// arrowRange reads record batches next to last-1 of an Arrow IPC file by random access,
// offs being the offset of each batch's message, start to end the unit's bytes.
type arrowRange struct {
	osf        *os.File
	fr         *ipc.FileReader
	offs       []int64
	next, last int
	start, end int64
}

// nextBlock makes the next batch of the range current; io.EOF after the last.
func (r *ArrowReader) nextBlock() error {
	b := r.blocks
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
	if b.next >= b.last {
		return io.EOF
	}
	rec, err := b.fr.RecordBatchAt(b.next)
	if err != nil {
		return &ReadError{File: r.name, Line: r.rowNo + 1, Offset: b.offs[b.next], Err: fmt.Errorf("record batch %d: %w", b.next, err)}
	}
	r.rec, r.row, r.batchOff = rec, 0, b.offs[b.next]
	b.next++
	if err := r.dec.bind(rec); err != nil {
		return &ReadError{File: r.name, Offset: r.batchOff, Err: err}
	}
	return nil
}

var (
	_ pipeline.Source     = (*ArrowReader)(nil)
	_ pipeline.Progresser = (*ArrowReader)(nil)
)

// NewArrowReader opens path and reads its schema. Unset fields of in take
// pipeline.DefaultInput's values.
func NewArrowReader(path string, in *pipeline.Input) (*ArrowReader, error) {
	return newArrowReader(path, in, memory.DefaultAllocator)
}

func newArrowReader(path string, in *pipeline.Input, mem memory.Allocator) (*ArrowReader, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	r, err := recoverCorrupt(path, func() (*ArrowReader, error) { return openArrowStream(f, in, mem) })
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func openArrowStream(f *File, in *pipeline.Input, mem memory.Allocator) (*ArrowReader, error) {
	cfg := withDefaults(in)
	br := bufio.NewReaderSize(f, 64<<10)
	magic, err := br.Peek(8)
	if err != nil && err != io.EOF {
		return nil, err
	}
	cr := &countReader{r: br}
	switch {
	case bytes.Equal(magic, arrowFileMagic):
		br.Discard(len(arrowFileMagic))
		cr.n = int64(len(arrowFileMagic))
	case bytes.HasPrefix(magic, []byte("FEA1")):
		return nil, fmt.Errorf("%s: Feather version 1 is not Arrow IPC; rewrite it as Feather v2 (pyarrow.feather.write_feather)", f.Name())
	case bytes.HasPrefix(magic, []byte("PAR1")):
		return nil, fmt.Errorf("%s: this is a Parquet file; use format parquet", f.Name())
	case len(magic) == 0:
		return nil, fmt.Errorf("%s: empty file: not an Arrow IPC file or stream", f.Name())
	}
	if err := checkArrowSchemaMessage(br); err != nil {
		return nil, fmt.Errorf("%s: not an Arrow IPC file or stream: %w", f.Name(), err)
	}
	mr := &offsetMessageReader{MessageReader: ipc.NewMessageReader(cr, ipc.WithAllocator(mem)), cr: cr}
	rdr, err := ipc.NewReaderFromMessageReader(mr, ipc.WithAllocator(mem))
	if err != nil {
		mr.Release()
		var re *ReadError
		if errors.As(err, &re) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: not an Arrow IPC file or stream: %w", f.Name(), err)
	}
	dec, err := newRecordDecoder(rdr.Schema(), &cfg, f.Name())
	if err != nil {
		rdr.Release()
		return nil, err
	}
	return &ArrowReader{f: f, cr: cr, mr: mr, rdr: rdr, dec: dec, name: f.Name(), fail: cfg.OnError == "fail"}, nil
}

func (r *ArrowReader) file() *File { return r.f }

// Progress reports compressed bytes read of the file's size; for a range of batches, the
// bytes before the current batch of the range's.
func (r *ArrowReader) Progress() (done, total int64) {
	if b := r.blocks; b != nil {
		if r.done {
			return b.end - b.start, b.end - b.start
		}
		return min(max(r.batchOff-b.start, 0), b.end-b.start), b.end - b.start
	}
	return r.f.Consumed(), r.f.Size()
}

// Close releases the current batch and closes the file.
func (r *ArrowReader) Close() error {
	if b := r.blocks; b != nil {
		if r.rec != nil {
			r.rec.Release()
			r.rec = nil
		}
		if b.fr != nil {
			b.fr.Close()
			b.fr = nil
		}
		if b.osf == nil {
			return nil
		}
		err := b.osf.Close()
		b.osf = nil
		return err
	}
	if r.rdr != nil {
		r.rdr.Release()
		r.rdr = nil
	}
	return r.f.Close()
}

// Next fills doc (reset by the caller) with the next row.
func (r *ArrowReader) Next(ctx context.Context, doc *pipeline.Document) (err error) {
	if r.done {
		return io.EOF
	}
	defer func() {
		if p := recover(); p != nil {
			r.done = true
			err = corruptPanic(r.name, p)
		}
	}()
	if r.nCheck++; r.nCheck&255 == 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	for r.rec == nil || r.row >= int(r.rec.NumRows()) {
		if r.blocks != nil {
			if err := r.nextBlock(); err != nil {
				r.done = true
				return err
			}
			continue
		}
		if !r.rdr.Next() {
			r.done = true
			r.rec = nil
			if err := r.rdr.Err(); err != nil {
				return r.streamError(err, doc)
			}
			return io.EOF
		}
		r.rec, r.row, r.batchOff = r.rdr.RecordBatch(), 0, r.mr.off
		if err := r.dec.bind(r.rec); err != nil {
			return &ReadError{File: r.name, Offset: r.batchOff, Err: err}
		}
	}
	r.rowNo++
	doc.Origin = pipeline.Position{File: r.name, Line: r.rowNo, Offset: r.batchOff}
	reason, detail := r.dec.decode(r.row, doc)
	r.row++
	if reason != "" {
		if r.fail {
			return &ReadError{File: r.name, Line: r.rowNo, Offset: r.batchOff, Reason: reason, Err: errors.New(detail)}
		}
		doc.Reject(Stage, reason, detail)
	}
	return nil
}

// streamError turns the error that ended the IPC stream into a read.truncated reject, or
// the fatal error.
func (r *ArrowReader) streamError(err error, doc *pipeline.Document) error {
	var re *ReadError
	cut := errors.Is(err, io.ErrUnexpectedEOF)
	if errors.As(err, &re) {
		if re.Reason != ReasonTruncated {
			return err // I/O error
		}
		cut = true
	}
	if !cut {
		return &ReadError{File: r.name, Offset: r.mr.off, Err: fmt.Errorf("damaged Arrow IPC stream: %w", err)}
	}
	detail := fmt.Sprintf("stream ends inside the IPC message at byte %d, after %d rows; the rest of the file is lost: %v", r.mr.off, r.rowNo, err)
	if r.fail {
		return &ReadError{File: r.name, Line: r.rowNo + 1, Offset: r.mr.off, Reason: ReasonTruncated, Err: errors.New(detail)}
	}
	doc.Origin = pipeline.Position{File: r.name, Line: r.rowNo + 1, Offset: r.mr.off}
	doc.ID = fallbackID(r.dec.base, r.rowNo+1)
	doc.Reject(Stage, ReasonTruncated, detail)
	return nil
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// offsetMessageReader notes the offset of each IPC message it reads: the arrow-go message
// reader reads exactly the bytes of each message, so the count before a message is where
// it starts.
type offsetMessageReader struct {
	ipc.MessageReader
	cr  *countReader
	off int64 // offset of the last message read
}

func (m *offsetMessageReader) Message() (*ipc.Message, error) {
	m.off = m.cr.n
	return m.MessageReader.Message()
}

// recordDecoder turns the rows of Arrow record batches of one schema into documents, for
// the Arrow and Parquet readers:
//
//   - The text comes from the column named in.TextField; a dotted path ("doc.body") reaches
//     into struct columns. It must be a string column (utf8, large_utf8, string_view, or a
//     dictionary of strings). A null text (or a null struct on its path) is rejected as
//     read.missing_text, invalid UTF-8 as read.invalid_utf8, a text longer than
//     in.MaxRecordBytes as read.record_too_large, an empty or white-space text as
//     read.empty_text.
//   - The id comes from in.IDField (dotted too): a string, or an integer written in decimal.
//     When the column is absent, the value null or empty, the id is "<file base>:<row>"; a
//     column of another type stays in Meta.
//   - Every other column goes into doc.Meta: null as nil, booleans as bool, signed integers
//     as int64, unsigned as uint64, float32 and float64 as themselves (NaN and ±Inf, which
//     JSON cannot hold, as the strings "NaN", "+Inf", "-Inf"), strings as string, binary as
//     []byte, dates as "2006-01-02", timestamps as RFC 3339 strings in UTC, times of day as
//     "15:04:05.999999999", decimals, durations and intervals as arrow-go writes them, lists
//     as []any, structs as map[string]any, maps with string keys as map[string]any and other
//     maps as []any of {"key", "value"} objects, dictionaries as their values. All of these
//     marshal to the same JSON every time (map keys sorted). A struct on the text or id path
//     keeps its other fields, and is left out when nothing else remains.
//
// Values are copied out of the Arrow buffers, so a document stays valid after its batch is
// released.
type recordDecoder struct {
	base     string
	textPath []int // field indices from the top-level column down to the text
	idPath   []int // nil when there is no usable id column
	plan     []*colPlan
	max      int
	schema   *arrow.Schema

	// bound to the current batch
	cols []arrow.Array
	text arrow.Array // the leaf column of the text
	id   arrow.Array
}

// colPlan is a column on the text or id path: what Meta keeps of it differs from other
// columns.
type colPlan struct {
	target   uint8      // targetText or targetID when the path ends here
	children []*colPlan // by struct field index; nil entries are plain columns
}

func newRecordDecoder(schema *arrow.Schema, in *pipeline.Input, file string) (*recordDecoder, error) {
	d := &recordDecoder{base: filepath.Base(file), max: in.MaxRecordBytes, schema: schema}
	d.plan = make([]*colPlan, schema.NumFields())
	if in.Adapter != "" {
		// The adapter (formats/adapter.go) makes the document from the columns: no column
		// is the text, and every column but the id goes to Meta.
		if in.IDField != "" {
			if path, leaf, ok := resolveField(schema.Fields(), in.IDField); ok && (isStringType(leaf.Type) || isIntegerType(leaf.Type)) {
				d.idPath = path
				d.addPlan(d.idPath, targetID)
			}
		}
		return d, nil
	}
	path, leaf, ok := resolveField(schema.Fields(), in.TextField)
	if !ok {
		return nil, fmt.Errorf("%s: no column %q for the text (text_field); the columns are %s", file, in.TextField, strings.Join(columnNames(schema), ", "))
	}
	if !isStringType(leaf.Type) {
		return nil, fmt.Errorf("%s: column %q for the text (text_field) is %s, want a string column", file, in.TextField, leaf.Type)
	}
	d.textPath = path
	if in.IDField != "" {
		if path, leaf, ok := resolveField(schema.Fields(), in.IDField); ok && (isStringType(leaf.Type) || isIntegerType(leaf.Type)) && !slices.Equal(path, d.textPath) {
			d.idPath = path
		}
	}
	d.addPlan(d.textPath, targetText)
	if d.idPath != nil {
		d.addPlan(d.idPath, targetID)
	}
	return d, nil
}

func (d *recordDecoder) addPlan(path []int, target uint8) {
	level := d.plan
	fields := d.schema.Fields()
	for depth, i := range path {
		if level[i] == nil {
			level[i] = &colPlan{}
		}
		n := level[i]
		if depth == len(path)-1 {
			n.target |= target
			return
		}
		st := fields[i].Type.(*arrow.StructType)
		fields = st.Fields()
		if n.children == nil {
			n.children = make([]*colPlan, len(fields))
		}
		level = n.children
	}
}

// resolveField finds a dotted path among fields and their struct children. A name may hold
// dots itself: a whole match is tried before entering a struct.
func resolveField(fields []arrow.Field, dotted string) ([]int, arrow.Field, bool) {
	for i, f := range fields {
		if f.Name == dotted {
			return []int{i}, f, true
		}
	}
	for i, f := range fields {
		st, ok := f.Type.(*arrow.StructType)
		if !ok || !strings.HasPrefix(dotted, f.Name+".") {
			continue
		}
		if path, leaf, ok := resolveField(st.Fields(), dotted[len(f.Name)+1:]); ok {
			return append([]int{i}, path...), leaf, true
		}
	}
	return nil, arrow.Field{}, false
}

// columnNames lists the schema's columns for messages, with struct children as dotted
// paths, each with its type.
func columnNames(schema *arrow.Schema) []string {
	var out []string
	var walk func(prefix string, fields []arrow.Field)
	walk = func(prefix string, fields []arrow.Field) {
		for _, f := range fields {
			name := prefix + f.Name
			if st, ok := f.Type.(*arrow.StructType); ok {
				walk(name+".", st.Fields())
				continue
			}
			out = append(out, strconv.Quote(name)+" ("+f.Type.String()+")")
		}
	}
	walk("", schema.Fields())
	return out
}

func isStringType(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return true
	case arrow.DICTIONARY:
		return isStringType(t.(*arrow.DictionaryType).ValueType)
	}
	return false
}

func isIntegerType(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return true
	}
	return false
}

// bind makes rec the batch rows are decoded from. rec must have the decoder's schema.
func (d *recordDecoder) bind(rec arrow.RecordBatch) error {
	if !rec.Schema().Equal(d.schema) {
		return fmt.Errorf("record batch schema %s differs from the file's %s", rec.Schema(), d.schema)
	}
	d.cols = rec.Columns()
	d.text, d.id = nil, nil
	if d.textPath != nil {
		d.text = leafColumn(d.cols, d.textPath)
	}
	if d.idPath != nil {
		d.id = leafColumn(d.cols, d.idPath)
	}
	return nil
}

func leafColumn(cols []arrow.Array, path []int) arrow.Array {
	a := cols[path[0]]
	for _, i := range path[1:] {
		a = a.(*array.Struct).Field(i)
	}
	return a
}

// nullOnPath reports whether the value at row i of path, or a struct above it, is null.
func (d *recordDecoder) nullOnPath(path []int, i int) bool {
	a := d.cols[path[0]]
	if a.IsNull(i) {
		return true
	}
	for _, k := range path[1:] {
		a = a.(*array.Struct).Field(k)
		if a.IsNull(i) {
			return true
		}
	}
	return false
}

// decode fills doc (ID, Text, Meta) from row i of the bound batch, or returns the reason and
// detail of its rejection (doc.ID and doc.Meta are set then too). doc.Origin.Line must be
// set: it makes the fallback id.
func (d *recordDecoder) decode(i int, doc *pipeline.Document) (reason, detail string) {
	if d.id != nil && !d.nullOnPath(d.idPath, i) {
		switch v := arrowValue(d.id, i).(type) {
		case int64:
			doc.ID = strconv.FormatInt(v, 10)
		case uint64:
			doc.ID = strconv.FormatUint(v, 10)
		case string:
			doc.ID = v
		}
	}
	if doc.ID == "" {
		doc.ID = fallbackID(d.base, doc.Origin.Line)
	}
	for c, col := range d.cols {
		v, keep := any(nil), true
		if p := d.plan[c]; p != nil {
			v, keep = metaOnPath(p, col, i)
		} else {
			v = arrowValue(col, i)
		}
		if keep {
			if doc.Meta == nil {
				doc.Meta = make(map[string]any, len(d.cols))
			}
			doc.Meta[d.schema.Field(c).Name] = v
		}
	}
	if d.textPath == nil {
		return "", "" // an adapter makes the text
	}
	if d.nullOnPath(d.textPath, i) {
		return ReasonMissingText, "text is null"
	}
	text := stringAt(d.text, i)
	switch {
	case len(text) > d.max:
		return ReasonRecordTooLarge, fmt.Sprintf("text of %d bytes exceeds max_record_bytes %d", len(text), d.max)
	case !utf8.ValidString(text):
		doc.Text = strings.ToValidUTF8(text, "\uFFFD")
		return ReasonInvalidUTF8, fmt.Sprintf("invalid UTF-8 at byte %d of the text", invalidUTF8At([]byte(text)))
	}
	doc.Text = strings.Clone(text)
	if isSpace(text) {
		if text == "" {
			return ReasonEmptyText, "text is empty"
		}
		return ReasonEmptyText, "text is only white space"
	}
	return "", ""
}

// metaOnPath returns what Meta keeps of a value on the text or id path (as JSONLReader
// does): nothing of the text; of the id, an empty string only; of a struct, the other
// fields, or nothing when none remains.
func metaOnPath(p *colPlan, a arrow.Array, i int) (any, bool) {
	switch {
	case p.target&targetText != 0:
		return nil, false
	case p.target&targetID != 0:
		if v := arrowValue(a, i); v == "" {
			return v, true
		}
		return nil, false
	}
	if a.IsNull(i) {
		return nil, true
	}
	st := a.(*array.Struct)
	fields := st.DataType().(*arrow.StructType).Fields()
	m := make(map[string]any, len(fields))
	for k, f := range fields {
		if c := p.children[k]; c != nil {
			if v, keep := metaOnPath(c, st.Field(k), i); keep {
				m[f.Name] = v
			}
			continue
		}
		m[f.Name] = arrowValue(st.Field(k), i)
	}
	if len(m) == 0 {
		return nil, false
	}
	return m, true
}

// stringAt returns the string at row i of a string column, aliasing its buffer.
func stringAt(a arrow.Array, i int) string {
	switch a := a.(type) {
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.StringView:
		return a.Value(i)
	case *array.Dictionary:
		return stringAt(a.Dictionary(), a.GetValueIndex(i))
	}
	return ""
}

// arrowValue returns row i of a as a Go value that encoding/json marshals deterministically
// (see recordDecoder). Strings and bytes are copied.
func arrowValue(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Null:
		return nil
	case *array.Boolean:
		return a.Value(i)
	case *array.Int8:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Uint8:
		return uint64(a.Value(i))
	case *array.Uint16:
		return uint64(a.Value(i))
	case *array.Uint32:
		return uint64(a.Value(i))
	case *array.Uint64:
		return a.Value(i)
	case *array.Float16:
		return finite(float64(a.Value(i).Float32()), float32(0))
	case *array.Float32:
		return finite(float64(a.Value(i)), a.Value(i))
	case *array.Float64:
		return finite(a.Value(i), a.Value(i))
	case *array.String, *array.LargeString, *array.StringView:
		return strings.Clone(stringAt(a, i))
	case *array.Binary:
		return bytes.Clone(a.Value(i))
	case *array.LargeBinary:
		return bytes.Clone(a.Value(i))
	case *array.BinaryView:
		return bytes.Clone(a.Value(i))
	case *array.FixedSizeBinary:
		return bytes.Clone(a.Value(i))
	case *array.Date32:
		return a.Value(i).ToTime().Format(time.DateOnly)
	case *array.Date64:
		return a.Value(i).ToTime().Format(time.DateOnly)
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).UTC().Format(time.RFC3339Nano)
	case *array.Time32:
		unit := a.DataType().(*arrow.Time32Type).Unit
		return a.Value(i).ToTime(unit).Format("15:04:05.999999999")
	case *array.Time64:
		unit := a.DataType().(*arrow.Time64Type).Unit
		return a.Value(i).ToTime(unit).Format("15:04:05.999999999")
	case *array.Dictionary:
		return arrowValue(a.Dictionary(), a.GetValueIndex(i))
	case *array.Struct:
		fields := a.DataType().(*arrow.StructType).Fields()
		m := make(map[string]any, len(fields))
		for k, f := range fields {
			m[f.Name] = arrowValue(a.Field(k), i)
		}
		return m
	case *array.Map:
		return mapValue(a, i)
	case array.ListLike:
		start, end := a.ValueOffsets(i)
		vals := a.ListValues()
		out := make([]any, 0, end-start)
		for k := start; k < end; k++ {
			out = append(out, arrowValue(vals, int(k)))
		}
		return out
	case array.ExtensionArray:
		return arrowValue(a.Storage(), i)
	}
	return a.ValueStr(i) // decimals, durations, intervals, unions: arrow-go's text form
}

// finite returns v, or for NaN and infinities (which JSON cannot hold) their names.
func finite(f float64, v any) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	if _, ok := v.(float32); ok {
		return float32(f)
	}
	return f
}

func mapValue(a *array.Map, i int) any {
	start, end := a.ValueOffsets(i)
	keys, items := a.Keys(), a.Items()
	if isStringType(keys.DataType()) {
		m := make(map[string]any, end-start)
		for k := start; k < end; k++ {
			m[strings.Clone(stringAt(keys, int(k)))] = arrowValue(items, int(k))
		}
		return m
	}
	out := make([]any, 0, end-start)
	for k := start; k < end; k++ {
		out = append(out, map[string]any{"key": arrowValue(keys, int(k)), "value": arrowValue(items, int(k))})
	}
	return out
}

// corruptPanic turns a panic inside arrow-go's decoders (which trust lengths and offsets in
// the file: found by FuzzParquetReader and FuzzArrowReader) into an error naming the file.
// The run stops with it, as for any file that cannot be decoded.
func corruptPanic(path string, p any) error {
	return &ReadError{File: path, Reason: "read.corrupt", Err: fmt.Errorf("%w: the file could not be decoded (%v)", ErrCorrupt, p)}
}

// recoverCorrupt calls open and turns a decoder panic into a corruptPanic error.
func recoverCorrupt[T any](path string, open func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = corruptPanic(path, p)
		}
	}()
	return open()
}
