package formats

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sieve-data/sieve/pipeline"
)

// langCounts counts documents per DatasetLang, as a dataset file holds them.
func langCounts(docs []pipeline.Document) map[string]int64 {
	m := map[string]int64{}
	for i := range docs {
		m[DatasetLang(&docs[i])]++
	}
	return m
}

func TestInspectEachFormat(t *testing.T) {
	docs := instructionDocs(1234)
	dir := t.TempDir()
	files := map[string][]byte{
		"a.parquet":   writeParquet(t, InstructionShape(), ParquetOptions{RowGroupSize: 500}, docs),
		"a.arrow":     writeArrow(t, InstructionShape(), ArrowOptions{BatchRows: 300, Compression: "zstd"}, docs),
		"a.jsonl.zst": writeJSONL(t, InstructionShape(), "zstd", docs),
		"a.jsonl":     writeJSONL(t, InstructionShape(), "none", docs),
	}
	wantGroups := map[string][]int64{"a.parquet": {500, 500, 234}, "a.arrow": {300, 300, 300, 300, 34}}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, dir, name, data)
			info, err := Inspect(context.Background(), p, InspectOptions{Head: 2, MaxString: 10})
			if err != nil {
				t.Fatal(err)
			}
			if info.Rows != int64(len(docs)) {
				t.Errorf("rows %d, want %d", info.Rows, len(docs))
			}
			if !reflect.DeepEqual(info.Langs, langCounts(docs)) {
				t.Errorf("langs %v, want %v", info.Langs, langCounts(docs))
			}
			var names []string
			for _, c := range info.Schema {
				names = append(names, c.Name)
			}
			var want []string
			for _, f := range InstructionSchema().Fields() {
				want = append(want, f.Name)
			}
			if !reflect.DeepEqual(names, want) {
				t.Errorf("schema %v, want %v", names, want)
			}
			var groups []int64
			for _, g := range info.Groups {
				groups = append(groups, g.Rows)
			}
			if w := wantGroups[name]; !reflect.DeepEqual(groups, w) {
				t.Errorf("groups %v, want %v", groups, w)
			}
			if len(info.Head) != 2 {
				t.Fatalf("%d head rows", len(info.Head))
			}
			var row struct {
				ID       string `json:"id"`
				Messages []struct {
					Role    string `json:"role"`
					Content string `json:"content"`
				} `json:"messages"`
			}
			if err := json.Unmarshal(info.Head[1], &row); err != nil {
				t.Fatalf("head row %s: %v", info.Head[1], err)
			}
			if row.ID != docs[1].ID || len(row.Messages) != 2 || row.Messages[0].Role != "user" || !strings.HasSuffix(row.Messages[0].Content, "…") {
				t.Errorf("head row %s", info.Head[1])
			}
			if !strings.HasPrefix(string(info.Head[0]), `{"id":`) {
				t.Errorf("head row fields not in schema order: %s", info.Head[0])
			}
		})
	}
}

func TestInspectJSONLDetails(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "x.jsonl", []byte("{\"id\":1,\"lang\":\"yor_Latn\",\"text\":\"a\"}\n\nnot json\n{\"id\":\"2\",\"text\":null}\n{\"lang\":\"yor_Latn\",\"lang\":\"swh_Latn\"}\n[1]\n"))
	info, err := Inspect(context.Background(), p, InspectOptions{Head: 5})
	if err != nil {
		t.Fatal(err)
	}
	if info.Rows != 3 || info.BadLines != 2 {
		t.Errorf("rows %d, bad lines %d; want 3, 2", info.Rows, info.BadLines)
	}
	if want := map[string]int64{"yor_Latn": 1, "swh_Latn": 1, "": 1}; !reflect.DeepEqual(info.Langs, want) {
		t.Errorf("langs %v, want %v", info.Langs, want)
	}
	want := []ColumnInfo{{"id", "number, string", 2}, {"lang", "string", 2}, {"text", "null, string", 2}}
	if !reflect.DeepEqual(info.Schema, want) {
		t.Errorf("schema %+v, want %+v", info.Schema, want)
	}
	if len(info.Head) != 3 || string(info.Head[2]) != `{"lang":"swh_Latn"}` {
		t.Errorf("head %s", info.Head)
	}
}

func TestInspectPathsAndErrors(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"data/yor_Latn/train-00000-of-00001.parquet", "data/swh_Latn/test-00000-of-00001.parquet", "data/.tmp-x.parquet", "notes.txt", "rejects.jsonl"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, n)), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, n, nil)
	}
	got, err := InspectPaths([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "data/swh_Latn/test-00000-of-00001.parquet"), filepath.Join(dir, "data/yor_Latn/train-00000-of-00001.parquet"), filepath.Join(dir, "rejects.jsonl")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("InspectPaths = %v, want %v", got, want)
	}
	if _, err := Inspect(context.Background(), filepath.Join(dir, "notes.txt"), InspectOptions{}); err == nil || !strings.Contains(err.Error(), "not text") {
		t.Errorf("text file: %v", err)
	}
	if _, err := Inspect(context.Background(), filepath.Join(dir, "data/yor_Latn/train-00000-of-00001.parquet"), InspectOptions{}); err == nil {
		t.Error("empty .parquet file inspected without error")
	}
	if _, err := InspectPaths([]string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("missing path accepted")
	}
}
