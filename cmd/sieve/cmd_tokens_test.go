package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sieve-data/sieve/lang/tokenizer"
	"github.com/sieve-data/sieve/pipeline"
)

func TestTokensCommand(t *testing.T) {
	tokFile := "../../lang/tokenizer/testdata/sentencepiece.json"
	tok, err := tokenizer.Load(tokFile)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"hello world", "Ẹ kú àárọ̀!\nline two", "", "a<s>b"}
	var lines []string
	for _, s := range texts {
		lines = append(lines, strconv.Quote(s))
	}
	in := filepath.Join(t.TempDir(), "texts.jsonl")
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	code, out, stderr := sieve(t, "tokens", "--json", "--summary", "--tokenizer", tokFile, in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	counts := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(counts) != len(texts) {
		t.Fatalf("%d lines of output for %d texts: %q", len(counts), len(texts), out)
	}
	c := tok.NewCounter()
	total := 0
	for i, s := range texts {
		if want := strconv.Itoa(c.Count(s)); counts[i] != want {
			t.Errorf("line %d: %s tokens, want %s", i+1, counts[i], want)
		}
		total += c.Count(s)
	}
	if !strings.Contains(stderr, "4 lines") || !strings.Contains(stderr, strconv.Itoa(total)+" tokens") || !strings.Contains(stderr, "tokens/word") {
		t.Errorf("summary: %q", stderr)
	}

	code, out, stderr = sieve(t, "tokens", "--json", "--ids", "-t", tokFile, in)
	if code != 0 {
		t.Fatalf("--ids: exit %d: %s", code, stderr)
	}
	for i, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var ids []int
		for _, f := range strings.Fields(l) {
			id, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("line %d: %q", i+1, l)
			}
			ids = append(ids, id)
		}
		if got, err := tok.Decode(ids); err != nil || (got != texts[i] && !strings.Contains(texts[i], "<s>")) {
			t.Errorf("line %d: ids %v decode to %q (%v), want %q", i+1, ids, got, err, texts[i])
		}
	}

	// Plain lines: one text per line.
	code, out, _ = sieve(t, "tokens", "-t", tokFile, in)
	if code != 0 || strings.Count(out, "\n") != len(texts) {
		t.Errorf("plain lines: exit %d, %q", code, out)
	}

	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte("\"ok\"\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := sieve(t, "tokens", "--json", "-t", tokFile, bad); code != 1 || !strings.Contains(stderr, "bad.jsonl:2: not a JSON string") {
		t.Errorf("bad JSON line: exit %d, %q", code, stderr)
	}
	// Hugging Face tokenizers take text: a line that is not UTF-8 has no count to give (the
	// byte-level ids of its raw bytes are ids HF never produces), plain or as JSON.
	for _, flag := range []string{"--ids", "--json"} {
		invalid := filepath.Join(t.TempDir(), "invalid.txt")
		if err := os.WriteFile(invalid, []byte("\"ok\"\n\"a\xffb\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := sieve(t, "tokens", flag, "-t", tokFile, invalid); code != 1 || !strings.Contains(stderr, "invalid.txt:2: invalid UTF-8 at byte 2") {
			t.Errorf("%s, invalid UTF-8: exit %d, %q", flag, code, stderr)
		}
	}
	unsupported := filepath.Join(t.TempDir(), "wp.json")
	if err := os.WriteFile(unsupported, []byte(`{"model": {"type": "WordPiece", "vocab": {}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := sieve(t, "tokens", "-t", unsupported, in); code != 2 || !strings.Contains(stderr, `model.type: "WordPiece"`) {
		t.Errorf("WordPiece tokenizer: exit %d, %q", code, stderr)
	}
}

// TestRunCountsTokens runs a pipeline with coverage.tokenizer and checks stats.json's
// per-language tokens against a recount of the kept texts, the card's tokens-per-word
// column, a min_tokens target, and that sieve report -c refuses another tokenizer.
func TestRunCountsTokens(t *testing.T) {
	dir := t.TempDir()
	corpus, err := filepath.Abs("../../testdata/corpus/quickstart.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bytelevel.json", "sentencepiece.json"} {
		data, err := os.ReadFile("../../lang/tokenizer/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	config := func(tok string) string {
		return "inputs: [" + strconv.Quote(corpus) + "]\n" +
			"stages:\n  - length: {min_chars: 40}\n  - langid: {candidates: [yor_Latn, swh_Latn, eng_Latn], below: und}\n" +
			"output: {format: jsonl, compression: none}\n" +
			"coverage:\n  tokenizer: " + tok + "\n  targets:\n    yor_Latn: {min_tokens: 1}\n    swh_Latn: {min_tokens: 100000000}\n"
	}
	cfgPath := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(cfgPath, []byte(config("bytelevel.json")), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	if code, _, stderr := sieve(t, "run", "-c", cfgPath, "-o", run, "--workers", "2", "--quiet"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	var st struct {
		Tokenizer struct{ File, SHA256, Family string }
		Languages map[string]struct{ Docs, Words, Tokens int64 }
	}
	raw, err := os.ReadFile(filepath.Join(run, "stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(filepath.Join(dir, "bytelevel.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Tokenizer.SHA256 != tok.SHA256() || st.Tokenizer.Family != "byte-level BPE" || filepath.Base(st.Tokenizer.File) != "bytelevel.json" {
		t.Errorf("stats.json tokenizer: %+v", st.Tokenizer)
	}
	c := tok.NewCounter()
	for lang, ls := range st.Languages {
		files, _ := filepath.Glob(filepath.Join(run, "data", lang, "*.jsonl"))
		var n, docs int64
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				var rec struct{ Text string }
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatal(err)
				}
				n += int64(c.Count(rec.Text))
				docs++
			}
		}
		if docs != ls.Docs || n != ls.Tokens {
			t.Errorf("%s: stats say %d docs, %d tokens; the data files hold %d docs, %d tokens", lang, ls.Docs, ls.Tokens, docs, n)
		}
	}
	yor := st.Languages["yor_Latn"]
	if yor.Tokens == 0 || yor.Words == 0 {
		t.Fatalf("yor_Latn: %+v", yor)
	}
	card, err := os.ReadFile(filepath.Join(run, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	fert := strconv.FormatFloat(float64(yor.Tokens)/float64(yor.Words), 'f', 2, 64)
	for _, want := range []string{"| Tokens | Tokens/word |", "bytelevel.json` (byte-level BPE, SHA-256 `" + tok.SHA256() + "`)", "| " + fert + " |", "≥ 100,000,000 tokens | ⚠️ under target", "≥ 1 tokens | ✅ met"} {
		if !strings.Contains(string(card), want) {
			t.Errorf("card lacks %q", want)
		}
	}
	page, err := os.ReadFile(filepath.Join(run, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "<th>Tokens/word</th>") || !strings.Contains(string(page), ">"+fert+"<") {
		t.Error("report.html lacks the tokens-per-word column")
	}

	// Task mode (two tasks and a merge) counts the same tokens.
	tasks := filepath.Join(dir, "tasks")
	if code, _, stderr := sieve(t, "run", "-c", cfgPath, "-o", tasks, "--task-count", "2", "--quiet"); code != 0 {
		t.Fatalf("task mode: exit %d: %s", code, stderr)
	}
	var st2 struct {
		Tokenizer struct{ SHA256 string }
		Languages map[string]struct{ Tokens int64 }
	}
	if raw, err := os.ReadFile(filepath.Join(tasks, "stats.json")); err != nil || json.Unmarshal(raw, &st2) != nil {
		t.Fatalf("task mode stats: %v", err)
	}
	for lang, ls := range st.Languages {
		if st2.Languages[lang].Tokens != ls.Tokens || st2.Tokenizer.SHA256 != st.Tokenizer.SHA256 {
			t.Errorf("%s: %d tokens in task mode, %d in one process", lang, st2.Languages[lang].Tokens, ls.Tokens)
		}
	}

	if code, _, stderr := sieve(t, "report", "-q", run); code != 0 {
		t.Errorf("report: exit %d: %s", code, stderr)
	}
	other := filepath.Join(dir, "other.yaml")
	if err := os.WriteFile(other, []byte(config("sentencepiece.json")), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := sieve(t, "report", "-q", "-c", other, run); code == 0 || !strings.Contains(stderr, "is not the tokenizer this run counted tokens with") {
		t.Errorf("report -c with another tokenizer: exit %d: %s", code, stderr)
	}
	if code, _, stderr := sieve(t, "report", "-q", "-c", cfgPath, run); code != 0 {
		t.Errorf("report -c with the run's tokenizer: exit %d: %s", code, stderr)
	}
}

// In task mode with a phased stage, a shard pass's stats are never reported: tokens are
// counted once per kept document, in the final pass, not again in each shard pass.
func TestTaskModeCountsTokensOnce(t *testing.T) {
	var calls atomic.Int64
	pipeline.RegisterTokenizerLoader(func(path string) (*pipeline.Tokenizer, error) {
		tok, err := loadTokenizer(path)
		if err != nil {
			return nil, err
		}
		newCounter := tok.NewCounter
		tok.NewCounter = func() func(string) int {
			count := newCounter()
			return func(s string) int { calls.Add(1); return count(s) }
		}
		return tok, nil
	})
	defer pipeline.RegisterTokenizerLoader(loadTokenizer)
	dir := t.TempDir()
	corpus, err := filepath.Abs("../../testdata/corpus/quickstart.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := filepath.Abs("../../lang/tokenizer/testdata/bytelevel.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, dir, "p.yaml", "inputs: ["+strconv.Quote(corpus)+"]\n"+
		"stages:\n  - length: {min_chars: 40}\n  - exact_dedup: {mode: sharded}\n"+
		"output: {format: jsonl, compression: none}\ncoverage: {tokenizer: "+strconv.Quote(tok)+"}\n")
	out := filepath.Join(dir, "out")
	mustRun(t, "run", "-c", cfg, "-o", out, "-q", "--task-count", "2")
	var st struct{ Kept int64 }
	if raw, err := os.ReadFile(filepath.Join(out, "stats.json")); err != nil || json.Unmarshal(raw, &st) != nil {
		t.Fatalf("stats.json: %v", err)
	}
	if st.Kept == 0 || calls.Load() != st.Kept {
		t.Errorf("%d texts tokenized for %d kept documents", calls.Load(), st.Kept)
	}
}
