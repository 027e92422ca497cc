package formats

import (
	"bufio"
	"io"
	"testing"

	"github.com/sieve-data/sieve/pipeline"
)

// benchInstructionDocs returns n instruction records of about 1.3 KB each (a question, and
// a ~1 KB answer of benchDocs' text), with their bytes of row strings as the writers count
// them (messages, Alpaca columns, metadata).
func benchInstructionDocs(n int) ([]pipeline.Document, int64) {
	docs, _ := benchDocs(n)
	for i := range docs {
		d := &docs[i]
		q := sentences[(i+5)%len(sentences)].text
		d.Instruction = &pipeline.Instruction{
			Messages: []pipeline.Message{{Role: "user", Content: q}, {Role: "assistant", Content: d.Text}},
			Task:     "qa",
		}
		d.Text = d.Instruction.View("")
	}
	return docs, instructionBytes(docs)
}

func instructionBytes(docs []pipeline.Document) int64 {
	var n int64
	var e jsonEncoder
	for i := range docs {
		d := &docs[i]
		ins, inp, out := d.Instruction.Flat()
		n += int64(len(d.ID) + len(DatasetLang(d)) + len(d.Script) + len(ins) + len(inp) + len(out) + len(d.Instruction.Task) + len(d.Origin.File))
		for _, m := range d.Instruction.Messages {
			n += int64(len(m.Role) + len(m.Content))
		}
		e.buf = e.buf[:0]
		_ = e.appendMeta(d.Meta)
		n += int64(len(e.buf))
	}
	return n
}

// cpuMBps reports MB of row data per CPU second (all goroutines: encoders and compressors
// included), the figure that says how a writer scales per core.
func cpuMBps(b *testing.B, bytesPerOp int64, run func()) {
	b.SetBytes(bytesPerOp)
	b.ReportAllocs()
	cpu0 := cpuTime()
	run()
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(b.N)*float64(bytesPerOp)/1e6/cpu.Seconds(), "MB/cpu-s")
}

// BenchmarkInstructionWriters writes ~1.3 KB instruction records (messages list, Alpaca
// columns) in each output format. MB are of row strings; MB/cpu-s counts every goroutine.
func BenchmarkInstructionWriters(b *testing.B) {
	docs, total := benchInstructionDocs(8192)
	per := total / int64(len(docs))
	for _, tt := range []struct {
		name string
		open func(w io.Writer) (shardWriter, error)
	}{
		{"parquet/zstd", func(w io.Writer) (shardWriter, error) {
			return NewParquetWriter(w, InstructionShape(), ParquetOptions{Compression: "zstd"})
		}},
		{"parquet/snappy", func(w io.Writer) (shardWriter, error) {
			return NewParquetWriter(w, InstructionShape(), ParquetOptions{Compression: "snappy"})
		}},
		{"arrow/none", func(w io.Writer) (shardWriter, error) {
			return NewArrowWriter(w, InstructionShape(), ArrowOptions{Compression: "none"})
		}},
		{"arrow/zstd", func(w io.Writer) (shardWriter, error) {
			return NewArrowWriter(w, InstructionShape(), ArrowOptions{Compression: "zstd"})
		}},
		{"jsonl/zstd", func(w io.Writer) (shardWriter, error) { return NewJSONLWriter(w, InstructionShape(), "zstd") }},
	} {
		b.Run(tt.name, func(b *testing.B) {
			w, err := tt.open(bufio.NewWriter(io.Discard))
			if err != nil {
				b.Fatal(err)
			}
			cpuMBps(b, per, func() {
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
		})
	}
}

// BenchmarkArrowWriter writes ~1 KB text records as Arrow IPC, like BenchmarkParquetWriter.
func BenchmarkArrowWriter(b *testing.B) {
	docs, total := benchDocs(8192)
	for _, compression := range []string{"none", "lz4", "zstd"} {
		b.Run(compression, func(b *testing.B) {
			w, err := NewArrowWriter(bufio.NewWriter(io.Discard), TextShape(), ArrowOptions{Compression: compression})
			if err != nil {
				b.Fatal(err)
			}
			cpuMBps(b, total/int64(len(docs)), func() {
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
		})
	}
}

// BenchmarkParquetWriterCPU is BenchmarkParquetWriter (text records, zstd) with the CPU
// time of every goroutine counted.
func BenchmarkParquetWriterCPU(b *testing.B) {
	docs, total := benchDocs(8192)
	w, err := NewParquetWriter(bufio.NewWriter(io.Discard), TextShape(), ParquetOptions{Compression: "zstd"})
	if err != nil {
		b.Fatal(err)
	}
	cpuMBps(b, total/int64(len(docs)), func() {
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

// BenchmarkParquetReadInstruction reads an instruction dataset written by sieve back
// through the Parquet reader and the messages adapter: the nested column decoded, each row
// made a checked instruction record again.
func BenchmarkParquetReadInstruction(b *testing.B) {
	docs, size := benchInstructionDocs(20000)
	data := writeParquet(b, InstructionShape(), ParquetOptions{}, docs)
	path := writeFile(b, b.TempDir(), "bench.parquet", data)
	in := pipeline.DefaultInput()
	in.Path, in.Adapter = path, "messages"
	b.Logf("%d rows, %.1f MB of values, %.1f MB on disk", len(docs), float64(size)/1e6, float64(len(data))/1e6)
	benchReader(b, size, len(docs), func() (pipeline.Source, error) {
		files, err := PlanInputs([]pipeline.Input{in}, "")
		if err != nil {
			return nil, err
		}
		return OpenInputs(files), nil
	})
}

// BenchmarkAdapter applies the sharegpt adapter to decoded records of three turns.
func BenchmarkAdapter(b *testing.B) {
	in := pipeline.Input{Adapter: "sharegpt"}
	a, err := newAdapter(&in)
	if err != nil {
		b.Fatal(err)
	}
	docs, _ := benchDocs(256)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d := &docs[i%len(docs)]
		doc := pipeline.Document{ID: d.ID, Meta: map[string]any{"conversations": []any{
			map[string]any{"from": "system", "value": "Answer briefly."},
			map[string]any{"from": "human", "value": "What happened at the market?"},
			map[string]any{"from": "gpt", "value": d.Text},
		}, "source": "bench"}}
		if err := a.apply(&doc); err != nil || doc.IsRejected() {
			b.Fatal(err, doc.Rejected)
		}
		i++
	}
}
