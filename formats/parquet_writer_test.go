package formats

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/sieve-data/sieve/pipeline"
)

// textRow is a text record as the independent parquet-go reader decodes it.
type textRow struct {
	ID        string  `parquet:"id"`
	Text      string  `parquet:"text"`
	Lang      string  `parquet:"lang"`
	Script    string  `parquet:"script"`
	LangScore float64 `parquet:"lang_score"`
	Source    string  `parquet:"source"`
	Metadata  string  `parquet:"metadata"`
}

type rejectRow struct {
	ID     string `parquet:"id"`
	Stage  string `parquet:"stage"`
	Reason string `parquet:"reason"`
	Detail string `parquet:"detail"`
	File   string `parquet:"file"`
	Line   int64  `parquet:"line"`
	Offset int64  `parquet:"offset"`
	Lang   string `parquet:"lang"`
	Text   string `parquet:"text"`
}

// wantTextRow is the row the writer must produce for d, computed from the document.
func wantTextRow(t testing.TB, d *pipeline.Document) textRow {
	return textRow{validUTF8(d.ID), validUTF8(d.Text), DatasetLang(d), d.Script, d.LangScore, d.Origin.File, metaJSON(t, d.Meta)}
}

func writeParquet(t testing.TB, shape Shape, opts ParquetOptions, docs []pipeline.Document) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewParquetWriter(&buf, shape, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range docs {
		if err := w.Write(&docs[i]); err != nil {
			t.Fatalf("Write(%s): %v", docs[i].ID, err)
		}
	}
	if got := w.Rows(); got != int64(len(docs)) {
		t.Errorf("Rows() = %d, want %d", got, len(docs))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	return buf.Bytes()
}

func openParquetGo(t testing.TB, data []byte) *pq.File {
	t.Helper()
	f, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("parquet-go cannot open the file: %v", err)
	}
	return f
}

func TestParquetWriterReadByParquetGo(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)

	docs := testDocs(2503)
	docs[7].Text = "broken \xff\xfe utf-8" // written with U+FFFD per bad byte
	docs[8].ID = "id-\xc3"
	data := writeParquet(t, TextShape(), ParquetOptions{RowGroupSize: 1000, Allocator: alloc}, docs)

	rows, err := pq.Read[textRow](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("parquet-go: %v", err)
	}
	if len(rows) != len(docs) {
		t.Fatalf("read %d rows, want %d", len(rows), len(docs))
	}
	for i := range docs {
		if want := wantTextRow(t, &docs[i]); rows[i] != want {
			t.Errorf("row %d:\ngot  %+v\nwant %+v", i, rows[i], want)
		}
	}
	if rows[7].Text != "broken \uFFFD\uFFFD utf-8" {
		t.Errorf("invalid UTF-8 written as %q", rows[7].Text)
	}

	f := openParquetGo(t, data)
	md := f.Metadata()
	if len(md.KeyValueMetadata) != 0 {
		t.Errorf("file carries key/value metadata %v; want none (plain Parquet, no ARROW:schema)", md.KeyValueMetadata)
	}
	for _, leaf := range f.Schema().Fields() {
		if !leaf.Required() {
			t.Errorf("column %s is not required", leaf.Name())
		}
		switch typ := leaf.Type(); typ.Kind() {
		case pq.ByteArray:
			if lt := typ.LogicalType(); lt == nil || lt.String() != "STRING" {
				t.Errorf("column %s: BYTE_ARRAY without the STRING annotation", leaf.Name())
			}
		case pq.Double:
			if leaf.Name() != "lang_score" {
				t.Errorf("column %s is DOUBLE", leaf.Name())
			}
		default:
			t.Errorf("column %s has type %s", leaf.Name(), typ)
		}
	}

	wantGroups := []int64{1000, 1000, 503}
	if len(md.RowGroups) != len(wantGroups) {
		t.Fatalf("%d row groups, want %d", len(md.RowGroups), len(wantGroups))
	}
	dict := map[string]bool{"lang": true, "script": true, "source": true}
	for g, rg := range md.RowGroups {
		if rg.NumRows != wantGroups[g] {
			t.Errorf("row group %d has %d rows, want %d", g, rg.NumRows, wantGroups[g])
		}
		group := docs[1000*g : 1000*g+int(rg.NumRows)]
		for _, cc := range rg.Columns {
			cm := cc.MetaData
			name := cm.PathInSchema[0]
			if cm.Codec != format.Zstd {
				t.Errorf("row group %d column %s: codec %v, want ZSTD", g, name, cm.Codec)
			}
			dictEncoded := slices.Contains(cm.Encoding, format.RLEDictionary) || slices.Contains(cm.Encoding, format.PlainDictionary)
			if dictEncoded != dict[name] {
				t.Errorf("row group %d column %s: dictionary-encoded = %v, want %v (encodings %v)", g, name, dictEncoded, dict[name], cm.Encoding)
			}
			if cm.Statistics.NullCount != 0 {
				t.Errorf("row group %d column %s: null count %d", g, name, cm.Statistics.NullCount)
			}
			if name == "lang" || name == "id" {
				var vals []string
				for i := range group {
					if name == "lang" {
						vals = append(vals, DatasetLang(&group[i]))
					} else {
						vals = append(vals, validUTF8(group[i].ID))
					}
				}
				if lo, hi := string(cm.Statistics.MinValue), string(cm.Statistics.MaxValue); lo != slices.Min(vals) || hi != slices.Max(vals) {
					t.Errorf("row group %d column %s: statistics [%q, %q], want [%q, %q]", g, name, lo, hi, slices.Min(vals), slices.Max(vals))
				}
			}
		}
	}
}

func TestParquetWriterReadByPqarrow(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)

	docs := testDocs(1234)
	data := writeParquet(t, TextShape(), ParquetOptions{RowGroupSize: 500, Allocator: alloc}, docs)

	rdr, err := file.NewParquetReader(bytes.NewReader(data), file.WithReadProps(parquet.NewReaderProperties(alloc)))
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 300}, alloc)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	for i, f := range tbl.Schema().Fields() {
		want := TextSchema().Field(i)
		if f.Name != want.Name || !arrow.TypeEqual(f.Type, want.Type) || f.Nullable != want.Nullable {
			t.Errorf("field %d read back as %s, want %s", i, f, want)
		}
	}
	if tbl.NumRows() != int64(len(docs)) {
		t.Fatalf("%d rows, want %d", tbl.NumRows(), len(docs))
	}
	got := make([]textRow, len(docs))
	for c := 0; c < int(tbl.NumCols()); c++ {
		row := 0
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			for i := 0; i < chunk.Len(); i++ {
				r := &got[row]
				switch c {
				case 0:
					r.ID = chunk.(*array.String).Value(i)
				case 1:
					r.Text = chunk.(*array.String).Value(i)
				case 2:
					r.Lang = chunk.(*array.String).Value(i)
				case 3:
					r.Script = chunk.(*array.String).Value(i)
				case 4:
					r.LangScore = chunk.(*array.Float64).Value(i)
				case 5:
					r.Source = chunk.(*array.String).Value(i)
				case 6:
					r.Metadata = chunk.(*array.String).Value(i)
				}
				row++
			}
		}
	}
	for i := range docs {
		if want := wantTextRow(t, &docs[i]); got[i] != want {
			t.Errorf("row %d:\ngot  %+v\nwant %+v", i, got[i], want)
		}
	}
}

func TestParquetWriterCompression(t *testing.T) {
	tests := []struct {
		give string
		want format.CompressionCodec
	}{
		{"", format.Zstd},
		{"zstd", format.Zstd},
		{"snappy", format.Snappy},
		{"gzip", format.Gzip},
		{"none", format.Uncompressed},
	}
	docs := testDocs(300)
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer alloc.AssertSize(t, 0)
			data := writeParquet(t, TextShape(), ParquetOptions{Compression: tt.give, Allocator: alloc}, docs)
			f := openParquetGo(t, data)
			for _, cc := range f.Metadata().RowGroups[0].Columns {
				if cc.MetaData.Codec != tt.want {
					t.Errorf("column %s: codec %v, want %v", cc.MetaData.PathInSchema[0], cc.MetaData.Codec, tt.want)
				}
			}
			rows, err := pq.Read[textRow](bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			for i := range docs {
				if want := wantTextRow(t, &docs[i]); rows[i] != want {
					t.Fatalf("row %d = %+v, want %+v", i, rows[i], want)
				}
			}
		})
	}
	if _, err := NewParquetWriter(io.Discard, TextShape(), ParquetOptions{Compression: "lz4"}); err == nil || !strings.Contains(err.Error(), "zstd, snappy, gzip, none") {
		t.Errorf("compression lz4: error %v, want the list of valid codecs", err)
	}
	if _, err := NewParquetWriter(io.Discard, TextShape(), ParquetOptions{RowGroupSize: -1}); err == nil {
		t.Errorf("negative row group size accepted")
	}
}

func TestParquetWriterDeterministic(t *testing.T) {
	docs := testDocs(3000)
	for _, d := range docs[:100] {
		if d.Meta != nil {
			for k := 0; k < 20; k++ {
				d.Meta[strings.Repeat("q", k)] = k
			}
		}
	}
	for _, c := range []string{"zstd", "snappy", "gzip", "none"} {
		opts := ParquetOptions{Compression: c, RowGroupSize: 700}
		a := writeParquet(t, TextShape(), opts, docs)
		b := writeParquet(t, TextShape(), opts, docs)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two writes of the same documents differ", c)
		}
	}
}

func TestParquetWriterRowGroupBytesBoundsMemory(t *testing.T) {
	docs := testDocs(200)
	big := strings.Repeat("Ọjà náà kún fún ènìyàn. ", 400) // ~10 KB
	for i := range docs {
		docs[i].Text = big
	}
	data := writeParquet(t, TextShape(), ParquetOptions{RowGroupSize: 1000, RowGroupBytes: 100 << 10}, docs)
	f := openParquetGo(t, data)
	var total int64
	for _, rg := range f.Metadata().RowGroups {
		total += rg.NumRows
		if rg.NumRows > 11 { // 100 KB / ~10 KB per row, plus the row that crosses the bound
			t.Errorf("row group of %d rows; the byte bound should cut at about 10", rg.NumRows)
		}
	}
	if total != int64(len(docs)) || len(f.Metadata().RowGroups) < 18 {
		t.Errorf("%d rows in %d row groups", total, len(f.Metadata().RowGroups))
	}
}

func TestParquetWriterRejectShape(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	docs := testDocs(321)
	for i := range docs {
		docs[i].Reject("quality", "quality.too_few_words", "3 words < min 50")
		if i%5 == 0 {
			docs[i].Rejected = pipeline.Rejection{Stage: "read", Reason: "read.bad_json", Detail: "invalid character '}'"}
		}
	}
	data := writeParquet(t, RejectShape(), ParquetOptions{Allocator: alloc}, docs)
	rows, err := pq.Read[rejectRow](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(docs) {
		t.Fatalf("%d rows, want %d", len(rows), len(docs))
	}
	for i, d := range docs {
		want := rejectRow{d.ID, d.Rejected.Stage, d.Rejected.Reason, d.Rejected.Detail, d.Origin.File, d.Origin.Line, d.Origin.Offset, d.Lang, d.Text}
		if rows[i] != want {
			t.Errorf("row %d = %+v, want %+v", i, rows[i], want)
		}
	}
}

func TestParquetWriterNoRows(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	data := writeParquet(t, TextShape(), ParquetOptions{Allocator: alloc}, nil)
	f := openParquetGo(t, data)
	if f.NumRows() != 0 || len(f.Schema().Fields()) != len(TextSchema().Fields()) {
		t.Errorf("empty file: %d rows, %d columns", f.NumRows(), len(f.Schema().Fields()))
	}
}

func TestParquetWriterDocumentErrorLeavesFileIntact(t *testing.T) {
	docs := testDocs(50)
	var buf bytes.Buffer
	w, err := NewParquetWriter(&buf, TextShape(), ParquetOptions{RowGroupSize: 20})
	if err != nil {
		t.Fatal(err)
	}
	bad := pipeline.Document{ID: "bad-meta", Meta: map[string]any{"x": math.NaN()}}
	for i := range docs {
		if err := w.Write(&docs[i]); err != nil {
			t.Fatal(err)
		}
		if i == 25 {
			if err := w.Write(&bad); err == nil || !strings.Contains(err.Error(), "bad-meta") {
				t.Errorf("Write(bad-meta) error = %v, want one naming the document", err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if want := writeParquet(t, TextShape(), ParquetOptions{RowGroupSize: 20}, docs); !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("file after a rejected write differs from the file without it")
	}
}

// TestParquetWriterIOErrorIsSticky does not use a checked allocator: after a failed page
// write, arrow-go v18.8.0 keeps a reference to the column values it was encoding (released
// only by a successful flush), so the accounting never returns to 0. With the default Go
// allocator that memory is garbage collected with the writer.
func TestParquetWriterIOErrorIsSticky(t *testing.T) {
	docs := testDocs(5000)
	w, err := NewParquetWriter(&failingWriter{after: 50 << 10}, TextShape(), ParquetOptions{Compression: "none", RowGroupSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for i := range docs {
		if werr = w.Write(&docs[i]); werr != nil {
			break
		}
	}
	if werr == nil {
		t.Fatal("no error from Write on a failing writer after 500 KB")
	}
	if err := w.Close(); err == nil {
		t.Error("Close after an I/O error returned nil")
	}
	if err := w.Write(&docs[0]); err == nil {
		t.Error("Write after a failed Close succeeded")
	}
}

func TestParquetWriterDiscardReleasesMemory(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	docs := testDocs(1500)
	w, err := NewParquetWriter(io.Discard, TextShape(), ParquetOptions{RowGroupSize: 1000, Allocator: alloc})
	if err != nil {
		t.Fatal(err)
	}
	for i := range docs {
		if err := w.Write(&docs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if w.Buffered() == 0 {
		t.Fatal("expected a partly filled row group before Discard")
	}
	w.Discard()
	w.Discard()
}

func TestParquetWriterFlushAndRelease(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	docs := testDocs(900)
	var buf bytes.Buffer
	w, err := NewParquetWriter(&buf, TextShape(), ParquetOptions{RowGroupSize: 400, Allocator: alloc})
	if err != nil {
		t.Fatal(err)
	}
	for i := range docs {
		if err := w.Write(&docs[i]); err != nil {
			t.Fatal(err)
		}
		if i == 99 || i == 500 {
			if w.Retained() < w.Buffered() || w.Buffered() == 0 {
				t.Fatalf("after %d rows: retained %d, buffered %d", i+1, w.Retained(), w.Buffered())
			}
			if err := w.FlushAndRelease(); err != nil {
				t.Fatal(err)
			}
			if w.Retained() > 64 || w.Buffered() != 0 {
				t.Errorf("after FlushAndRelease: retained %d, buffered %d", w.Retained(), w.Buffered())
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	var sizes []int64
	for _, rg := range openParquetGo(t, data).Metadata().RowGroups {
		sizes = append(sizes, rg.NumRows)
	}
	if want := []int64{100, 400, 1, 399}; !slices.Equal(sizes, want) {
		t.Errorf("row groups %v, want %v", sizes, want)
	}
	rows, err := pq.Read[textRow](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range docs {
		if want := wantTextRow(t, &docs[i]); rows[i] != want {
			t.Fatalf("row %d = %+v, want %+v", i, rows[i], want)
		}
	}
}

// FuzzWritersRoundTrip writes documents made from arbitrary strings to Parquet and JSONL
// and reads them back: Parquet with parquet-go, JSONL with encoding/json. Every field
// must survive, with invalid UTF-8 replaced per byte in both.
func FuzzWritersRoundTrip(f *testing.F) {
	f.Add("id-1", "Ẹ kú àárọ̀", "yor_Latn", "src/a.jsonl", []byte(`{"k":[1,"v",null]}`), 0.5)
	f.Add("", "", "", "", []byte(`{}`), 0.0)
	f.Add("\xff", "a\x00b\u2028\xe2\x80", "und", "\\", []byte(`{"<&>":"\u0000"}`), -1e300)
	f.Fuzz(func(t *testing.T, id, text, lang, source string, meta []byte, score float64) {
		if math.IsNaN(score) || math.IsInf(score, 0) {
			return // JSON cannot hold them; Parquet round trip of NaN is not a value comparison
		}
		var m map[string]any
		_ = json.Unmarshal(meta, &m)
		docs := []pipeline.Document{
			{ID: id, Text: text, Lang: lang, Script: lang, LangScore: score, Origin: pipeline.Position{File: source}, Meta: m},
			{ID: text, Text: id, Lang: "", Origin: pipeline.Position{File: source}},
		}
		data := writeParquet(t, TextShape(), ParquetOptions{RowGroupSize: 1}, docs)
		rows, err := pq.Read[textRow](bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("parquet-go: %v", err)
		}
		lines := jsonlLines(t, writeJSONL(t, TextShape(), "none", docs), false)
		for i := range docs {
			want := wantTextRow(t, &docs[i])
			want.Script = validUTF8(want.Script)
			want.Lang = validUTF8(want.Lang)
			want.Source = validUTF8(want.Source)
			if rows[i] != want {
				t.Errorf("parquet row %d = %+v, want %+v", i, rows[i], want)
			}
			var l struct {
				textLine
				Metadata json.RawMessage `json:"metadata"`
			}
			if err := json.Unmarshal(lines[i], &l); err != nil {
				t.Fatalf("jsonl line %d: %v", i, err)
			}
			got := textRow{l.ID, l.Text, l.Lang, l.Script, l.LangScore, l.Source, string(l.Metadata)}
			if got != want {
				t.Errorf("jsonl line %d = %+v, want %+v", i, got, want)
			}
		}
	})
}

func BenchmarkParquetWriter(b *testing.B) {
	docs, total := benchDocs(8192) // 8 MB of distinct text: no free matches for zstd
	for _, compression := range []string{"zstd", "snappy", "none"} {
		b.Run(compression, func(b *testing.B) {
			w, err := NewParquetWriter(bufio.NewWriter(io.Discard), TextShape(), ParquetOptions{Compression: compression})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(total / int64(len(docs)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := w.Write(&docs[i%len(docs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
