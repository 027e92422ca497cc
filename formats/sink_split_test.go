package formats

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/parquet-go/parquet-go"

	"github.com/sieve-data/sieve/pipeline"
)

// readInstructionFile reads a dataset file of the instruction shape in any output format.
func readInstructionFile(t testing.TB, p string) []instructionRow {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case strings.HasSuffix(p, ".parquet"):
		rows, err := pq.Read[instructionRow](bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return rows
	case strings.HasSuffix(p, ".arrow"):
		var rows []instructionRow
		readArrowFile(t, data, memory.DefaultAllocator, InstructionSchema(), func(rec arrow.RecordBatch) {
			rows = append(rows, recordInstructionRows(t, rec)...)
		})
		return rows
	}
	var rows []instructionRow
	for _, line := range jsonlLines(t, data, strings.HasSuffix(p, ".zst")) {
		var l struct {
			instructionRow
			Metadata json.RawMessage `json:"metadata"`
		}
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		l.instructionRow.Metadata = string(l.Metadata)
		rows = append(rows, l.instructionRow)
	}
	return rows
}

var shardRe = regexp.MustCompile(`^data/([^/]+)/(train|validation|test)-(\d{5})-of-(\d{5})\.`)

func TestDatasetSinkSplitsAndShapes(t *testing.T) {
	splits := map[string]float64{"train": 0.8, "validation": 0.1, "test": 0.1}
	for _, tt := range []struct{ format, compression, ext string }{
		{"parquet", "zstd", ".parquet"},
		{"arrow", "none", ".arrow"},
		{"jsonl", "zstd", ".jsonl.zst"},
	} {
		t.Run(tt.format, func(t *testing.T) {
			docs := instructionDocs(3000)
			out := pipeline.Output{Format: tt.format, Compression: tt.compression, RowGroupSize: 128, MaxShardRows: 100,
				Shape: "instruction", Splits: splits}
			dir := t.TempDir()
			s, err := NewDatasetSink(dir, &out)
			if err != nil {
				t.Fatal(err)
			}
			writeAll(t, s, docs)
			if err := s.Commit(context.Background()); err != nil {
				t.Fatal(err)
			}
			// The expected files: per language and split, chunks of 100 in Seq order.
			want := map[string][]instructionRow{}
			byKey := map[[2]string][]instructionRow{}
			for i := range docs {
				k := [2]string{DatasetLang(&docs[i]), out.SplitOf(docs[i].ID)}
				byKey[k] = append(byKey[k], wantInstructionRow(t, &docs[i]))
			}
			seenSplit := map[string]bool{}
			for k, rows := range byKey {
				seenSplit[k[1]] = true
				n := (len(rows) + 99) / 100
				for i := 0; i < n; i++ {
					want[fmt.Sprintf("data/%s/%s-%05d-of-%05d%s", k[0], k[1], i, n, tt.ext)] = rows[i*100 : min((i+1)*100, len(rows))]
				}
			}
			if len(seenSplit) != 3 {
				t.Fatalf("3000 documents went to splits %v only", seenSplit)
			}
			files := listFiles(t, dir)
			if len(files) != len(want) {
				t.Errorf("%d files, want %d: %v", len(files), len(want), files)
			}
			for _, f := range files {
				rows, ok := want[f]
				if !ok {
					t.Errorf("unexpected file %s", f)
					continue
				}
				got := readInstructionFile(t, filepath.Join(dir, f))
				if len(got) != len(rows) {
					t.Errorf("%s: %d rows, want %d", f, len(got), len(rows))
					continue
				}
				for i := range rows {
					if !instructionRowsEqual(got[i], rows[i]) {
						t.Errorf("%s row %d differs:\ngot  %+v\nwant %+v", f, i, got[i], rows[i])
						break
					}
				}
			}
			if got := s.Files(); len(got) != len(files) {
				t.Errorf("Files() lists %d, the directory holds %d", len(got), len(files))
			}
		})
	}
}

func TestDatasetSinkMaxShardBytes(t *testing.T) {
	docs := testDocs(1000)
	const limit = 8 << 10
	for _, format := range []string{"parquet", "jsonl", "arrow"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			s, err := NewDatasetSink(dir, &pipeline.Output{Format: format, Compression: "none", RowGroupSize: 50, MaxShardBytes: limit})
			if err != nil {
				t.Fatal(err)
			}
			writeAll(t, s, docs)
			if err := s.Commit(context.Background()); err != nil {
				t.Fatal(err)
			}
			// Rebuild each language's shards: a shard ends at the first row that brings its
			// data to the limit, as measured by a fresh writer of the same format.
			byLang := map[string][]pipeline.Document{}
			for i := range docs {
				byLang[DatasetLang(&docs[i])] = append(byLang[DatasetLang(&docs[i])], docs[i])
			}
			files := listFiles(t, dir)
			total := 0
			for lang, ds := range byLang {
				var cuts []int // rows per shard
				var w shardWriter
				rows := 0
				for i := range ds {
					if w == nil {
						w = newTestWriter(t, format)
						rows = 0
					}
					if err := w.Write(&ds[i]); err != nil {
						t.Fatal(err)
					}
					rows++
					if w.DataBytes() >= limit {
						cuts = append(cuts, rows)
						w = nil
					}
				}
				if w != nil {
					cuts = append(cuts, rows)
				}
				if len(cuts) < 2 {
					t.Fatalf("%s: %d shard(s); the test needs more data", lang, len(cuts))
				}
				for i, n := range cuts {
					name := fmt.Sprintf("data/%s/train-%05d-of-%05d%s", lang, i, len(cuts), map[string]string{"parquet": ".parquet", "jsonl": ".jsonl", "arrow": ".arrow"}[format])
					got, err := CountRows(filepath.Join(dir, name))
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if got != int64(n) {
						t.Errorf("%s: %d rows, want %d", name, got, n)
					}
					total++
				}
			}
			if total != len(files) {
				t.Errorf("%d files, want %d", len(files), total)
			}
		})
	}
}

func newTestWriter(t testing.TB, format string) shardWriter {
	var w shardWriter
	var err error
	switch format {
	case "parquet":
		w, err = NewParquetWriter(&bytes.Buffer{}, TextShape(), ParquetOptions{Compression: "none"})
	case "arrow":
		w, err = NewArrowWriter(&bytes.Buffer{}, TextShape(), ArrowOptions{})
	default:
		w, err = NewJSONLWriter(&bytes.Buffer{}, TextShape(), "none")
	}
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestDatasetSinkSplitsByteIdenticalAndStable(t *testing.T) {
	docs := instructionDocs(800)
	out := pipeline.Output{Format: "parquet", Compression: "zstd", RowGroupSize: 64, Shape: "instruction",
		Splits: map[string]float64{"train": 0.9, "test": 0.1}}
	run := func(docs []pipeline.Document) map[string][]byte {
		dir := t.TempDir()
		s, err := NewDatasetSink(dir, &out)
		if err != nil {
			t.Fatal(err)
		}
		writeAll(t, s, docs)
		if err := s.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := map[string][]byte{}
		for _, f := range listFiles(t, dir) {
			got[f], _ = os.ReadFile(filepath.Join(dir, f))
		}
		return got
	}
	a, b := run(docs), run(docs)
	if len(a) != len(b) {
		t.Fatalf("%d files, then %d", len(a), len(b))
	}
	for f := range a {
		if !bytes.Equal(a[f], b[f]) {
			t.Errorf("%s differs between two runs", f)
		}
	}
	// A document's split depends on its id only: drop half the documents, and every id
	// left is still in the split it was in.
	splitOf := func(files map[string][]byte) map[string]string {
		m := map[string]string{}
		for f, data := range files {
			sm := shardRe.FindStringSubmatch(f)
			rows, err := pq.Read[instructionRow](bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				m[r.ID] = sm[2]
			}
		}
		return m
	}
	full := splitOf(a)
	var half []pipeline.Document
	for i := range docs {
		if n, _ := strconv.Atoi(strings.TrimPrefix(docs[i].ID, "doc-")); n%2 == 0 {
			half = append(half, docs[i])
		}
	}
	for id, split := range splitOf(run(half)) {
		if full[id] != split {
			t.Errorf("%s went to %s, and to %s with all documents", id, split, full[id])
		}
	}
	if full["doc-00000"] == "" {
		t.Fatal("doc-00000 not found")
	}
}
