package formats

import (
	"bytes"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sieve-data/sieve/pipeline"
)

func writeArrow(t testing.TB, shape Shape, opts ArrowOptions, docs []pipeline.Document) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewArrowWriter(&buf, shape, opts)
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

// readArrowFile reads an Arrow IPC file with arrow's own reader under alloc and calls each
// for every record batch; it returns the batch sizes.
func readArrowFile(t testing.TB, data []byte, alloc memory.Allocator, schema *arrow.Schema, each func(rec arrow.RecordBatch)) []int64 {
	t.Helper()
	r, err := ipc.NewFileReader(bytes.NewReader(data), ipc.WithAllocator(alloc))
	if err != nil {
		t.Fatalf("ipc.NewFileReader: %v", err)
	}
	defer r.Close()
	if !r.Schema().Equal(schema) {
		t.Fatalf("schema read back:\n%s\nwant\n%s", r.Schema(), schema)
	}
	var sizes []int64
	for i := 0; i < r.NumRecords(); i++ {
		rec, err := r.RecordBatch(i)
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		sizes = append(sizes, rec.NumRows())
		each(rec)
	}
	return sizes
}

func TestArrowWriterTextRoundTrip(t *testing.T) {
	for _, compression := range []string{"none", "zstd", "lz4"} {
		t.Run(compression, func(t *testing.T) {
			alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer alloc.AssertSize(t, 0)
			docs := testDocs(2503)
			docs[7].Text = "broken \xff\xfe utf-8"
			data := writeArrow(t, TextShape(), ArrowOptions{Compression: compression, BatchRows: 1000, Allocator: alloc}, docs)
			var rows []textRow
			sizes := readArrowFile(t, data, alloc, TextSchema(), func(rec arrow.RecordBatch) {
				str := func(c, i int) string { return rec.Column(c).(*array.String).Value(i) }
				for i := 0; i < int(rec.NumRows()); i++ {
					rows = append(rows, textRow{str(0, i), str(1, i), str(2, i), str(3, i),
						rec.Column(4).(*array.Float64).Value(i), str(5, i), str(6, i)})
				}
			})
			if len(sizes) != 3 || sizes[0] != 1000 || sizes[2] != 503 {
				t.Errorf("batches of %v rows, want [1000 1000 503]", sizes)
			}
			if len(rows) != len(docs) {
				t.Fatalf("%d rows, want %d", len(rows), len(docs))
			}
			for i := range docs {
				if want := wantTextRow(t, &docs[i]); rows[i] != want {
					t.Errorf("row %d:\ngot  %+v\nwant %+v", i, rows[i], want)
				}
			}
		})
	}
}

func TestArrowWriterInstructionRoundTrip(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	docs := instructionDocs(1501)
	data := writeArrow(t, InstructionShape(), ArrowOptions{Compression: "zstd", BatchRows: 400, Allocator: alloc}, docs)
	var rows []instructionRow
	readArrowFile(t, data, alloc, InstructionSchema(), func(rec arrow.RecordBatch) {
		rows = append(rows, recordInstructionRows(t, rec)...)
	})
	if len(rows) != len(docs) {
		t.Fatalf("%d rows, want %d", len(rows), len(docs))
	}
	for i := range docs {
		if want := wantInstructionRow(t, &docs[i]); !instructionRowsEqual(rows[i], want) {
			t.Errorf("row %d:\ngot  %+v\nwant %+v", i, rows[i], want)
		}
	}
}

func TestArrowWriterDeterministicAndEmpty(t *testing.T) {
	docs := instructionDocs(300)
	a := writeArrow(t, InstructionShape(), ArrowOptions{Compression: "zstd", BatchRows: 64}, docs)
	b := writeArrow(t, InstructionShape(), ArrowOptions{Compression: "zstd", BatchRows: 64}, docs)
	if !bytes.Equal(a, b) {
		t.Error("the same documents gave different bytes")
	}
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	empty := writeArrow(t, TextShape(), ArrowOptions{Allocator: alloc}, nil)
	if n := len(readArrowFile(t, empty, alloc, TextSchema(), func(arrow.RecordBatch) {})); n != 0 {
		t.Errorf("empty file has %d batches", n)
	}
}

func TestArrowWriterDocumentErrorLeavesFileIntact(t *testing.T) {
	docs := instructionDocs(10)
	docs[4].Instruction = nil
	var buf bytes.Buffer
	w, err := NewArrowWriter(&buf, InstructionShape(), ArrowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range docs {
		if err := w.Write(&docs[i]); (err != nil) != (i == 4) {
			t.Fatalf("Write(%d) = %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&docs[0]); err == nil {
		t.Error("Write after Close succeeded")
	}
	n := 0
	readArrowFile(t, buf.Bytes(), memory.DefaultAllocator, InstructionSchema(), func(rec arrow.RecordBatch) { n += int(rec.NumRows()) })
	if n != 9 {
		t.Errorf("%d rows, want 9", n)
	}
	if _, err := NewArrowWriter(&buf, TextShape(), ArrowOptions{Compression: "snappy"}); err == nil {
		t.Error("snappy accepted for Arrow")
	}
}

func TestCountRowsArrow(t *testing.T) {
	docs := testDocs(1234)
	p := writeFile(t, t.TempDir(), "train-00000-of-00001.arrow", writeArrow(t, TextShape(), ArrowOptions{BatchRows: 100}, docs))
	n, err := CountRows(p)
	if err != nil || n != int64(len(docs)) {
		t.Errorf("CountRows = %d, %v; want %d", n, err, len(docs))
	}
	if err := os.WriteFile(p, []byte("not arrow"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CountRows(p); err == nil {
		t.Error("CountRows of a broken .arrow file gave no error")
	}
}
