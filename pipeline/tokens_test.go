package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeTokenizer counts one token per 3 bytes, rounded up, and how many counters it made.
func fakeTokenizer(made *atomic.Int64) *Tokenizer {
	return &Tokenizer{
		Info: TokenizerInfo{File: "tok.json", SHA256: strings.Repeat("ab", 32), Family: "byte-level BPE"},
		NewCounter: func() func(string) int {
			made.Add(1)
			return func(s string) int { return (len(s) + 2) / 3 }
		},
	}
}

func TestRunCountsTokens(t *testing.T) {
	docs := makeDocs(3000)
	for i := range docs {
		docs[i].Lang = []string{"yor_Latn", "amh_Ethi", ""}[i%3]
		docs[i].Text = strings.Repeat("ẹ", i%40+1)
	}
	var first *Stats
	for _, workers := range []int{1, 4} {
		var made atomic.Int64
		p := &Plan{
			Source:    &sliceSource{docs: docs},
			Stages:    []StageInstance{{Name: "mod5", Kind: "mod", Mode: Parallel, Stage: &modStage{mod: 5}}},
			Output:    &memSink{},
			Workers:   workers,
			BatchSize: 16,
			Tokenizer: fakeTokenizer(&made),
		}
		st, err := Run(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if n := made.Load(); n < 1 || n > int64(workers) {
			t.Errorf("workers %d: %d token counters made", workers, n)
		}
		if st.Tokenizer == nil || *st.Tokenizer != p.Tokenizer.Info {
			t.Errorf("stats tokenizer %+v", st.Tokenizer)
		}
		kept := map[string]bool{}
		for _, id := range p.Output.(*memSink).ids {
			id, _, _ = strings.Cut(id, "|")
			kept[id] = true
		}
		want := map[string]int64{}
		for _, d := range docs {
			if kept[d.ID] {
				want[statsLang(&d)] += int64((len(d.Text) + 2) / 3)
			}
		}
		for lang, ls := range st.Langs {
			if ls.Tokens != want[lang] {
				t.Errorf("workers %d: %s has %d tokens, want %d", workers, lang, ls.Tokens, want[lang])
			}
		}
		st.Seconds = 0
		if first == nil {
			first = st
		} else if !reflect.DeepEqual(st, first) {
			t.Errorf("stats differ between 1 and %d workers", workers)
		}
	}
}

func TestStatsMergeTokens(t *testing.T) {
	info := &TokenizerInfo{File: "tok.json", SHA256: "x", Family: "f"}
	a := &Stats{Langs: map[string]LangStats{"yor_Latn": {Docs: 1, Tokens: 10}}}
	b := &Stats{Tokenizer: info, Langs: map[string]LangStats{"yor_Latn": {Docs: 2, Tokens: 32}, "amh_Ethi": {Docs: 1, Tokens: 7}}}
	a.Merge(b)
	if a.Tokenizer == nil || *a.Tokenizer != *info || a.Langs["yor_Latn"].Tokens != 42 || a.Langs["amh_Ethi"].Tokens != 7 {
		t.Errorf("merged: tokenizer %+v, langs %+v", a.Tokenizer, a.Langs)
	}
}

func TestLoadCoverageTokenizer(t *testing.T) {
	var loaded []string
	RegisterTokenizerLoader(func(path string) (*Tokenizer, error) {
		loaded = append(loaded, path)
		if strings.HasSuffix(path, "wordpiece.json") {
			return nil, errors.New(path + `: model.type: "WordPiece": not supported`)
		}
		if _, err := os.Stat(path); err != nil {
			return nil, err
		}
		var made atomic.Int64
		return fakeTokenizer(&made), nil
	})
	defer RegisterTokenizerLoader(nil)
	dir := t.TempDir()
	for _, f := range []string{"tok.json", "wordpiece.json"} {
		if err := os.WriteFile(dir+"/"+f, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	head := "inputs: [a.jsonl]\noutput: {dir: o, format: test-null}\ncoverage:\n"
	cfg, err := Load(dir+"/p.yaml", []byte(head+"  tokenizer: tok.json\n  targets: {yor_Latn: {min_tokens: 100}}\n"), testRegistry(t))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Coverage.Tokenizer != dir+"/tok.json" || cfg.Coverage.Loaded == nil || len(loaded) != 1 {
		t.Fatalf("tokenizer %q, loaded %v, loader calls %q", cfg.Coverage.Tokenizer, cfg.Coverage.Loaded, loaded)
	}
	if tok, err := cfg.Coverage.LoadTokenizer(); err != nil || tok != cfg.Coverage.Loaded || len(loaded) != 1 {
		t.Errorf("LoadTokenizer after Load: %v, %v, %d loads", tok, err, len(loaded))
	}
	if m := ResolvedMap(cfg)["coverage"].(map[string]any); m["tokenizer"] != dir+"/tok.json" {
		t.Errorf("resolved coverage: %v", m)
	}
	cfg, err = Load(dir+"/p.yaml", []byte(head+"  seed: 1\n"), testRegistry(t))
	if err != nil {
		t.Fatal(err)
	}
	if m := ResolvedMap(cfg)["coverage"].(map[string]any); m["tokenizer"] != nil {
		t.Errorf("without the key, the resolved coverage has tokenizer %v", m["tokenizer"])
	}

	tests := []struct{ give, want string }{
		{"  tokenizer: missing.json\n", fmt.Sprintf("p.yaml:4:14: coverage.tokenizer: stat %s/missing.json: no such file or directory", dir)},
		{"  tokenizer: wordpiece.json\n", fmt.Sprintf(`p.yaml:4:14: coverage.tokenizer: %s/wordpiece.json: model.type: "WordPiece": not supported`, dir)},
		{"  targets:\n    yor_Latn: {min_tokens: 5}\n", "p.yaml:5:28: coverage.targets.yor_Latn.min_tokens: needs coverage.tokenizer"},
		{"  tokenizer: tok.json\n  default: {min_tokens: -1}\n", "p.yaml:5:25: coverage.default.min_tokens: must be >= 0, got -1"},
	}
	for _, tt := range tests {
		_, err := Load(dir+"/p.yaml", []byte(head+tt.give), testRegistry(t))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.give, err, tt.want)
		}
	}
}
