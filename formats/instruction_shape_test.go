package formats

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
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

// messageRow and instructionRow are an instruction record as parquet-go decodes it.
type messageRow struct {
	Role    string `parquet:"role" json:"role"`
	Content string `parquet:"content" json:"content"`
}

type instructionRow struct {
	ID          string       `parquet:"id" json:"id"`
	Lang        string       `parquet:"lang" json:"lang"`
	Script      string       `parquet:"script" json:"script"`
	LangScore   float64      `parquet:"lang_score" json:"lang_score"`
	Messages    []messageRow `parquet:"messages,list" json:"messages"`
	Instruction string       `parquet:"instruction" json:"instruction"`
	Input       string       `parquet:"input" json:"input"`
	Output      string       `parquet:"output" json:"output"`
	Task        string       `parquet:"task" json:"task"`
	Template    string       `parquet:"template" json:"template"`
	Source      string       `parquet:"source" json:"source"`
	Metadata    string       `parquet:"metadata" json:"-"`
}

// instructionDocs returns n instruction records built from testDocs: single exchanges,
// Alpaca records with an input, multi-turn conversations with a system turn, and a few with
// invalid UTF-8, which the writers replace.
func instructionDocs(n int) []pipeline.Document {
	docs := testDocs(n)
	for i := range docs {
		d := &docs[i]
		s := sentences[(i+3)%len(sentences)].text
		in := &pipeline.Instruction{Task: []string{"", "qa", "translation", "continuation"}[i%4]}
		switch i % 5 {
		case 0, 1:
			in.Messages = []pipeline.Message{{Role: "user", Content: "Tell me something. " + s}, {Role: "assistant", Content: d.Text}}
		case 2:
			in.Input = s
			in.Messages = []pipeline.Message{{Role: "user", Content: pipeline.JoinPrompt("Summarise:", s)}, {Role: "assistant", Content: d.Text}}
			in.Template = "summary.eng.1"
		case 3:
			in.Messages = []pipeline.Message{
				{Role: "system", Content: "Answer in the user's language."},
				{Role: "user", Content: s}, {Role: "assistant", Content: d.Text},
				{Role: "user", Content: fmt.Sprintf("And %d?", i)}, {Role: "assistant", Content: "\"quoted\" <b>&</b>\n\u2028"},
			}
		case 4:
			in.Messages = []pipeline.Message{{Role: "user", Content: "bad \xff byte"}, {Role: "assistant", Content: d.Text + "\xc3"}}
		}
		d.Instruction = in
		d.Text = in.View(pipeline.ViewAll)
	}
	return docs
}

// wantInstructionRow is the row the writers must produce for d, computed from the document
// with encoding/json's view of invalid UTF-8.
func wantInstructionRow(t testing.TB, d *pipeline.Document) instructionRow {
	in := d.Instruction
	ins, inp, out := in.Flat()
	r := instructionRow{
		ID: validUTF8(d.ID), Lang: DatasetLang(d), Script: d.Script, LangScore: d.LangScore,
		Instruction: validUTF8(ins), Input: validUTF8(inp), Output: validUTF8(out),
		Task: in.Task, Template: in.Template, Source: d.Origin.File, Metadata: metaJSON(t, d.Meta),
	}
	for _, m := range in.Messages {
		r.Messages = append(r.Messages, messageRow{m.Role, validUTF8(m.Content)})
	}
	return r
}

func TestInstructionSchemaIsRequired(t *testing.T) {
	var walk func(path string, f arrow.Field)
	walk = func(path string, f arrow.Field) {
		if f.Nullable {
			t.Errorf("%s: nullable, want required", path)
		}
		switch tt := f.Type.(type) {
		case *arrow.ListType:
			walk(path+".element", tt.ElemField())
		case *arrow.StructType:
			for _, c := range tt.Fields() {
				walk(path+"."+c.Name, c)
			}
		}
	}
	for _, f := range InstructionSchema().Fields() {
		walk(f.Name, f)
	}
	want := []string{"id", "lang", "script", "lang_score", "messages", "instruction", "input", "output", "task", "template", "source", "metadata"}
	for i, f := range InstructionSchema().Fields() {
		if f.Name != want[i] {
			t.Errorf("field %d = %q, want %q", i, f.Name, want[i])
		}
	}
	if _, err := ShapeByName("chat"); err == nil {
		t.Error("ShapeByName(chat) gave no error")
	}
	for _, name := range []string{"", "text", "instruction"} {
		if _, err := ShapeByName(name); err != nil {
			t.Errorf("ShapeByName(%q): %v", name, err)
		}
	}
}

func TestInstructionParquetReadByParquetGo(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)

	docs := instructionDocs(2345)
	data := writeParquet(t, InstructionShape(), ParquetOptions{RowGroupSize: 1000, Allocator: alloc}, docs)

	rows, err := pq.Read[instructionRow](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("parquet-go: %v", err)
	}
	if len(rows) != len(docs) {
		t.Fatalf("read %d rows, want %d", len(rows), len(docs))
	}
	for i := range docs {
		want := wantInstructionRow(t, &docs[i])
		if got := rows[i]; !instructionRowsEqual(got, want) {
			t.Errorf("row %d:\ngot  %+v\nwant %+v", i, got, want)
		}
	}
	if n := len(rows[3].Messages); n != 5 {
		t.Errorf("row 3 has %d messages, want 5", n)
	}

	f := openParquetGo(t, data)
	if len(f.Metadata().KeyValueMetadata) != 0 {
		t.Errorf("file carries key/value metadata; want plain Parquet")
	}
	for _, leaf := range f.Schema().Fields() {
		if !leaf.Required() {
			t.Errorf("column %s is not required", leaf.Name())
		}
	}
	msgs, _ := f.Schema().Lookup("messages", "list", "element", "content")
	if msgs.Node == nil {
		t.Fatal("no column messages.list.element.content: the messages column is not a standard three-level LIST")
	}
	dict := map[string]bool{"lang": true, "script": true, "messages.list.element.role": true, "task": true, "template": true, "source": true}
	for g, rg := range f.Metadata().RowGroups {
		for _, cc := range rg.Columns {
			cm := cc.MetaData
			name := fmt.Sprint(cm.PathInSchema[0])
			for _, p := range cm.PathInSchema[1:] {
				name += "." + p
			}
			dictEncoded := slices.Contains(cm.Encoding, format.RLEDictionary) || slices.Contains(cm.Encoding, format.PlainDictionary)
			if dictEncoded != dict[name] {
				t.Errorf("row group %d column %s: dictionary-encoded = %v, want %v", g, name, dictEncoded, dict[name])
			}
		}
	}
}

func instructionRowsEqual(a, b instructionRow) bool {
	return a.ID == b.ID && a.Lang == b.Lang && a.Script == b.Script && a.LangScore == b.LangScore &&
		slices.Equal(a.Messages, b.Messages) && a.Instruction == b.Instruction && a.Input == b.Input &&
		a.Output == b.Output && a.Task == b.Task && a.Template == b.Template && a.Source == b.Source &&
		a.Metadata == b.Metadata
}

func TestInstructionParquetReadByPqarrow(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)

	docs := instructionDocs(777)
	data := writeParquet(t, InstructionShape(), ParquetOptions{RowGroupSize: 300, Allocator: alloc}, docs)
	rdr, err := file.NewParquetReader(bytes.NewReader(data), file.WithReadProps(parquet.NewReaderProperties(alloc)))
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 256}, alloc)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	want := InstructionSchema()
	for i, f := range tbl.Schema().Fields() {
		if w := want.Field(i); f.Name != w.Name || !arrow.TypeEqual(f.Type, w.Type) || f.Nullable != w.Nullable {
			t.Errorf("field %d read back as %s, want %s", i, f, w)
		}
	}
	got := tableInstructionRows(t, tbl)
	for i := range docs {
		if w := wantInstructionRow(t, &docs[i]); !instructionRowsEqual(got[i], w) {
			t.Errorf("row %d:\ngot  %+v\nwant %+v", i, got[i], w)
		}
	}
}

// tableInstructionRows turns an Arrow table of InstructionSchema into rows.
func tableInstructionRows(t testing.TB, tbl arrow.Table) []instructionRow {
	t.Helper()
	var rows []instructionRow
	tr := array.NewTableReader(tbl, 1000)
	defer tr.Release()
	for tr.Next() {
		rows = append(rows, recordInstructionRows(t, tr.RecordBatch())...)
	}
	return rows
}

func recordInstructionRows(t testing.TB, rec arrow.RecordBatch) []instructionRow {
	t.Helper()
	str := func(c, i int) string { return rec.Column(c).(*array.String).Value(i) }
	var rows []instructionRow
	for i := 0; i < int(rec.NumRows()); i++ {
		r := instructionRow{
			ID: str(0, i), Lang: str(1, i), Script: str(2, i), LangScore: rec.Column(3).(*array.Float64).Value(i),
			Instruction: str(5, i), Input: str(6, i), Output: str(7, i), Task: str(8, i), Template: str(9, i),
			Source: str(10, i), Metadata: str(11, i),
		}
		list := rec.Column(4).(*array.List)
		st := list.ListValues().(*array.Struct)
		role, content := st.Field(0).(*array.String), st.Field(1).(*array.String)
		lo, hi := list.ValueOffsets(i)
		for j := int(lo); j < int(hi); j++ {
			r.Messages = append(r.Messages, messageRow{role.Value(j), content.Value(j)})
		}
		rows = append(rows, r)
	}
	return rows
}

func TestInstructionJSONL(t *testing.T) {
	docs := instructionDocs(500)
	for _, compression := range []string{"none", "zstd"} {
		data := writeJSONL(t, InstructionShape(), compression, docs)
		lines := jsonlLines(t, data, compression == "zstd")
		if len(lines) != len(docs) {
			t.Fatalf("%s: %d lines, want %d", compression, len(lines), len(docs))
		}
		for i, line := range lines {
			var got struct {
				instructionRow
				Metadata json.RawMessage `json:"metadata"`
			}
			if err := json.Unmarshal(line, &got); err != nil {
				t.Fatalf("line %d: %v", i, err)
			}
			want := wantInstructionRow(t, &docs[i])
			got.instructionRow.Metadata = string(got.Metadata)
			if !instructionRowsEqual(got.instructionRow, want) {
				t.Errorf("line %d:\ngot  %+v\nwant %+v", i, got.instructionRow, want)
			}
			// Byte for byte what encoding/json writes for the same object.
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			type canon struct {
				ID          string          `json:"id"`
				Lang        string          `json:"lang"`
				Script      string          `json:"script"`
				LangScore   float64         `json:"lang_score"`
				Messages    []messageRow    `json:"messages"`
				Instruction string          `json:"instruction"`
				Input       string          `json:"input"`
				Output      string          `json:"output"`
				Task        string          `json:"task"`
				Template    string          `json:"template"`
				Source      string          `json:"source"`
				Metadata    json.RawMessage `json:"metadata"`
			}
			// encoding/json gets the raw strings: it replaces invalid UTF-8 itself.
			d := &docs[i]
			var raw []messageRow
			for _, m := range d.Instruction.Messages {
				raw = append(raw, messageRow{m.Role, m.Content})
			}
			ins, inp, out := d.Instruction.Flat()
			w := want
			if err := enc.Encode(canon{d.ID, w.Lang, w.Script, w.LangScore, raw, ins, inp, out, w.Task, w.Template, w.Source, json.RawMessage(w.Metadata)}); err != nil {
				t.Fatal(err)
			}
			if got := string(line); got != string(bytes.TrimSuffix(b.Bytes(), []byte("\n"))) {
				t.Errorf("line %d differs from encoding/json:\ngot  %s\nwant %s", i, got, b.Bytes())
			}
		}
	}
}

func TestInstructionWritersRefuseTextRecords(t *testing.T) {
	docs := instructionDocs(3)
	docs[1].Instruction = nil
	var buf bytes.Buffer
	pw, err := NewParquetWriter(&buf, InstructionShape(), ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jw, err := NewJSONLWriter(&bytes.Buffer{}, InstructionShape(), "none")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []shardWriter{pw, jw} {
		for i := range docs {
			err := w.Write(&docs[i])
			if (err != nil) != (i == 1) {
				t.Errorf("%T: Write(doc %d) = %v", w, i, err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatalf("%T: Close after a refused document: %v", w, err)
		}
	}
	if got := pw.Rows(); got != 2 {
		t.Errorf("parquet writer has %d rows, want 2", got)
	}
	rows, err := pq.Read[instructionRow](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || len(rows) != 2 {
		t.Fatalf("read back %d rows, %v", len(rows), err)
	}
}
