package formats

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/sieve-data/sieve/pipeline"
)

// The -update flag rewrites golden files (the repository's convention); it is defined here
// unless another test file of the package already did.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

const adapterGoldenDir = "../testdata/golden/adapters"

// readConfigInputs loads a golden case's pipeline.yaml and reads its inputs to the end.
func readConfigInputs(t *testing.T, cfgPath string) []pipeline.Document {
	t.Helper()
	cfg, err := pipeline.LoadFile(cfgPath, &pipeline.Registry{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := PlanInputs(cfg.Inputs, "")
	if err != nil {
		t.Fatal(err)
	}
	src := OpenInputs(files)
	defer src.Close()
	var docs []pipeline.Document
	for {
		var d pipeline.Document
		err := src.Next(context.Background(), &d)
		if err == io.EOF {
			return docs
		}
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
}

// Golden cases, one per adapter: testdata/golden/adapters/<case>/pipeline.yaml names the
// input and its adapter; want_kept.jsonl is what the JSONL writer writes for the records
// kept (instruction shape), want_text.tsv the text the stages will judge (the input's
// view), want_rejects.tsv the rejects with their reasons. Regenerate with
// go test ./formats -run TestAdapterGolden -update, after checking the change.
func TestAdapterGolden(t *testing.T) {
	cases, err := os.ReadDir(adapterGoldenDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if !c.IsDir() {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			dir := filepath.Join(adapterGoldenDir, c.Name())
			docs := readConfigInputs(t, filepath.Join(dir, "pipeline.yaml"))
			var kept, text, rejects bytes.Buffer
			w, err := NewJSONLWriter(&kept, InstructionShape(), "none")
			if err != nil {
				t.Fatal(err)
			}
			nKept, nRejected := 0, 0
			for i := range docs {
				d := &docs[i]
				d.Origin.File = filepath.Base(d.Origin.File)
				if d.IsRejected() {
					nRejected++
					fmt.Fprintf(&rejects, "%s\t%s\t%s\t%s\n", d.ID, d.Rejected.Stage, d.Rejected.Reason, d.Rejected.Detail)
					continue
				}
				nKept++
				if d.Instruction == nil {
					t.Fatalf("%s kept without an instruction record", d.ID)
				}
				if why, detail := d.Instruction.Problem(); why != "" {
					t.Errorf("%s kept but not well-formed: %s: %s", d.ID, why, detail)
				}
				fmt.Fprintf(&text, "%s\t%q\n", d.ID, d.Text)
				if err := w.Write(d); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if nKept == 0 || nRejected == 0 {
				t.Errorf("kept %d, rejected %d: a case should have both", nKept, nRejected)
			}
			lines := countLines(t, filepath.Join(dir, inputName(t, dir)))
			if nKept+nRejected != lines {
				t.Errorf("read %d records (kept %d + rejected %d) from %d non-blank lines", nKept+nRejected, nKept, nRejected, lines)
			}
			checkGolden(t, filepath.Join(dir, "want_kept.jsonl"), kept.Bytes())
			checkGolden(t, filepath.Join(dir, "want_text.tsv"), text.Bytes())
			checkGolden(t, filepath.Join(dir, "want_rejects.tsv"), rejects.Bytes())
		})
	}
}

func inputName(t *testing.T, dir string) string {
	for _, n := range []string{"input.jsonl", "input.csv"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return n
		}
	}
	t.Fatalf("%s: no input file", dir)
	return ""
}

// countLines counts the records of a golden input: its non-blank lines (less the header of
// a CSV file, whose records in these cases are one line each).
func countLines(t *testing.T, p string) int {
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	if strings.HasSuffix(p, ".csv") {
		n--
	}
	return n
}

func checkGolden(t *testing.T, p string, got []byte) {
	t.Helper()
	if updateGolden() {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test ./formats -run TestAdapterGolden -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./formats -run TestAdapterGolden -update after checking the change):\n--- got\n%s--- want\n%s", p, got, want)
	}
}

func TestAdapterOnErrorFail(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "a.jsonl", []byte(`{"id":"ok","prompt":"Habari?","response":"Nzuri."}`+"\n"+`{"id":"bad","prompt":"Habari?","response":"  "}`+"\n"))
	in := pipeline.DefaultInput()
	in.Path, in.Adapter, in.OnError = p, "pairs", "fail"
	src := OpenInputs([]InputFile{{Path: p, Format: "jsonl", Input: &in, Size: -1}})
	defer src.Close()
	var d pipeline.Document
	if err := src.Next(context.Background(), &d); err != nil || d.Instruction == nil {
		t.Fatalf("first record: %v, %+v", err, d)
	}
	d = pipeline.Document{}
	err := src.Next(context.Background(), &d)
	var re *ReadError
	if !errors.As(err, &re) || re.Reason != ReasonAdapterEmptyOutput || re.Line != 2 || !strings.Contains(err.Error(), "a.jsonl") {
		t.Fatalf("second record: %v", err)
	}
}

func TestAdapterNeedsRecordFormat(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "a.txt", []byte("one line\n"))
	in := pipeline.DefaultInput()
	in.Path, in.Adapter = p, "alpaca"
	_, err := PlanInputs([]pipeline.Input{in}, "")
	if err == nil || !strings.Contains(err.Error(), "adapter alpaca needs records with fields") {
		t.Errorf("PlanInputs = %v", err)
	}
}

// ShareGPT in Parquet, as it is published on the Hub: conversations as list<struct<from,
// value>>, read through the Parquet reader.
func TestAdapterParquetShareGPT(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	turn := arrow.StructOf(arrow.Field{Name: "from", Type: arrow.BinaryTypes.String}, arrow.Field{Name: "value", Type: arrow.BinaryTypes.String})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String},
		{Name: "conversations", Type: arrow.ListOf(turn), Nullable: true},
		{Name: "lang", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(alloc, schema)
	defer b.Release()
	type row struct {
		id    string
		turns [][2]string
		null  bool
		lang  string
	}
	rows := []row{
		{id: "q1", turns: [][2]string{{"human", "Ṣé o lè ràn mí lọ́wọ́?"}, {"gpt", "Bẹ́ẹ̀ni, kí ni mo lè ṣe fún ọ?"}}, lang: "yor_Latn"},
		{id: "q2", turns: [][2]string{{"system", "Be brief."}, {"human", "Capital of Ghana?"}, {"gpt", "Accra."}}, lang: "eng_Latn"},
		{id: "q3", turns: [][2]string{{"human", "No answer?"}}, lang: "eng_Latn"},
		{id: "q4", null: true, lang: "eng_Latn"},
		{id: "q5", turns: [][2]string{{"human", "Bad \xff byte"}, {"gpt", "ok"}}, lang: "eng_Latn"},
	}
	lb := b.Field(1).(*array.ListBuilder)
	sb := lb.ValueBuilder().(*array.StructBuilder)
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(r.id)
		b.Field(2).(*array.StringBuilder).Append(r.lang)
		if r.null {
			lb.AppendNull()
			continue
		}
		lb.Append(true)
		for _, tr := range r.turns {
			sb.Append(true)
			sb.FieldBuilder(0).(*array.StringBuilder).Append(tr[0])
			sb.FieldBuilder(1).(*array.StringBuilder).Append(tr[1])
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	fw, err := pqarrow.NewFileWriter(schema, &buf, parquet.NewWriterProperties(parquet.WithAllocator(alloc)), pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(alloc)))
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	p := writeFile(t, t.TempDir(), "sharegpt.parquet", buf.Bytes())
	in := pipeline.DefaultInput()
	in.Path, in.Adapter, in.Fields = p, "sharegpt", map[string]string{"lang": "lang"}
	files, err := PlanInputs([]pipeline.Input{in}, "")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := readDocs(t, OpenInputs(files))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"", "", ReasonAdapterNoAssistant, ReasonAdapterMissingField, ReasonAdapterInvalidUTF8}
	if len(docs) != len(want) {
		t.Fatalf("%d documents, want %d", len(docs), len(want))
	}
	for i, d := range docs {
		if d.Rejected.Reason != want[i] {
			t.Errorf("%s: reason %q (%s), want %q", d.ID, d.Rejected.Reason, d.Rejected.Detail, want[i])
		}
	}
	if d := docs[0]; d.Lang != "yor_Latn" || d.Script != "Latn" || len(d.Instruction.Messages) != 2 || d.Instruction.Messages[1].Content != "Bẹ́ẹ̀ni, kí ni mo lè ṣe fún ọ?" || d.Meta != nil {
		t.Errorf("q1 = %+v %+v", d, d.Instruction)
	}
	if d := docs[1]; d.Instruction.Messages[0].Role != "system" || d.Text != "Capital of Ghana?\n\nAccra." {
		t.Errorf("q2 = %+v, text %q", d.Instruction, d.Text)
	}
}

// FuzzAdapter feeds JSON records to every adapter: no panic, and every record gives either
// a well-formed instruction record whose text is its view and which the writers accept, or
// a reject with an adapter reason.
func FuzzAdapter(f *testing.F) {
	for _, c := range []string{"alpaca", "sharegpt", "messages", "pairs", "mapping"} {
		data, err := os.ReadFile(filepath.Join(adapterGoldenDir, c, "input.jsonl"))
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			for k := range adapterInputs {
				f.Add(uint8(k), l)
			}
		}
	}
	f.Add(uint8(1), `{"conversations":[{"from":"human","value":"a"},{"from":"gpt","value":"b"},{"from":"gpt","value":[]}]}`)
	f.Add(uint8(2), `{"messages":[{"role":"user","content":[{"type":"text","text":"\u0000"}]},{"role":"assistant","content":[]}]}`)
	reasons := map[string]bool{}
	for _, r := range AdapterReasons {
		reasons[r] = true
	}
	f.Fuzz(func(t *testing.T, k uint8, line string) {
		var meta map[string]any
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		if dec.Decode(&meta) != nil || meta == nil {
			return
		}
		in := adapterInputs[int(k)%len(adapterInputs)]
		a, err := newAdapter(&in)
		if err != nil {
			t.Fatal(err)
		}
		doc := pipeline.Document{ID: "f", Meta: meta}
		if err := a.apply(&doc); err != nil {
			t.Fatalf("apply returned %v (on_error reject)", err)
		}
		if doc.IsRejected() {
			if !reasons[doc.Rejected.Reason] || doc.Rejected.Stage != Stage || doc.Instruction != nil {
				t.Fatalf("rejected as %+v", doc.Rejected)
			}
			return
		}
		if doc.Instruction == nil {
			t.Fatal("kept without an instruction record")
		}
		if why, detail := doc.Instruction.Problem(); why != "" {
			t.Fatalf("kept a record that is not well-formed: %s: %s", why, detail)
		}
		if doc.Text != doc.Instruction.View(in.View) || isSpace(doc.Text) {
			t.Fatalf("text %q is not the %q view", doc.Text, in.View)
		}
		for _, m := range doc.Instruction.Messages {
			if !utf8.ValidString(m.Content) {
				t.Fatal("kept invalid UTF-8")
			}
		}
		jw, _ := NewJSONLWriter(io.Discard, InstructionShape(), "none")
		if err := jw.Write(&doc); err != nil {
			t.Fatalf("JSONL writer refused a kept record: %v", err)
		}
	})
}

// adapterInputs are the adapters FuzzAdapter tries.
var adapterInputs = []pipeline.Input{
	{Adapter: "alpaca", Fields: map[string]string{"lang": "language"}},
	{Adapter: "sharegpt", View: "output"},
	{Adapter: "messages", View: "prompt", Fields: map[string]string{"lang": "meta.lang"}},
	{Adapter: "pairs", Fields: map[string]string{"lang": "lang", "task": "kind"}},
	{Adapter: "mapping", Fields: map[string]string{"instruction": "question.text", "input": "context", "output": "answers.text.0", "system": "q.system", "lang": "question.lang", "task": "kind"}},
}
