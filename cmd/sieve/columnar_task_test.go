package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// writeColumnarCorpus writes documents of the kind writeTaskCorpus writes (planted
// near-duplicates, null, empty and too short texts) as Hugging Face datasets ship them: a
// Parquet file in row groups of 64 rows (zstd) and an Arrow IPC file in record batches of
// 50 rows; and a CSV file whose quoted texts hold commas, quotes and newlines. The ids are
// left to the readers (<file>:<row or line>), so they show the row and line numbers. It
// returns the config's inputs section.
func writeColumnarCorpus(t *testing.T, dir string, docs int, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 11))
	var originals []string
	text := func() string {
		if len(originals) > 0 && rng.IntN(5) == 0 {
			w := strings.Fields(originals[rng.IntN(len(originals))])
			w[rng.IntN(len(w))] = taskWords[rng.IntN(len(taskWords))]
			return strings.Join(w, " ")
		}
		w := make([]string, 30+rng.IntN(60))
		for i := range w {
			w[i] = taskWords[rng.IntN(len(taskWords))]
		}
		originals = append(originals, strings.Join(w, " "))
		return originals[len(originals)-1]
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "url", Type: arrow.BinaryTypes.String},
		{Name: "n", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	record := func(n, offset int) arrow.RecordBatch {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer b.Release()
		for i := offset; i < offset+n; i++ {
			tb := b.Field(0).(*array.StringBuilder)
			switch {
			case i%97 == 5:
				tb.AppendNull()
			case i%89 == 3:
				tb.Append("short")
			case i%101 == 7:
				tb.Append("  ")
			default:
				tb.Append(text())
			}
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("https://example.org/%d", i))
			b.Field(2).(*array.Int64Builder).Append(int64(i))
		}
		return b.NewRecordBatch()
	}

	pf, err := os.Create(filepath.Join(dir, "train.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	props := parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(64), parquet.WithCompression(compress.Codecs.Zstd))
	pw, err := pqarrow.NewFileWriter(schema, pf, props, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	rec := record(docs, 0)
	if err := pw.Write(rec); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}

	af, err := os.Create(filepath.Join(dir, "test.arrow"))
	if err != nil {
		t.Fatal(err)
	}
	aw, err := ipc.NewFileWriter(af, ipc.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < docs/2; off += 50 {
		rec := record(min(50, docs/2-off), docs+off)
		if err := aw.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
	af.Close()

	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write([]string{"text", "url"})
	for i := 0; i < docs/2; i++ {
		words := strings.Fields(text())
		cut := len(words) / 2
		cw.Write([]string{fmt.Sprintf("%s,\n\n\"%s\"", strings.Join(words[:cut], " "), strings.Join(words[cut:], " ")), fmt.Sprintf("https://example.org/c/%d", i)})
	}
	cw.Flush()
	if err := os.WriteFile(filepath.Join(dir, "comments.csv"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return "inputs:\n  - train.parquet\n  - test.arrow\n  - comments.csv\n"
}

// concatData returns the dataset files of a run with JSONL output, concatenated in order.
func concatData(t *testing.T, dir string) []byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "data", "*", "*.jsonl"))
	sort.Strings(files)
	var b []byte
	for _, f := range files {
		b = append(b, mustRead(t, f)...)
	}
	if bytes.Count(b, []byte("\n")) < 1000 {
		t.Fatalf("%s: %d dataset lines in %v", dir, bytes.Count(b, []byte("\n")), files)
	}
	return b
}

// checkInputSums checks that the manifest records the SHA-256 of every input file.
func checkInputSums(t *testing.T, run string, inputs ...string) {
	t.Helper()
	var man struct {
		Inputs []struct {
			Path   string
			SHA256 string
		}
	}
	if err := json.Unmarshal([]byte(mustRead(t, filepath.Join(run, "manifest.json"))), &man); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, in := range man.Inputs {
		got[filepath.Base(in.Path)] = in.SHA256
	}
	for _, p := range inputs {
		sum := sha256.Sum256([]byte(mustRead(t, p)))
		if want := hex.EncodeToString(sum[:]); got[filepath.Base(p)] != want {
			t.Errorf("%s: manifest sha256 of %s is %q, want %s", run, filepath.Base(p), got[filepath.Base(p)], want)
		}
	}
}

// Acceptance: Parquet row groups and Arrow record batches are units of a task-mode run.
// Split into tasks, the run writes the same dataset and rejects, byte for byte, as the
// single-process run (row numbers, ids and offsets are those of the whole file), and the
// manifest has the sha256 of every input; task by task with sieve merge gives the same
// bytes as one invocation; with the MinHash phases it keeps and rejects the same documents.
func TestTaskModeSplitsColumnarInputs(t *testing.T) {
	dir := t.TempDir()
	inputs := writeColumnarCorpus(t, dir, 2400, 5)
	files := []string{filepath.Join(dir, "train.parquet"), filepath.Join(dir, "test.arrow"), filepath.Join(dir, "comments.csv")}
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || fi.Size() < 128<<10 {
			t.Fatalf("%s: too small to split into several 32 KiB units: %v", f, err)
		}
	}
	plain := writeConfig(t, dir, "plain.yaml", inputs+`stages:
  - length: {min_chars: 40, min_words: 5}
output: {format: jsonl, compression: none}
rejects: {enabled: true, format: jsonl}
`)
	single := filepath.Join(dir, "single")
	mustRun(t, "run", "-c", plain, "-o", single, "-q")
	checkInputSums(t, single, files...)
	wantData, wantRejects := concatData(t, single), mustRead(t, filepath.Join(single, "rejects.jsonl"))
	for _, reason := range []string{"read.missing_text", "read.empty_text", "length.too_few_chars"} {
		if !strings.Contains(wantRejects, reason) {
			t.Fatalf("no %s among the rejects", reason)
		}
	}

	tasks := filepath.Join(dir, "tasks")
	mustRun(t, "run", "-c", plain, "-o", tasks, "-q", "--task-count", "3", "--split-bytes", "32KiB")
	mustVerify(t, tasks)
	var plan struct {
		Units []struct {
			File, Block, Blocks int
			End                 int64
		}
	}
	if err := json.Unmarshal([]byte(mustRead(t, filepath.Join(tasks, "tasks", "plan.json"))), &plan); err != nil {
		t.Fatal(err)
	}
	units := map[int]int{}
	for _, u := range plan.Units {
		if u.Blocks > 0 || u.File == 2 && u.End > 0 {
			units[u.File]++
		}
	}
	if units[0] < 4 || units[1] < 4 || units[2] < 4 {
		t.Fatalf("units of whole row groups, batches and CSV records per file: %v", units)
	}
	if got := concatData(t, tasks); !bytes.Equal(got, wantData) {
		t.Errorf("dataset of 3 tasks differs from the single-process one: %s", firstDiff(got, wantData))
	}
	if got := mustRead(t, filepath.Join(tasks, "rejects.jsonl")); got != wantRejects {
		t.Errorf("rejects of 3 tasks differ: %s", firstDiff([]byte(got), []byte(wantRejects)))
	}
	if comparableStats(t, tasks) != comparableStats(t, single) {
		t.Error("stats differ")
	}
	checkInputSums(t, tasks, files...)

	// Task by task, in reverse order, then sieve merge.
	byTask := filepath.Join(dir, "by_task")
	for i := 2; i >= 0; i-- {
		mustRun(t, "run", "-c", plain, "-o", byTask, "-q", "--task-index", fmt.Sprint(i), "--task-count", "3", "--split-bytes", "32KiB")
	}
	mustRun(t, "merge", byTask, "-q")
	mustVerify(t, byTask)
	a, b := readTree(t, tasks), readTree(t, byTask)
	for name, data := range a {
		if (strings.HasPrefix(name, "data/") || strings.HasPrefix(name, "rejects")) && !bytes.Equal(data, b[name]) {
			t.Errorf("%s differs between one invocation and task by task", name)
		}
	}
	checkInputSums(t, byTask, files...)

	// With near-duplicate removal in phases.
	dedup := writeConfig(t, dir, "dedup.yaml", inputs+strings.Replace(taskStages, "MODE", "", 1))
	mustRun(t, "run", "-c", dedup, "-o", filepath.Join(dir, "dedup_single"), "-q")
	want := readRunOutputs(t, filepath.Join(dir, "dedup_single"))
	if !bytes.Contains(want.rejects, []byte("minhash_dedup.near_duplicate")) {
		t.Fatal("no near-duplicates removed")
	}
	mustRun(t, "run", "-c", dedup, "-o", filepath.Join(dir, "dedup_tasks"), "-q", "--task-count", "3", "--split-bytes", "32KiB")
	got := readRunOutputs(t, filepath.Join(dir, "dedup_tasks"))
	gr, wr := clusterName.ReplaceAll(got.rejects, nil), clusterName.ReplaceAll(want.rejects, nil)
	if !slices.Equal(got.kept, want.kept) || !bytes.Equal(gr, wr) || got.stats != want.stats {
		t.Errorf("with minhash_dedup in 3 tasks: kept %d/%d; %s", len(got.kept), len(want.kept), firstDiff(gr, wr))
	}
}
