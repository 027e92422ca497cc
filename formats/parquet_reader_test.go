package formats

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	pq "github.com/parquet-go/parquet-go"

	"github.com/sieve-data/sieve/pipeline"
)

// writeTableParquet writes rows with pqarrow in row groups of rgRows rows.
func writeTableParquet(t testing.TB, rows []tableRow, rgRows int) []byte {
	t.Helper()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(int64(rgRows)), parquet.WithCompression(compress.Codecs.Zstd))
	w, err := pqarrow.NewFileWriter(tableSchema(), &buf, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	rec := tableRecord(t, memory.DefaultAllocator, rows)
	defer rec.Release()
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readParquet(t testing.TB, path string, in *pipeline.Input) ([]pipeline.Document, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r, err := newParquetReader(path, in, mem)
	if err != nil {
		return nil, err
	}
	return readDocs(t, r)
}

func TestParquetReader(t *testing.T) {
	rows := tableRows(23)
	data := writeTableParquet(t, rows, 5)
	path := writeFile(t, t.TempDir(), "t.parquet", data)
	for _, tt := range []struct{ text, id string }{{"text", "id"}, {"doc.body", "doc.title"}, {"text", "none"}} {
		t.Run(tt.text+","+tt.id, func(t *testing.T) {
			in := csvInput(func(in *pipeline.Input) { in.TextField, in.IDField = tt.text, tt.id })
			docs, err := readParquet(t, path, in)
			if err != nil {
				t.Fatal(err)
			}
			checkTableDocs(t, docs, rows, path, tt.text, tt.id)
			for _, d := range docs {
				if d.IsRejected() && !strings.HasSuffix(d.Rejected.Detail, fmt.Sprintf("(row group %d)", (d.Origin.Line-1)/5)) {
					t.Errorf("row %d: detail %q does not name its row group", d.Origin.Line, d.Rejected.Detail)
				}
			}
		})
	}

	// Origin.Offset is where each row group starts, as an independent reader sees it.
	docs, err := readParquet(t, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	rgs := f.Metadata().RowGroups
	if len(rgs) != 5 {
		t.Fatalf("%d row groups, want 5", len(rgs))
	}
	for i, d := range docs {
		cc := rgs[i/5].Columns[0].MetaData
		want := cc.DataPageOffset
		if cc.DictionaryPageOffset > 0 {
			want = cc.DictionaryPageOffset
		}
		if d.Origin.Offset != want {
			t.Fatalf("row %d: offset %d, want %d", i+1, d.Origin.Offset, want)
		}
	}
	if docs[0].Origin.Offset != 4 {
		t.Errorf("first row group at %d, want 4 (after PAR1)", docs[0].Origin.Offset)
	}
}

func TestParquetReaderReadsSieveOutput(t *testing.T) {
	// A dataset written by sieve can be read again (e.g. to filter it further).
	in := testDocs(50)
	data := writeParquet(t, TextShape(), ParquetOptions{RowGroupSize: 16}, in)
	path := writeFile(t, t.TempDir(), "train-00000-of-00001.parquet", data)
	docs, err := readParquet(t, path, csvInput(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != len(in) {
		t.Fatalf("%d docs, want %d", len(docs), len(in))
	}
	for i, d := range docs {
		w := &in[i]
		if d.ID != w.ID || d.Text != w.Text || d.IsRejected() || d.Meta["lang"] != DatasetLang(w) || d.Meta["source"] != w.Origin.File ||
			d.Meta["metadata"] != metaJSON(t, w.Meta) || d.Meta["lang_score"] != w.LangScore {
			t.Fatalf("row %d: %+v\nwant %+v", i, d, *w)
		}
	}
}

func TestParquetReaderOnErrorFail(t *testing.T) {
	path := writeFile(t, t.TempDir(), "t.parquet", writeTableParquet(t, tableRows(8), 2))
	docs, err := readParquet(t, path, csvInput(func(in *pipeline.Input) { in.OnError = "fail" }))
	var re *ReadError
	if !errors.As(err, &re) || re.Reason != ReasonMissingText || re.Line != 3 || re.Offset <= 4 {
		t.Fatalf("err = %v", err)
	}
	if want := path + ":3 (byte "; !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "read.missing_text: text is null (row group 1)") {
		t.Errorf("message %q", err)
	}
	if len(docs) != 2 {
		t.Errorf("%d docs before the error", len(docs))
	}
}

func TestParquetReaderStartupErrors(t *testing.T) {
	good := writeTableParquet(t, tableRows(3), 5)
	tests := []struct {
		name    string
		data    []byte
		in      func(*pipeline.Input)
		wantErr string
	}{
		{"no text column", good, func(in *pipeline.Input) { in.TextField = "content" },
			`t.parquet: no column "content" for the text (text_field); the columns are "id" (int64), "text" (utf8), "doc.title" (utf8)`},
		{"text not a string", good, func(in *pipeline.Input) { in.TextField = "doc.tags" }, `column "doc.tags" for the text (text_field) is list<`},
		{"compressed whole", gzipBytes(t, good), nil, "a compressed Parquet file cannot be read"},
		{"not parquet", []byte("id,text\n"), nil, "t.parquet: not a Parquet file"},
		{"footer cut off", good[:len(good)-100], nil, "t.parquet: "},
		{"empty", nil, nil, "t.parquet: not a Parquet file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "t.parquet", tt.data)
			_, err := readParquet(t, path, csvInput(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	if _, err := NewParquetReader(t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	if _, err := NewParquetReader("/nonexistent/t.parquet", nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func TestParquetReaderProgress(t *testing.T) {
	data := writeTableParquet(t, tableRows(20), 5)
	path := writeFile(t, t.TempDir(), "t.parquet", data)
	r, err := NewParquetReader(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	for {
		var doc pipeline.Document
		if err := r.Next(t.Context(), &doc); err != nil {
			break
		}
		done, total := r.Progress()
		if done < last || total != int64(len(data)) {
			t.Fatalf("progress %d/%d after %d", done, total, last)
		}
		last = done
	}
	if done, total := r.Progress(); done != total {
		t.Errorf("at the end: %d/%d", done, total)
	}
	r.Close()
}

func BenchmarkParquetReader(b *testing.B) {
	// Documents of about 1 KB of text with metadata, as sieve writes them (zstd, row groups of
	// 10000 rows); MB are of text and metadata strings.
	path, size, n := benchParquetFile(b, 40000, 0)
	benchReader(b, size, n, func() (pipeline.Source, error) { return NewParquetReader(path, csvInput(nil)) })
}

// benchParquetFile writes n documents of about 1 KB as sieve writes them, in row groups of
// rowGroup rows (0: the default), and returns the file, the bytes of its values (text and
// metadata strings) and n.
func benchParquetFile(b *testing.B, n, rowGroup int) (string, int64, int) {
	docs, _ := benchDocs(n)
	data := writeParquet(b, TextShape(), ParquetOptions{RowGroupSize: rowGroup}, docs)
	var size int64
	for i := range docs {
		size += int64(len(docs[i].ID) + len(docs[i].Text) + len(docs[i].Lang) + len(docs[i].Script) + len(docs[i].Origin.File) + len(metaJSON(b, docs[i].Meta)) + 8)
	}
	path := writeFile(b, b.TempDir(), "bench.parquet", data)
	b.Logf("%d rows, %.1f MB of values, %.1f MB on disk", len(docs), float64(size)/1e6, float64(len(data))/1e6)
	return path, size, len(docs)
}

// BenchmarkParquetChecksum reads a Parquet file whole without and with its SHA-256 (what a
// run records in manifest.json), and reports the share of the file read a second time for
// the hash (from the page cache: the reads of bytes not read in file order).
func BenchmarkParquetChecksum(b *testing.B) {
	path, size, n := benchParquetFile(b, 40000, 0)
	for _, hash := range []bool{false, true} {
		b.Run(map[bool]string{false: "off", true: "on"}[hash], func(b *testing.B) {
			var last *ParquetReader
			benchReader(b, size, n, func() (pipeline.Source, error) {
				r, err := openParquetFile(path, csvInput(nil), memory.DefaultAllocator, hash)
				last = r
				return r, err
			})
			if hash {
				if sum, err := last.checksum(); err != nil || sum == "" {
					b.Fatal(sum, err)
				}
				b.ReportMetric(100*float64(last.src.again)/float64(last.src.size), "%reread")
			}
		})
	}
}

func BenchmarkArrowReader(b *testing.B) {
	rows := tableRows(20000)
	for i := range rows {
		text := strings.Repeat(fmt.Sprintf("Ẹ káàárọ̀ Habari ya asubuhi %d ", i), 30)
		rows[i].Text, rows[i].Doc, rows[i].Score = &text, true, 1
	}
	data := writeArrowIPC(b, rows, 4096, true)
	path := writeFile(b, b.TempDir(), "bench.arrow", data)
	benchReader(b, int64(len(data)), len(rows), func() (pipeline.Source, error) { return NewArrowReader(path, nil) })
}

func TestPlanInputsMixedFormats(t *testing.T) {
	// One directory holding every input format, read through PlanInputs and Inputs.
	dir := t.TempDir()
	rows := tableRows(9)
	writeFile(t, dir, "a/rows.parquet", writeTableParquet(t, rows, 4))
	writeFile(t, dir, "a/rows.arrow", writeArrowIPC(t, rows, 4, true))
	writeFile(t, dir, "b/notes.csv", []byte("id,text\nc1,Habari\nc2,Bore da\n"))
	writeFile(t, dir, "b/pairs.tsv.gz", gzipBytes(t, []byte("text\tid\nSawubona\tt1\n")))
	writeFile(t, dir, "b/c/lines.jsonl.zst", zstdBytes(t, []byte(`{"id":"j1","text":"Kaixo"}`+"\n")))
	writeFile(t, dir, "b/c/para.txt", []byte("Góðan daginn\n"))
	wet, _ := warcFile(t, []warcRec{warcinfo, wetRec(1, "https://x/1", "yor", "Ẹ kú àárọ̀")}, true)
	writeFile(t, dir, "crawl/CC-MAIN-1.warc.wet.gz", wet)
	warc, _ := warcFile(t, crawlRecords(t)[:4], true)
	writeFile(t, dir, "crawl/CC-MAIN-1.warc.gz", warc)

	for _, pattern := range []string{".", "**/*"} {
		t.Run(pattern, func(t *testing.T) {
			in := pipeline.DefaultInput()
			in.Path = pattern
			files, err := PlanInputs([]pipeline.Input{in}, dir)
			if err != nil {
				t.Fatal(err)
			}
			formats := map[string]string{}
			for _, f := range files {
				formats[f.Path[len(dir)+1:]] = f.Format
			}
			want := map[string]string{
				"a/rows.parquet": "parquet", "a/rows.arrow": "arrow", "b/notes.csv": "csv", "b/pairs.tsv.gz": "tsv",
				"b/c/lines.jsonl.zst": "jsonl", "b/c/para.txt": "text", "crawl/CC-MAIN-1.warc.wet.gz": "warc", "crawl/CC-MAIN-1.warc.gz": "warc",
			}
			if !reflect.DeepEqual(formats, want) {
				t.Fatalf("formats %v, want %v", formats, want)
			}
			src := OpenInputs(files)
			docs, err := readDocs(t, src)
			if err != nil {
				t.Fatal(err)
			}
			byFile := map[string]int{}
			for _, d := range docs {
				byFile[d.Origin.File[len(dir)+1:]]++
			}
			wantDocs := map[string]int{"a/rows.parquet": 9, "a/rows.arrow": 9, "b/notes.csv": 2, "b/pairs.tsv.gz": 1,
				"b/c/lines.jsonl.zst": 1, "b/c/para.txt": 1, "crawl/CC-MAIN-1.warc.wet.gz": 1, "crawl/CC-MAIN-1.warc.gz": 1}
			if !reflect.DeepEqual(byFile, wantDocs) {
				t.Errorf("documents per file %v, want %v", byFile, wantDocs)
			}
			sums := src.Files()
			if len(sums) != len(files) {
				t.Fatalf("%d summaries", len(sums))
			}
			for _, s := range sums {
				if s.Records != int64(wantDocs[s.Path[len(dir)+1:]]) {
					t.Errorf("%s: %d records", s.Path, s.Records)
				}
				if data, _ := os.ReadFile(s.Path); s.SHA256 != sha256Hex(data) {
					t.Errorf("%s: checksum %q, want %s", s.Path, s.SHA256, sha256Hex(data))
				}
			}
		})
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// The checksum of a file read by random access is that of its bytes whatever the order of
// the reads, and costs no second read of bytes read in order.
func TestHashingReaderAt(t *testing.T) {
	data := make([]byte, 3<<20+17)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	path := writeFile(t, t.TempDir(), "f.bin", data)
	for _, tt := range []struct {
		name       string
		reads      [][2]int64 // offset, length
		maxAgainKB int64
	}{
		{"in order", [][2]int64{{0, 1 << 20}, {1 << 20, 1 << 20}, {2 << 20, 1<<20 + 17}}, 0},
		{"footer first", [][2]int64{{int64(len(data)) - 100, 100}, {0, 3 << 20}}, 1},
		{"interleaved columns", [][2]int64{{0, 1000}, {2 << 20, 1000}, {1000, 1000}, {2<<20 + 1000, 1000}}, 3 << 10},
		{"nothing read", nil, 3<<10 + 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			osf, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer osf.Close()
			r := &hashingReaderAt{f: osf, size: int64(len(data)), h: sha256.New()}
			for _, rd := range tt.reads {
				buf := make([]byte, rd[1])
				if n, err := r.ReadAt(buf, rd[0]); n != len(buf) || err != nil || string(buf) != string(data[rd[0]:rd[0]+rd[1]]) {
					t.Fatalf("ReadAt(%d, %d): %d, %v", rd[0], rd[1], n, err)
				}
			}
			sum, err := r.sum()
			if err != nil || sum != sha256Hex(data) {
				t.Fatalf("sum %s, %v; want %s", sum, err, sha256Hex(data))
			}
			if r.inline+r.again != int64(len(data)) || r.again > tt.maxAgainKB<<10 {
				t.Errorf("%d bytes hashed as read, %d read again", r.inline, r.again)
			}
		})
	}
}
