package formats

import (
	"context"
	"io"
	"math/rand"
	"testing"
	"time"

	"github.com/sieve-data/sieve/pipeline"
)

// fuzzColumnar opens data as a file of the given reader and reads it to the end: a corrupt
// or truncated file must give an error or rejects, never a panic or a hang.
func fuzzColumnar(t *testing.T, name string, data []byte, open func(string, *pipeline.Input) (pipeline.Source, error)) {
	path := writeFile(t, t.TempDir(), name, data)
	src, err := open(path, csvInput(nil))
	if err != nil {
		return
	}
	defer src.Close()
	var doc pipeline.Document
	for i := 0; i < 1_000_000; i++ {
		doc = pipeline.Document{}
		if err := src.Next(context.Background(), &doc); err != nil {
			if err == io.EOF {
				return
			}
			return
		}
		if !doc.IsRejected() && doc.Text == "" {
			t.Fatalf("record %d: kept document with empty text", i)
		}
	}
	t.Fatal("reader did not end")
}

func FuzzParquetReader(f *testing.F) {
	f.Add(writeTableParquet(f, tableRows(7), 3))
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzColumnar(t, "f.parquet", data, func(p string, in *pipeline.Input) (pipeline.Source, error) {
			return NewParquetReader(p, in)
		})
	})
}

func FuzzArrowReader(f *testing.F) {
	f.Add(writeArrowIPC(f, tableRows(7), 3, true))
	f.Add(writeArrowIPC(f, tableRows(5), 2, false))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzColumnar(t, "f.arrow", data, func(p string, in *pipeline.Input) (pipeline.Source, error) {
			return NewArrowReader(p, in)
		})
	})
}

// TestCorruptColumnarFiles reads hundreds of randomly corrupted Parquet and Arrow files
// (a deterministic sample of what the fuzzers explore): each must end in an error or
// documents, without a panic, a hang or a huge allocation. arrow-go alone panicked on
// about 1% of them and ran out of memory on one (a corrupt stored Arrow schema).
func TestCorruptColumnarFiles(t *testing.T) {
	seeds := []struct {
		name string
		data []byte
		open func(string, *pipeline.Input) (pipeline.Source, error)
	}{
		{"f.parquet", writeTableParquet(t, tableRows(7), 3), func(p string, in *pipeline.Input) (pipeline.Source, error) { return NewParquetReader(p, in) }},
		{"f.arrow", writeArrowIPC(t, tableRows(7), 3, true), func(p string, in *pipeline.Input) (pipeline.Source, error) { return NewArrowReader(p, in) }},
	}
	n := 400
	if testing.Short() {
		n = 50
	}
	for _, sd := range seeds {
		r := rand.New(rand.NewSource(1))
		for i := 0; i < n; i++ {
			data := append([]byte(nil), sd.data...)
			for k := 0; k < 1+r.Intn(4); k++ {
				data[r.Intn(len(data))] = byte(r.Intn(256))
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				fuzzColumnar(t, sd.name, data, sd.open)
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("%s case %d: reader hangs", sd.name, i)
			}
		}
	}
}
