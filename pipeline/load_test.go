package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

type testLenConfig struct {
	MinChars int      `yaml:"min_chars"`
	Words    []string `yaml:"words"`
	Nested   struct {
		Depth int `yaml:"depth"`
	} `yaml:"nested"`
}

func (c *testLenConfig) Validate() []FieldError {
	if c.MinChars < 0 {
		return []FieldError{{"min_chars", fmt.Sprintf("must be >= 0, got %d", c.MinChars)}}
	}
	return nil
}

type nopStage struct{}

func (nopStage) Process(context.Context, *Document) (Verdict, error) { return Keep, nil }
func (nopStage) Close(context.Context) error                         { return nil }

func testRegistry(t testing.TB) *Registry {
	t.Helper()
	var r Registry
	for _, k := range []string{"length", "quality"} {
		if err := r.Register(k, Spec{
			Summary: "test", Example: "{min_chars: 1}",
			Config: func() any { return &testLenConfig{MinChars: 1} },
			New:    func(any, *Env) (Stage, error) { return nopStage{}, nil },
		}); err != nil {
			t.Fatal(err)
		}
	}
	return &r
}

func init() {
	RegisterWriter("test-null", func(string, *Output) (Sink, error) { return &memSink{}, nil })
	RegisterReader("test-lines", func(string, *Input) (Source, error) { return nil, errors.New("unused") })
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		give string
		want []string // each a full line of the error
	}{
		{
			name: "unknown top-level key with suggestion",
			give: "inputs: [a.jsonl]\nstage:\n  - length: {}\noutput: {dir: o, format: test-null}\n",
			want: []string{"p.yaml:2:1: stage: unknown field (did you mean stages?); valid: inputs, stages, output, rejects, workers, batch_size, coverage"},
		},
		{
			name: "unknown stage kind and bad param in one pass",
			give: "inputs: [a.jsonl]\nstages:\n  - lenght: {}\n  - quality: {min_char: 3}\n  - quality:\n      min_chars: -2\noutput: {dir: o, format: test-null}\n",
			want: []string{
				`p.yaml:3:5: stages[0]: unknown stage kind "lenght" (did you mean length?); valid: length, quality`,
				"p.yaml:4:15: stages[1].quality.min_char: unknown field (did you mean min_chars?); valid: min_chars, words, nested",
				"p.yaml:6:18: stages[2].quality.min_chars: must be >= 0, got -2",
			},
		},
		{
			name: "type errors and ranges",
			give: "inputs:\n  - path: a.jsonl\n    on_error: skip\nworkers: many\noutput: {dir: o, format: parquet2}\n",
			want: []string{
				`p.yaml:3:15: inputs[0].on_error: must be one of reject, fail; got "skip"`,
				"p.yaml:4:10: workers: cannot use !!str `many` into int",
				`p.yaml:5:26: output.format: unknown format "parquet2"; valid: test-null`,
			},
		},
		{
			name: "nested struct key",
			give: "inputs: [a]\nstages:\n  - length: {nested: {dept: 2}}\noutput: {dir: o, format: test-null}\n",
			want: []string{"p.yaml:3:23: stages[0].length.nested.dept: unknown field (did you mean depth?); valid: depth"},
		},
		{
			name: "coverage targets",
			give: "inputs: [a]\noutput: {dir: o, format: test-null}\ncoverage:\n  default: {min_docs: -1}\n  targets:\n    yor_Latn: {min_docs: 100, min_word: 5}\n    Yoruba!: {}\n  audit_samples: 5000\n",
			want: []string{
				"p.yaml:4:23: coverage.default.min_docs: must be >= 0, got -1",
				"p.yaml:6:31: coverage.targets.yor_Latn.min_word: unknown field (did you mean min_words?); valid: min_docs, min_words, min_tokens",
				`p.yaml:7:14: coverage.targets.Yoruba!: "Yoruba!" is not a language label: want an ISO 639 code with an optional script, like yor_Latn, yor or yo`,
				"p.yaml:8:18: coverage.audit_samples: must be in 0..1000, got 5000",
			},
		},
		{
			name: "yaml syntax error",
			give: "inputs: [a\n",
			want: []string{"p.yaml:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("p.yaml", []byte(tt.give), testRegistry(t))
			var ce ConfigErrors
			if !errors.As(err, &ce) {
				t.Fatalf("want ConfigErrors, got %v", err)
			}
			got := strings.Split(err.Error(), "\n")
			if len(tt.want) == 1 && strings.HasSuffix(tt.want[0], ":") {
				if !strings.HasPrefix(got[0], tt.want[0]) {
					t.Fatalf("got %q", got)
				}
				return
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tt.want, "\n      "))
			}
		})
	}
}

func TestLoadDefaultsAndResolve(t *testing.T) {
	cfg, err := Load("configs/p.yaml", []byte("inputs: [data/a.jsonl]\nstages: [length, {quality: {words: [a, b]}}, length]\noutput: {dir: o, format: test-null}\n"), testRegistry(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Inputs[0].Path; got != "configs/data/a.jsonl" {
		t.Errorf("input path not resolved against config dir: %s", got)
	}
	if cfg.Inputs[0].TextField != "text" || cfg.Inputs[0].OnError != "reject" {
		t.Errorf("input defaults missing: %+v", cfg.Inputs[0])
	}
	names := []string{}
	for _, s := range cfg.Stages {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "length,quality,length#2" {
		t.Errorf("stage names %v", names)
	}
	q := cfg.Stages[1].Config.(*testLenConfig)
	if q.MinChars != 1 || len(q.Words) != 2 {
		t.Errorf("stage config not decoded over defaults: %+v", q)
	}
	m := ResolvedMap(cfg)
	if m["batch_size"] != 256 {
		t.Errorf("resolved map: %v", m)
	}
}

func TestLoadAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a: &a [x, x, x, x, x, x, x, x, x]\n")
	prev := "a"
	for i := 0; i < 9; i++ {
		name := fmt.Sprintf("b%d", i)
		fmt.Fprintf(&b, "%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n", name, name, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = name
	}
	_, err := Load("bomb.yaml", []byte(b.String()), testRegistry(t))
	if err == nil {
		t.Fatal("alias bomb accepted")
	}
}
