package formats

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/sieve-data/sieve/pipeline"
)

// listFiles returns every regular file under dir, relative, with '/' separators, sorted.
func listFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// readTextFile reads a dataset file of any output format back as rows.
func readTextFile(t testing.TB, p string) []textRow {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(p, ".parquet") {
		rows, err := pq.Read[textRow](bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return rows
	}
	var rows []textRow
	for _, line := range jsonlLines(t, data, strings.HasSuffix(p, ".zst")) {
		var l struct {
			textLine
			Metadata json.RawMessage `json:"metadata"`
		}
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		rows = append(rows, textRow{l.ID, l.Text, l.Lang, l.Script, l.LangScore, l.Source, string(l.Metadata)})
	}
	return rows
}

func writeAll(t testing.TB, s pipeline.Sink, docs []pipeline.Document) {
	t.Helper()
	for i := range docs {
		if err := s.Write(context.Background(), &docs[i]); err != nil {
			t.Fatalf("Write(%s): %v", docs[i].ID, err)
		}
	}
}

// expectedShards computes the Hub layout for docs: per language, chunks of maxRows in
// Seq order.
func expectedShards(t testing.TB, docs []pipeline.Document, maxRows int, ext string) map[string][]textRow {
	byLang := map[string][]textRow{}
	var langs []string
	for i := range docs {
		lang := DatasetLang(&docs[i])
		if _, ok := byLang[lang]; !ok {
			langs = append(langs, lang)
		}
		byLang[lang] = append(byLang[lang], wantTextRow(t, &docs[i]))
	}
	want := map[string][]textRow{}
	for _, lang := range langs {
		rows := byLang[lang]
		n := 1
		if maxRows > 0 {
			n = (len(rows) + maxRows - 1) / maxRows
		}
		for i := 0; i < n; i++ {
			chunk := rows
			if maxRows > 0 {
				chunk = rows[i*maxRows : min((i+1)*maxRows, len(rows))]
			}
			want[fmt.Sprintf("data/%s/train-%05d-of-%05d%s", lang, i, n, ext)] = chunk
		}
	}
	return want
}

func TestDatasetSinkLayoutAndRenameAtCommit(t *testing.T) {
	tests := []struct {
		format, compression, ext string
		maxShardRows             int
	}{
		{"parquet", "zstd", ".parquet", 3},
		{"parquet", "snappy", ".parquet", 0},
		{"jsonl", "none", ".jsonl", 4},
		{"jsonl", "zstd", ".jsonl.zst", 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s-%s-%d", tt.format, tt.compression, tt.maxShardRows), func(t *testing.T) {
			dir := t.TempDir()
			docs := testDocs(73) // ten languages, "" among them (-> und), 7 or 8 docs each
			s, err := NewDatasetSink(dir, &pipeline.Output{Format: tt.format, Compression: tt.compression, RowGroupSize: 2, MaxShardRows: tt.maxShardRows})
			if err != nil {
				t.Fatal(err)
			}
			writeAll(t, s, docs)
			for _, f := range listFiles(t, dir) {
				if !strings.HasPrefix(baseName(f), ".tmp-") {
					t.Errorf("before Commit, %s is visible under a final name", f)
				}
			}
			if s.Files() != nil {
				t.Errorf("Files() before Commit = %v", s.Files())
			}
			if err := s.Commit(context.Background()); err != nil {
				t.Fatal(err)
			}
			want := expectedShards(t, docs, tt.maxShardRows, tt.ext)
			wantFiles := slices.Sorted(func(yield func(string) bool) {
				for f := range want {
					if !yield(f) {
						return
					}
				}
			})
			if got := listFiles(t, dir); !reflect.DeepEqual(got, wantFiles) {
				t.Errorf("files after Commit:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantFiles, "\n"))
			}
			if got := s.Files(); !reflect.DeepEqual(got, wantFiles) {
				t.Errorf("Files() = %v, want %v", got, wantFiles)
			}
			if !slices.ContainsFunc(wantFiles, func(f string) bool { return strings.HasPrefix(f, "data/und/train-00000-of-") }) {
				t.Errorf("documents without a language are not under data/und: %v", wantFiles)
			}
			for f, rows := range want {
				if got := readTextFile(t, filepath.Join(dir, f)); !reflect.DeepEqual(got, rows) {
					t.Errorf("%s:\ngot  %+v\nwant %+v", f, got, rows)
				}
			}
			if err := s.Abort(); err != nil || !reflect.DeepEqual(listFiles(t, dir), wantFiles) {
				t.Errorf("Abort after Commit: %v; it must leave the committed files", err)
			}
			if err := s.Write(context.Background(), &docs[0]); err == nil {
				t.Error("Write after Commit succeeded")
			}
		})
	}
}

// baseName returns the last element of a slash path.
func baseName(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

func TestDatasetSinkAbortLeavesNoFile(t *testing.T) {
	for _, format := range []string{"parquet", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			s, err := NewDatasetSink(dir, &pipeline.Output{Format: format, Compression: "zstd", RowGroupSize: 5, MaxShardRows: 4})
			if err != nil {
				t.Fatal(err)
			}
			writeAll(t, s, testDocs(57)) // closed shards and open ones
			if len(listFiles(t, dir)) == 0 {
				t.Fatal("nothing written before Abort")
			}
			if err := s.Abort(); err != nil {
				t.Fatal(err)
			}
			if got := listFiles(t, dir); len(got) != 0 {
				t.Errorf("after Abort: %v", got)
			}
			if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
				t.Errorf("data/ created by the sink survives Abort (%v)", err)
			}
			if err := s.Commit(context.Background()); err == nil {
				t.Error("Commit after Abort succeeded")
			}
		})
	}
}

func TestDatasetSinkAbortAfterFailedCommit(t *testing.T) {
	dir := t.TempDir()
	s, err := NewDatasetSink(dir, &pipeline.Output{Format: "parquet", Compression: "zstd", RowGroupSize: 5, MaxShardRows: 4})
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, s, testDocs(40))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Commit(ctx); err == nil {
		t.Fatal("Commit with a cancelled context succeeded")
	}
	for _, f := range listFiles(t, dir) {
		if !strings.HasPrefix(baseName(f), ".tmp-") {
			t.Errorf("failed Commit left %s under a final name", f)
		}
	}
	if err := s.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := listFiles(t, dir); len(got) != 0 {
		t.Errorf("after Abort: %v", got)
	}
}

func TestDatasetSinkByteIdentical(t *testing.T) {
	docs := testDocs(3000)
	for _, format := range []string{"parquet", "jsonl"} {
		var dirs [2]string
		for run := range dirs {
			dirs[run] = t.TempDir()
			s, err := NewDatasetSink(dirs[run], &pipeline.Output{Format: format, Compression: "zstd", RowGroupSize: 100, MaxShardRows: 130})
			if err != nil {
				t.Fatal(err)
			}
			s.budget = 150 << 10 // early row-group flushes across languages are part of the output
			writeAll(t, s, docs)
			if err := s.Commit(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		a, b := listFiles(t, dirs[0]), listFiles(t, dirs[1])
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: runs wrote different files: %v vs %v", format, a, b)
		}
		for _, f := range a {
			x, _ := os.ReadFile(filepath.Join(dirs[0], f))
			y, _ := os.ReadFile(filepath.Join(dirs[1], f))
			if !bytes.Equal(x, y) {
				t.Errorf("%s: %s differs between two runs", format, f)
			}
		}
	}
}

func TestDatasetSinkBufferBudgetCutsRowGroups(t *testing.T) {
	dir := t.TempDir()
	docs := testDocs(2000)
	s, err := NewDatasetSink(dir, &pipeline.Output{Format: "parquet", Compression: "zstd", RowGroupSize: 1000, MaxShardRows: 150})
	if err != nil {
		t.Fatal(err)
	}
	s.budget = 64 << 10
	for i := range docs {
		if err := s.Write(context.Background(), &docs[i]); err != nil {
			t.Fatal(err)
		}
		if s.retained > s.budget {
			t.Fatalf("after %d documents %d bytes retained, budget %d", i+1, s.retained, s.budget)
		}
		var sum int
		if s.spareC != nil {
			sum += s.spareC.capBytes()
		}
		for _, ls := range s.shards() {
			if ls.cur != nil {
				sum += ls.cur.bw.Retained()
			}
		}
		if sum != s.retained {
			t.Fatalf("after %d documents the sink counts %d bytes retained, the writers %d", i+1, s.retained, sum)
		}
	}
	if err := s.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := expectedShards(t, docs, 150, ".parquet")
	for f, rows := range want {
		p := filepath.Join(dir, f)
		if got := readTextFile(t, p); !reflect.DeepEqual(got, rows) {
			t.Errorf("%s: rows differ", f)
		}
		data, _ := os.ReadFile(p)
		if groups := openParquetGo(t, data).Metadata().RowGroups; len(rows) == 150 && len(groups) < 2 {
			t.Errorf("%s: %d row group(s); the budget should have cut its 150 rows", f, len(groups))
		}
	}
}

func TestDatasetSinkReplacesPreviousRun(t *testing.T) {
	dir := t.TempDir()
	run := func(out pipeline.Output, docs []pipeline.Document) *DatasetSink {
		s, err := NewDatasetSink(dir, &out)
		if err != nil {
			t.Fatal(err)
		}
		writeAll(t, s, docs)
		if err := s.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	run(pipeline.Output{Format: "jsonl", Compression: "none", MaxShardRows: 2}, testDocs(40))
	// files that are not ours survive
	mine := []string{"data/README.md", "data/yor_Latn/notes.txt", "stats.json"}
	for _, f := range mine {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	docs := testDocs(20)
	for i := range docs {
		if docs[i].Lang == "amh_Ethi" {
			docs[i].Lang = "yor_Latn" // no Amharic in the second run
		}
	}
	s := run(pipeline.Output{Format: "parquet", Compression: "zstd", MaxShardRows: 0}, docs)
	want := append(s.Files(), mine...)
	slices.Sort(want)
	if got := listFiles(t, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("after the second run:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "amh_Ethi")); !os.IsNotExist(err) {
		t.Errorf("the emptied directory of a language absent from the second run survives")
	}
}

func TestDatasetSinkErrors(t *testing.T) {
	tests := []struct {
		name string
		out  pipeline.Output
		want string
	}{
		{"unknown format", pipeline.Output{Format: "csv"}, "parquet, arrow or jsonl"},
		{"jsonl gzip", pipeline.Output{Format: "jsonl", Compression: "gzip"}, "zstd or none"},
		{"parquet lz4", pipeline.Output{Format: "parquet", Compression: "lz4"}, "zstd, snappy, gzip, none"},
		{"negative shard rows", pipeline.Output{Format: "parquet", MaxShardRows: -1}, "max_shard_rows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewDatasetSink(t.TempDir(), &tt.out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}

	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o666)
	if _, err := NewDatasetSink(filepath.Join(notDir, "run"), &pipeline.Output{Format: "parquet"}); err == nil {
		t.Error("a run directory under a file was accepted")
	}

	s, err := NewDatasetSink(t.TempDir(), &pipeline.Output{Format: "parquet"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	docTests := []struct {
		name string
		doc  pipeline.Document
		want string
	}{
		{"rejected", pipeline.Document{ID: "r1", Rejected: pipeline.Rejection{Stage: "length", Reason: "length.too_short"}}, "belongs in the rejects"},
		{"path in lang", pipeline.Document{ID: "p1", Lang: "../../etc"}, "cannot name a directory"},
		{"separator in lang", pipeline.Document{ID: "p2", Lang: "yor/Latn"}, "cannot name a directory"},
	}
	for _, tt := range docTests {
		err := s.Write(context.Background(), &tt.doc)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.doc.ID) {
			t.Errorf("%s: error = %v, want one naming %s and containing %q", tt.name, err, tt.doc.ID, tt.want)
		}
	}
}

func TestRegisteredWriters(t *testing.T) {
	for _, tt := range []struct{ name, compression, file string }{
		{"parquet", "zstd", "data/yor_Latn/train-00000-of-00001.parquet"},
		{"jsonl", "zstd", "data/yor_Latn/train-00000-of-00001.jsonl.zst"},
		{"jsonl", "none", "data/yor_Latn/train-00000-of-00001.jsonl"},
		{"arrow", "none", "data/yor_Latn/train-00000-of-00001.arrow"},
		{"arrow", "zstd", "data/yor_Latn/train-00000-of-00001.arrow"},
	} {
		factory, ok := pipeline.LookupWriter(tt.name)
		if !ok {
			t.Fatalf("writer %q not registered", tt.name)
		}
		dir := t.TempDir()
		// Format in the config is overridden by the registered name.
		s, err := factory(dir, &pipeline.Output{Format: "ignored", Compression: tt.compression})
		if err != nil {
			t.Fatal(err)
		}
		doc := pipeline.Document{ID: "a", Text: "Ẹ kú àárọ̀", Lang: "yor_Latn"}
		if err := s.Write(context.Background(), &doc); err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := s.(pipeline.SinkFiles).Files(); !reflect.DeepEqual(got, []string{tt.file}) {
			t.Errorf("%s/%s: Files() = %v, want %s", tt.name, tt.compression, got, tt.file)
		}
	}
}

func rejectedDocs(n int) []pipeline.Document {
	docs := testDocs(n)
	for i := range docs {
		switch i % 3 {
		case 0:
			docs[i].Reject("read", "read.bad_json", fmt.Sprintf("invalid character at byte %d", i))
		case 1:
			docs[i].Reject("length", "length.too_short", "12 chars < min 50")
		default:
			docs[i].Reject("langid", "langid.low_confidence", "0.31 < min 0.5")
		}
	}
	return docs
}

func readRejects(t testing.TB, p string) []rejectRow {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(p, ".parquet") {
		rows, err := pq.Read[rejectRow](bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return rows
	}
	if len(data) == 0 {
		return nil
	}
	var rows []rejectRow
	for _, line := range jsonlLines(t, data, strings.HasSuffix(p, ".zst")) {
		if len(line) == 0 {
			continue // an empty zstd stream decompresses to nothing
		}
		var r rejectLine
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		rows = append(rows, rejectRow(r))
	}
	return rows
}

func TestRejectsSink(t *testing.T) {
	tests := []struct{ format, compression, file string }{
		{"jsonl", "none", "rejects.jsonl"},
		{"", "none", "rejects.jsonl"},
		{"jsonl", "zstd", "rejects.jsonl.zst"},
		{"parquet", "zstd", "rejects.parquet"},
		{"parquet", "none", "rejects.parquet"},
	}
	for _, tt := range tests {
		for _, n := range []int{0, 250} {
			t.Run(fmt.Sprintf("%s-%s-%d", tt.format, tt.compression, n), func(t *testing.T) {
				dir := t.TempDir()
				// a rejects file of another format from an earlier run goes away at Commit
				stale := "rejects.parquet"
				if tt.file == stale {
					stale = "rejects.jsonl"
				}
				os.WriteFile(filepath.Join(dir, stale), []byte("old"), 0o666)

				s, err := NewRejectsSink(dir, &pipeline.Rejects{Enabled: true, Format: tt.format, Compression: tt.compression})
				if err != nil {
					t.Fatal(err)
				}
				docs := rejectedDocs(n)
				writeAll(t, s, docs)
				if _, err := os.Stat(filepath.Join(dir, tt.file)); !os.IsNotExist(err) {
					t.Errorf("%s visible before Commit", tt.file)
				}
				if err := s.Commit(context.Background()); err != nil {
					t.Fatal(err)
				}
				if got := listFiles(t, dir); !reflect.DeepEqual(got, []string{tt.file}) {
					t.Errorf("files after Commit: %v, want [%s]", got, tt.file)
				}
				if got := s.(pipeline.SinkFiles).Files(); !reflect.DeepEqual(got, []string{tt.file}) {
					t.Errorf("Files() = %v", got)
				}
				got := readRejects(t, filepath.Join(dir, tt.file))
				if len(got) != len(docs) {
					t.Fatalf("%d rejects read back, want %d", len(got), len(docs))
				}
				for i, d := range docs {
					want := rejectRow{d.ID, d.Rejected.Stage, d.Rejected.Reason, d.Rejected.Detail, d.Origin.File, d.Origin.Line, d.Origin.Offset, d.Lang, d.Text}
					if got[i] != want {
						t.Errorf("reject %d = %+v, want %+v", i, got[i], want)
					}
				}
			})
		}
	}
}

func TestRejectsSinkAbortAndErrors(t *testing.T) {
	dir := t.TempDir()
	s, err := NewRejectsSink(dir, &pipeline.Rejects{Format: "parquet", Compression: "zstd"})
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, s, rejectedDocs(30))
	kept := pipeline.Document{ID: "kept-1"}
	if err := s.Write(context.Background(), &kept); err == nil || !strings.Contains(err.Error(), "kept-1") {
		t.Errorf("writing a kept document to the rejects: %v", err)
	}
	if err := s.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := listFiles(t, dir); len(got) != 0 {
		t.Errorf("after Abort: %v", got)
	}
	for _, r := range []pipeline.Rejects{{Format: "csv"}, {Format: "jsonl", Compression: "snappy"}} {
		if _, err := NewRejectsSink(t.TempDir(), &r); err == nil {
			t.Errorf("rejects config %+v accepted", r)
		}
	}
}

func TestCommittedFilesAreNotPrivate(t *testing.T) {
	dir := t.TempDir()
	s, err := NewRejectsSink(dir, &pipeline.Rejects{Format: "jsonl", Compression: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "rejects.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := os.Create(filepath.Join(dir, "ref"))
	if err != nil {
		t.Fatal(err)
	}
	ref.Close()
	rfi, _ := os.Stat(ref.Name())
	if fi.Mode().Perm() != rfi.Mode().Perm() {
		t.Errorf("rejects.jsonl has mode %v, want %v as os.Create gives", fi.Mode().Perm(), rfi.Mode().Perm())
	}
}

// BenchmarkDatasetSink measures the whole kept-document path to disk, Commit (fsync,
// rename) included: each iteration writes 20,000 documents of 1 KB in ten languages to a
// new run directory as zstd Parquet (row groups of 1,000) or zstd JSONL, in shards of
// 1,500 rows.
func BenchmarkDatasetSink(b *testing.B) {
	docs, total := benchDocs(20000)
	for _, format := range []string{"parquet", "jsonl"} {
		b.Run(format, func(b *testing.B) {
			root := b.TempDir()
			b.SetBytes(total)
			b.ReportAllocs()
			ctx := context.Background()
			run := 0
			for b.Loop() {
				dir := filepath.Join(root, strconv.Itoa(run))
				run++
				s, err := NewDatasetSink(dir, &pipeline.Output{Format: format, Compression: "zstd", RowGroupSize: 1000, MaxShardRows: 1500})
				if err != nil {
					b.Fatal(err)
				}
				for i := range docs {
					if err := s.Write(ctx, &docs[i]); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.Commit(ctx); err != nil {
					b.Fatal(err)
				}
				if err := os.RemoveAll(dir); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDatasetSinkLarge is an opt-in measurement of the sink's memory and speed at size:
//
//	SIEVE_SINK_LARGE_MB=1000 SIEVE_SINK_LARGE_LANGS=40 SIEVE_SINK_LARGE_FORMAT=parquet \
//	    go test ./formats -run TestDatasetSinkLarge -v
//
// It writes that many MB of 1 KB documents (random words, seeded) spread over that many
// languages, commits, checks the row count of the output, and logs the throughput and the
// process's peak RSS (VmHWM, Linux), which includes the test binary itself.
func TestDatasetSinkLarge(t *testing.T) {
	mb, _ := strconv.Atoi(os.Getenv("SIEVE_SINK_LARGE_MB"))
	if mb <= 0 {
		t.Skip("set SIEVE_SINK_LARGE_MB to run")
	}
	langs, _ := strconv.Atoi(os.Getenv("SIEVE_SINK_LARGE_LANGS"))
	langs = max(langs, 1)
	format := cmp.Or(os.Getenv("SIEVE_SINK_LARGE_FORMAT"), "parquet")
	var vocab []string
	for _, s := range sentences {
		vocab = append(vocab, strings.Fields(s.text)...)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	dir := t.TempDir()
	s, err := NewDatasetSink(dir, &pipeline.Output{Format: format, Compression: "zstd", RowGroupSize: 10000})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	var total int64
	var n int
	var b strings.Builder
	for ; total < int64(mb)<<20; n++ {
		b.Reset()
		for b.Len() < 1024 {
			b.WriteString(vocab[rng.IntN(len(vocab))])
			b.WriteByte(' ')
		}
		d := pipeline.Document{
			Seq: uint64(n), ID: "d" + strconv.Itoa(n), Text: b.String(),
			Lang:   fmt.Sprintf("l%03d_Latn", rng.IntN(langs)),
			Origin: pipeline.Position{File: "large.jsonl", Line: int64(n + 1)},
			Meta:   map[string]any{"url": "https://example.org/" + strconv.Itoa(n)},
		}
		total += int64(len(d.Text))
		if err := s.Write(ctx, &d); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	var rows int64
	var size int64
	for _, f := range s.Files() {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		size += fi.Size()
		if format == "parquet" { // footer only: reading the files would add to the peak RSS
			fh, err := os.Open(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			pf, err := pq.OpenFile(fh, fi.Size())
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			rows += pf.NumRows()
			fh.Close()
		}
	}
	if format == "parquet" && rows != int64(n) {
		t.Errorf("%d rows in the output, want %d", rows, n)
	}
	hwm := "unknown"
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmHWM:") {
				hwm = strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
			}
		}
	}
	t.Logf("%s: %d documents, %d MB of text in %d languages -> %d files, %d MB; %.1f s, %.1f MB/s (document generation included); peak RSS %s",
		format, n, total>>20, langs, len(s.Files()), size>>20, elapsed.Seconds(), float64(total)/1e6/elapsed.Seconds(), hwm)
}
