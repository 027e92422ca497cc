package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"
)

// sharedData returns the shared evaluation data directory (../shared/data from the repo
// root, or $SIEVE_SHARED_DATA), or "" when it is absent.
func sharedData() string {
	if d := os.Getenv("SIEVE_SHARED_DATA"); d != "" {
		return d
	}
	d, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "data"))
	return d
}

// inspectJSON runs sieve inspect --json on paths.
type inspectResult struct {
	Files []struct {
		Path   string           `json:"path"`
		Format string           `json:"format"`
		Rows   int64            `json:"rows"`
		Langs  map[string]int64 `json:"langs"`
		Groups []struct {
			Rows int64 `json:"rows"`
		} `json:"row_groups"`
		Schema []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"schema"`
	} `json:"files"`
	Rows  int64            `json:"rows"`
	Langs map[string]int64 `json:"langs"`
}

func inspectJSON(t *testing.T, paths ...string) inspectResult {
	t.Helper()
	code, out, stderr := sieve(t, append([]string{"inspect", "--json", "-n", "0"}, paths...)...)
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, stderr)
	}
	var r inspectResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("inspect --json: %v\n%s", err, out)
	}
	return r
}

// instructionRow is an instruction record as parquet-go reads it back.
type instructionRow struct {
	ID       string `parquet:"id"`
	Lang     string `parquet:"lang"`
	Messages []struct {
		Role    string `parquet:"role"`
		Content string `parquet:"content"`
	} `parquet:"messages,list"`
	Instruction string `parquet:"instruction"`
	Output      string `parquet:"output"`
	Task        string `parquet:"task"`
}

// Acceptance: AfriQA's questions and answers go through configs/afriqa.yaml (pairs adapter,
// language from each record's own label, exact dedup) into per-language instruction
// Parquet shards split train/validation/test; sieve inspect counts, per language, the
// records of that language in the input less those rejected.
func TestAfriQAAcceptance(t *testing.T) {
	input := filepath.Join(sharedData(), "instructions", "afriqa_qa.jsonl")
	if _, err := os.Stat(input); err != nil {
		t.Skipf("shared data absent (%v); set SIEVE_SHARED_DATA", err)
	}
	cfgPath := "../../configs/afriqa.yaml"
	if os.Getenv("SIEVE_SHARED_DATA") != "" {
		text, err := os.ReadFile(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		cfgPath = filepath.Join(t.TempDir(), "afriqa.yaml")
		text = bytes.Replace(text, []byte("../../shared/data/instructions/afriqa_qa.jsonl"), []byte(input), 1)
		if err := os.WriteFile(cfgPath, text, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "afriqa")
	mustRun(t, "run", "-c", cfgPath, "-o", dir, "-q")
	mustVerify(t, dir)

	// Expected: the input's own lang field, less the rejects of each language.
	want := map[string]int64{}
	data, err := os.ReadFile(input)
	if err != nil {
		t.Fatal(err)
	}
	var read int64
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r struct {
			Lang string `json:"lang"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		want[r.Lang]++
		read++
	}
	rej, err := os.ReadFile(filepath.Join(dir, "rejects.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var rejected int64
	for _, line := range strings.Split(strings.TrimSpace(string(rej)), "\n") {
		if line == "" {
			continue
		}
		var r struct{ Lang, Reason string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		want[r.Lang]--
		rejected++
	}
	if len(want) != 10 {
		t.Fatalf("the input has %d languages, want AfriQA's 10", len(want))
	}

	res := inspectJSON(t, filepath.Join(dir, "data"))
	if !mapsEqual(res.Langs, want) {
		t.Errorf("inspect counts per language %v, want %v", res.Langs, want)
	}
	if res.Rows != read-rejected {
		t.Errorf("inspect counts %d rows, want %d read - %d rejected", res.Rows, read, rejected)
	}
	splits := map[string]int64{}
	for _, f := range res.Files {
		rel, _ := filepath.Rel(filepath.Join(dir, "data"), f.Path)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if len(parts) != 2 || f.Format != "parquet" || len(f.Langs) != 1 || f.Langs[parts[0]] != f.Rows {
			t.Errorf("%s: %+v", rel, f)
		}
		split, _, _ := strings.Cut(parts[1], "-")
		splits[split] += f.Rows
		if f.Schema[4].Name != "messages" || !strings.HasPrefix(f.Schema[4].Type, "list<") {
			t.Errorf("%s: column 4 is %+v", rel, f.Schema[4])
		}
	}
	if splits["train"] < splits["validation"]*5 || splits["validation"] == 0 || splits["test"] == 0 {
		t.Errorf("rows per split %v; want about 90/5/5", splits)
	}
	// Every record reads back with parquet-go as a question and its answer.
	files, _ := filepath.Glob(filepath.Join(dir, "data", "*", "*.parquet"))
	n := 0
	for _, f := range files {
		rows, err := pq.ReadFile[instructionRow](f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, r := range rows {
			n++
			if len(r.Messages) != 2 || r.Messages[0].Role != "user" || r.Messages[1].Role != "assistant" ||
				r.Messages[0].Content != r.Instruction || r.Messages[1].Content != r.Output || r.Task != "qa" || r.Lang != filepath.Base(filepath.Dir(f)) {
				t.Fatalf("%s: row %+v", f, r)
			}
		}
	}
	if int64(n) != read-rejected {
		t.Errorf("parquet-go read %d rows, want %d", n, read-rejected)
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// writeInstructCorpus writes an Alpaca file with malformed records and a text file with
// titles for the template stage; it returns the config's inputs and stages.
func writeInstructCorpus(t *testing.T, dir string, n int) string {
	t.Helper()
	langs := []string{"yor_Latn", "swh_Latn", "hau_Latn", "zul_Latn", "cym_Latn"}
	var a, b strings.Builder
	for i := 0; i < n; i++ {
		lang := langs[i%len(langs)]
		switch {
		case i%53 == 7:
			fmt.Fprintf(&a, `{"id":"a%d","instruction":"Q%d","input":"","output":"  ","lang":%q}`+"\n", i, i, lang)
		case i%61 == 11:
			fmt.Fprintf(&a, `{"id":"a%d","output":"A%d","lang":%q}`+"\n", i, i, lang)
		default:
			fmt.Fprintf(&a, `{"id":"a%d","instruction":"Swali namba %d: %s?","input":"","output":"Jibu %d: %s.","lang":%q}`+"\n",
				i, i, taskWords[i%len(taskWords)], i, taskWords[(i*7)%len(taskWords)], lang)
		}
		words := make([]string, 40+i%30)
		for j := range words {
			words[j] = taskWords[(i*13+j*5)%len(taskWords)]
		}
		text := strings.Join(words[:len(words)/2], " ") + ". " + strings.Join(words[len(words)/2:], " ") + "."
		if i%3 == 0 {
			fmt.Fprintf(&b, `{"id":"b%d","title":"Kichwa %d","text":%q}`+"\n", i, i, text)
		} else {
			fmt.Fprintf(&b, `{"id":"b%d","text":%q}`+"\n", i, text)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "alpaca.jsonl"), []byte(a.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "text.jsonl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	tmpl, err := filepath.Abs("../../configs/templates/instruct.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`inputs:
  - {path: alpaca.jsonl, adapter: alpaca, fields: {lang: lang}, task: general}
  - text.jsonl
stages:
  - instruct_template: {templates: %s, kinds: [title_to_article, continuation], continuation: {min_chars: 100}}
  - exact_dedup: {normalize: whitespace_case}
`, tmpl)
}

// Instruction records from an adapter and from templates, in Arrow IPC files split by id,
// verify, are counted by inspect, and come out the same split into tasks.
func TestInstructionRunArrowSplitsAndTasks(t *testing.T) {
	dir := t.TempDir()
	body := writeInstructCorpus(t, dir, 600)
	cfg := writeConfig(t, dir, "p.yaml", body+`output:
  format: arrow
  compression: zstd
  shape: instruction
  max_shard_rows: 40
  splits: {train: 0.8, validation: 0.1, test: 0.1}
rejects: {enabled: true, format: jsonl}
`)
	single := filepath.Join(dir, "single")
	mustRun(t, "run", "-c", cfg, "-o", single, "-q")
	mustVerify(t, single)
	tasks := filepath.Join(dir, "tasks")
	mustRun(t, "run", "-c", cfg, "-o", tasks, "-q", "--task-count", "3", "--split-bytes", "16KiB")
	mustVerify(t, tasks)

	byFile := func(run string) map[string][]string { // "<lang>/<split>" -> ids in order
		out := map[string][]string{}
		res := inspectJSON(t, filepath.Join(run, "data"))
		for _, f := range res.Files {
			rel, _ := filepath.Rel(filepath.Join(run, "data"), f.Path)
			lang, name, _ := strings.Cut(filepath.ToSlash(rel), "/")
			split, _, _ := strings.Cut(name, "-")
			if f.Format != "arrow" || f.Rows > 40 {
				t.Errorf("%s: %+v", rel, f)
			}
			code, out2, _ := sieve(t, "inspect", "--json", "-n", "100", f.Path)
			if code != 0 {
				t.Fatal(out2)
			}
			var one struct {
				Files []struct {
					Head []struct{ ID, Task, Template string }
				} `json:"files"`
			}
			json.Unmarshal([]byte(out2), &one)
			for _, h := range one.Files[0].Head {
				out[lang+"/"+split] = append(out[lang+"/"+split], h.ID)
				if h.Task == "" {
					t.Errorf("%s: %s has no task", rel, h.ID)
				}
			}
		}
		return out
	}
	a, b := byFile(single), byFile(tasks)
	if len(a) < 10 {
		t.Fatalf("only %d language/split groups: %v", len(a), a)
	}
	for k, ids := range a {
		if !slices.Equal(ids, b[k]) {
			t.Errorf("%s: single process and tasks differ:\n%v\n%v", k, ids, b[k])
		}
	}
	var keys []string
	for k := range b {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(b) != len(a) {
		t.Errorf("tasks wrote groups %v", keys)
	}
	rejects, _ := os.ReadFile(filepath.Join(single, "rejects.jsonl"))
	for _, reason := range []string{"adapter.empty_output", "adapter.missing_field"} {
		if !bytes.Contains(rejects, []byte(reason)) {
			t.Errorf("no %s in the rejects", reason)
		}
	}
}

func TestInspectCommandText(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.jsonl")
	os.WriteFile(p, []byte(`{"id":"1","lang":"yor_Latn","text":"Ẹ kú àárọ̀"}`+"\n"+`{"id":"2","lang":"swh_Latn","text":"Habari"}`+"\n"), 0o644)
	code, out, stderr := sieve(t, "inspect", p, p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"format       jsonl, compression none", "rows         2", "lang                   string (in 2 rows)", "yor_Latn               1", "total: 2 files, 4 rows", `{"id":"1","lang":"yor_Latn","text":"Ẹ kú àárọ̀"}`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code, _, stderr := sieve(t, "inspect", filepath.Join(dir, "missing.parquet")); code != 2 || !strings.Contains(stderr, "missing.parquet") {
		t.Errorf("missing file: exit %d, %s", code, stderr)
	}
}

// A text record reaching an instruction-shaped output stops the run with an error naming
// the document and the fix, and leaves no dataset file.
func TestInstructionShapeRefusesTextRecords(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte(`{"id":"1","prompt":"Habari?","response":"Nzuri."}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.jsonl"), []byte(`{"id":"t","text":"plain text"}`+"\n"), 0o644)
	cfg := writeConfig(t, dir, "p.yaml", "inputs:\n  - {path: a.jsonl, adapter: pairs}\n  - b.jsonl\noutput: {shape: instruction}\n")
	out := filepath.Join(dir, "out")
	code, _, stderr := sieve(t, "run", "-c", cfg, "-o", out, "-q")
	if code != 1 || !strings.Contains(stderr, `document "t" (`) || !strings.Contains(stderr, "give its input an adapter, or add an instruct_template stage") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if files, _ := filepath.Glob(filepath.Join(out, "data", "*", "*")); len(files) > 0 {
		t.Errorf("left %v", files)
	}
}
