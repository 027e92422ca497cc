package formats

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sieve-data/sieve/pipeline"
)

// tableRow is one row of the test tables written as Arrow and Parquet. A nil pointer is a
// null.
type tableRow struct {
	ID    int64
	Text  *string
	Title *string // doc.title
	Body  *string // doc.body; Doc false makes the whole doc struct null
	Doc   bool
	Tags  []string // doc.tags
	Score float64
	When  time.Time // ms precision, UTC
	Day   time.Time // date
	Lang  string    // dictionary-encoded
	Blob  []byte
	Count map[string]int32 // one entry at most, to keep the order obvious
	N     uint32
}

func sp(s string) *string { return &s }

// tableSchema is the schema of tableRow.
func tableSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "doc", Nullable: true, Type: arrow.StructOf(
			arrow.Field{Name: "title", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "body", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		)},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64},
		{Name: "when", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32},
		{Name: "lang", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}},
		{Name: "blob", Type: arrow.BinaryTypes.Binary},
		{Name: "count", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32)},
		{Name: "n", Type: arrow.PrimitiveTypes.Uint32},
	}, nil)
}

// tableRecord builds one record batch of rows.
func tableRecord(t testing.TB, mem memory.Allocator, rows []tableRow) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(mem, tableSchema())
	defer b.Release()
	str := func(sb *array.StringBuilder, s *string) {
		if s == nil {
			sb.AppendNull()
		} else {
			sb.Append(*s)
		}
	}
	for _, r := range rows {
		b.Field(0).(*array.Int64Builder).Append(r.ID)
		str(b.Field(1).(*array.StringBuilder), r.Text)
		db := b.Field(2).(*array.StructBuilder)
		db.Append(r.Doc)
		if r.Doc {
			str(db.FieldBuilder(0).(*array.StringBuilder), r.Title)
			str(db.FieldBuilder(1).(*array.StringBuilder), r.Body)
			lb := db.FieldBuilder(2).(*array.ListBuilder)
			lb.Append(true)
			for _, tag := range r.Tags {
				lb.ValueBuilder().(*array.StringBuilder).Append(tag)
			}
		}
		b.Field(3).(*array.Float64Builder).Append(r.Score)
		b.Field(4).(*array.TimestampBuilder).Append(arrow.Timestamp(r.When.UnixMilli()))
		b.Field(5).(*array.Date32Builder).Append(arrow.Date32FromTime(r.Day))
		if err := b.Field(6).(*array.BinaryDictionaryBuilder).AppendString(r.Lang); err != nil {
			t.Fatal(err)
		}
		b.Field(7).(*array.BinaryBuilder).Append(r.Blob)
		mb := b.Field(8).(*array.MapBuilder)
		mb.Append(true)
		for k, v := range r.Count {
			mb.KeyBuilder().(*array.StringBuilder).Append(k)
			mb.ItemBuilder().(*array.Int32Builder).Append(v)
		}
		b.Field(9).(*array.Uint32Builder).Append(r.N)
	}
	return b.NewRecordBatch()
}

// tableRows returns n rows in several languages, with a null text, an empty text, a null doc
// struct, invalid UTF-8 and a NaN among them at fixed places.
func tableRows(n int) []tableRow {
	texts := []string{"Ẹ káàárọ̀, ṣé dáadáa ni?", "Habari ya asubuhi", "Bore da", "Kaixo mundua", "Góðan daginn", "Sawubona"}
	langs := []string{"yor", "swa", "cym", "eus", "isl", "zul"}
	base := time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC)
	rows := make([]tableRow, n)
	for i := range rows {
		text := fmt.Sprintf("%s %d", texts[i%len(texts)], i)
		r := tableRow{
			ID: int64(1000 + i), Text: &text, Doc: true,
			Title: sp(fmt.Sprintf("title %d", i)), Body: sp(texts[(i+1)%len(texts)]), Tags: []string{langs[i%len(langs)], "web"},
			Score: float64(i) / 4, When: base.Add(time.Duration(i) * 1500 * time.Millisecond), Day: base.AddDate(0, 0, i),
			Lang: langs[i%len(langs)], Blob: []byte{byte(i), 0xff}, Count: map[string]int32{"words": int32(i * 3)}, N: uint32(i),
		}
		switch i {
		case 2:
			r.Text = nil
		case 3:
			r.Text = sp("  \n")
		case 4:
			r.Doc = false
		case 5:
			r.Text = sp("caf\xe9")
		case 6:
			r.Score = math.NaN()
		case 7:
			r.Title = nil
		}
		rows[i] = r
	}
	return rows
}

// wantTableDoc is the document a reader must make of row r (row number line) with the
// given text and id fields: computed from the Go values, not through the reader's code.
func wantTableDoc(r tableRow, line int64, base, textField, idField string) (id, text, reason string, meta map[string]any) {
	var score any = r.Score
	if math.IsNaN(r.Score) {
		score = "NaN"
	}
	count := map[string]any{}
	for k, v := range r.Count {
		count[k] = int64(v)
	}
	meta = map[string]any{
		"id": r.ID, "text": nil, "score": score,
		"when": r.When.UTC().Format(time.RFC3339Nano), "day": r.Day.Format("2006-01-02"),
		"lang": r.Lang, "blob": r.Blob, "count": count, "n": uint64(r.N),
	}
	if r.Text != nil {
		meta["text"] = *r.Text
	}
	doc := map[string]any{}
	if r.Doc {
		tags := make([]any, len(r.Tags))
		for i, tag := range r.Tags {
			tags[i] = tag
		}
		doc = map[string]any{"title": nil, "body": nil, "tags": tags}
		if r.Title != nil {
			doc["title"] = *r.Title
		}
		if r.Body != nil {
			doc["body"] = *r.Body
		}
	}
	var textVal *string
	switch textField {
	case "text":
		textVal = r.Text
		delete(meta, "text")
	case "doc.body":
		if r.Doc {
			textVal = r.Body
			delete(doc, "body")
		}
	}
	id = fmt.Sprintf("%s:%d", base, line)
	switch idField {
	case "id":
		id = fmt.Sprint(r.ID)
		delete(meta, "id")
	case "doc.title":
		if r.Doc && r.Title != nil {
			id = *r.Title
			delete(doc, "title")
		} else if r.Doc {
			delete(doc, "title") // null id: left out, as in JSONL
		}
	}
	if r.Doc {
		if len(doc) > 0 {
			meta["doc"] = doc
		}
	} else {
		meta["doc"] = nil
	}
	switch {
	case textVal == nil:
		reason = ReasonMissingText
	case strings.TrimSpace(*textVal) == "":
		reason, text = ReasonEmptyText, *textVal
	case !utf8Valid(*textVal):
		reason, text = ReasonInvalidUTF8, strings.ToValidUTF8(*textVal, "\uFFFD")
	default:
		text = *textVal
	}
	return id, text, reason, meta
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }

// checkTableDocs compares documents read from a table of rows with what each row should give.
func checkTableDocs(t *testing.T, docs []pipeline.Document, rows []tableRow, path, textField, idField string) {
	t.Helper()
	if len(docs) != len(rows) {
		t.Fatalf("%d docs, want %d", len(docs), len(rows))
	}
	base := path[strings.LastIndexByte(path, '/')+1:]
	for i, d := range docs {
		id, text, reason, meta := wantTableDoc(rows[i], int64(i+1), base, textField, idField)
		if d.ID != id || d.Text != text || d.Rejected.Reason != reason || d.Origin.Line != int64(i+1) || d.Origin.File != path {
			t.Errorf("row %d: got id %q text %q reason %q origin %v; want %q %q %q line %d", i, d.ID, d.Text, d.Rejected.Reason, d.Origin, id, text, reason, i+1)
		}
		if !reflect.DeepEqual(d.Meta, meta) {
			t.Errorf("row %d: meta\n%#v\nwant\n%#v", i, d.Meta, meta)
		}
		if got, want := metaJSON(t, d.Meta), metaJSON(t, meta); got != want {
			t.Errorf("row %d: meta JSON %s, want %s", i, got, want)
		}
	}
}

// writeArrowIPC writes rows in batches of batch rows, in the file format or the stream format.
func writeArrowIPC(t testing.TB, rows []tableRow, batch int, fileFormat bool, opts ...ipc.Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	opts = append(opts, ipc.WithSchema(tableSchema()))
	type writer interface {
		Write(arrow.RecordBatch) error
		Close() error
	}
	var w writer
	if fileFormat {
		fw, err := ipc.NewFileWriter(&buf, opts...)
		if err != nil {
			t.Fatal(err)
		}
		w = fw
	} else {
		w = ipc.NewWriter(&buf, opts...)
	}
	// Batches are slices of one record, so that they share one dictionary (the file format
	// allows no other).
	all := tableRecord(t, memory.DefaultAllocator, rows)
	defer all.Release()
	for start := 0; start < len(rows); start += batch {
		rec := all.NewSlice(int64(start), int64(min(start+batch, len(rows))))
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readArrow(t testing.TB, path string, in *pipeline.Input) ([]pipeline.Document, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r, err := newArrowReader(path, in, mem)
	if err != nil {
		return nil, err
	}
	return readDocs(t, r)
}

func TestArrowReader(t *testing.T) {
	rows := tableRows(23)
	tests := []struct {
		name       string
		file       string
		data       func(t *testing.T) []byte
		text, id   string
		wantOffset []int64 // Origin.Offset of the first row of each batch of 5
	}{
		{"file format", "t.arrow", func(t *testing.T) []byte { return writeArrowIPC(t, rows, 5, true) }, "text", "id", nil},
		{"stream format", "t.arrows", func(t *testing.T) []byte { return writeArrowIPC(t, rows, 5, false) }, "text", "id", nil},
		{"file format compressed whole with zstd", "t.arrow.zst", func(t *testing.T) []byte { return zstdBytes(t, writeArrowIPC(t, rows, 5, true)) }, "text", "id", nil},
		{"LZ4-compressed buffers (pyarrow's Feather default)", "t.feather", func(t *testing.T) []byte { return writeArrowIPC(t, rows, 5, true, ipc.WithLZ4()) }, "text", "id", nil},
		{"nested text and id", "t.arrow", func(t *testing.T) []byte { return writeArrowIPC(t, rows, 5, true) }, "doc.body", "doc.title", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), tt.file, tt.data(t))
			in := csvInput(func(in *pipeline.Input) { in.TextField, in.IDField = tt.text, tt.id })
			docs, err := readArrow(t, path, in)
			if err != nil {
				t.Fatal(err)
			}
			checkTableDocs(t, docs, rows, path, tt.text, tt.id)
			// Rows of one batch share the offset of its message; batches have increasing offsets.
			for i := 1; i < len(docs); i++ {
				same := i%5 != 0
				if (docs[i].Origin.Offset == docs[i-1].Origin.Offset) != same || docs[i].Origin.Offset < docs[i-1].Origin.Offset {
					t.Fatalf("offsets of rows %d and %d: %d, %d", i-1, i, docs[i-1].Origin.Offset, docs[i].Origin.Offset)
				}
			}
		})
	}
}

func TestArrowReaderBatchOffsets(t *testing.T) {
	// The offset of a batch is where its IPC message starts: the continuation marker.
	rows := tableRows(10)
	data := writeArrowIPC(t, rows, 5, false)
	path := writeFile(t, t.TempDir(), "t.arrows", data)
	docs, err := readArrow(t, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 5} {
		off := docs[i].Origin.Offset
		if !bytes.HasPrefix(data[off:], []byte{0xff, 0xff, 0xff, 0xff}) {
			t.Errorf("row %d: offset %d does not start a message", i, off)
		}
	}
	if docs[0].Origin.Offset == 0 {
		t.Error("the first batch cannot start where the schema does")
	}
}

func TestArrowReaderOnErrorFail(t *testing.T) {
	path := writeFile(t, t.TempDir(), "t.arrow", writeArrowIPC(t, tableRows(6), 4, true))
	docs, err := readArrow(t, path, csvInput(func(in *pipeline.Input) { in.OnError = "fail" }))
	var re *ReadError
	if !errors.As(err, &re) || re.Reason != ReasonMissingText || re.Line != 3 || re.File != path {
		t.Fatalf("err = %v", err)
	}
	if len(docs) != 2 {
		t.Errorf("%d docs before the error", len(docs))
	}
}

func TestArrowReaderTruncated(t *testing.T) {
	rows := tableRows(40)
	data := writeArrowIPC(t, rows, 10, false)
	// Cut inside the third batch's message.
	cut := len(data) * 5 / 8
	path := writeFile(t, t.TempDir(), "t.arrows", data[:cut])
	docs, err := readArrow(t, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := docs[len(docs)-1]
	if last.Rejected.Reason != ReasonTruncated || last.Origin.Offset <= 0 || last.Origin.Offset >= int64(cut) {
		t.Fatalf("last doc %+v", last)
	}
	if n := len(docs) - 1; n%10 != 0 || n == 0 || n >= 40 {
		t.Errorf("%d rows before the break: want whole batches", n)
	}
	// A gzip stream cut short gives read.truncated too.
	gz := gzipBytes(t, data)
	path = writeFile(t, t.TempDir(), "t.arrows.gz", gz[:len(gz)*3/4])
	docs, err = readArrow(t, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if last := docs[len(docs)-1]; last.Rejected.Reason != ReasonTruncated {
		t.Fatalf("last doc %+v", last)
	}
}

func TestArrowReaderStartupErrors(t *testing.T) {
	good := writeArrowIPC(t, tableRows(3), 3, true)
	tests := []struct {
		name    string
		data    []byte
		in      func(*pipeline.Input)
		wantErr string
	}{
		{"no text column", good, func(in *pipeline.Input) { in.TextField = "body" },
			`t.arrow: no column "body" for the text (text_field); the columns are "id" (int64), "text" (utf8), "doc.title" (utf8), "doc.body" (utf8), "doc.tags" (list<item: utf8, nullable>)`},
		{"text not a string", good, func(in *pipeline.Input) { in.TextField = "score" }, `column "score" for the text (text_field) is float64, want a string column`},
		{"dotted path through a non-struct", good, func(in *pipeline.Input) { in.TextField = "text.x" }, `no column "text.x"`},
		{"not arrow", []byte("id,text\n1,x\n"), nil, "t.arrow: not an Arrow IPC file or stream"},
		{"feather v1", []byte("FEA1\x00\x00\x00\x00rest"), nil, "Feather version 1 is not Arrow IPC"},
		{"parquet", []byte("PAR1\x00\x00\x00\x00rest"), nil, "this is a Parquet file; use format parquet"},
		{"empty", nil, nil, "empty file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "t.arrow", tt.data)
			_, err := readArrow(t, path, csvInput(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestArrowValueTypes(t *testing.T) {
	// Types the table above does not hold.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "f32", Type: arrow.PrimitiveTypes.Float32},
		{Name: "inf", Type: arrow.PrimitiveTypes.Float64},
		{Name: "i8", Type: arrow.PrimitiveTypes.Int8},
		{Name: "large", Type: arrow.BinaryTypes.LargeString},
		{Name: "fsl", Type: arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Int16)},
		{Name: "imap", Type: arrow.MapOf(arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String)},
		{Name: "dec", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}},
		{Name: "t64", Type: arrow.FixedWidthTypes.Time64us},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "nul", Type: arrow.Null},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Float32Builder).Append(0.1)
	b.Field(1).(*array.Float64Builder).Append(math.Inf(-1))
	b.Field(2).(*array.Int8Builder).Append(-7)
	b.Field(3).(*array.LargeStringBuilder).Append("ọjọ́")
	fl := b.Field(4).(*array.FixedSizeListBuilder)
	fl.Append(true)
	fl.ValueBuilder().(*array.Int16Builder).AppendValues([]int16{3, 4}, nil)
	mb := b.Field(5).(*array.MapBuilder)
	mb.Append(true)
	mb.KeyBuilder().(*array.Int32Builder).Append(1)
	mb.ItemBuilder().(*array.StringBuilder).Append("one")
	b.Field(6).(*array.Decimal128Builder).Append(decimal128.FromI64(12345))
	b.Field(7).(*array.Time64Builder).Append(arrow.Time64((13*3600 + 5*60 + 9) * 1e6))
	b.Field(8).(*array.BooleanBuilder).Append(true)
	b.Field(9).(*array.NullBuilder).AppendNull()
	rec := b.NewRecordBatch()
	defer rec.Release()
	got := map[string]any{}
	for c, col := range rec.Columns() {
		got[schema.Field(c).Name] = arrowValue(col, 0)
	}
	want := map[string]any{
		"f32": float32(0.1), "inf": "-Inf", "i8": int64(-7), "large": "ọjọ́", "fsl": []any{int64(3), int64(4)},
		"imap": []any{map[string]any{"key": int64(1), "value": "one"}}, "dec": "123.45", "t64": "13:05:09", "b": true, "nul": nil,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%#v\nwant\n%#v", got, want)
	}
	if js := metaJSON(t, got); !strings.Contains(js, `"f32":0.1,`) {
		t.Errorf("float32 not written short: %s", js)
	}
}
