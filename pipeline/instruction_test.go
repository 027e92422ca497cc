package pipeline

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

func msgs(pairs ...string) []Message {
	var out []Message
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Message{Role: pairs[i], Content: pairs[i+1]})
	}
	return out
}

func TestInstructionProblem(t *testing.T) {
	tests := []struct {
		name string
		give []Message
		want string
	}{
		{"single exchange", msgs("user", "Kí ni orúkọ rẹ?", "assistant", "Orúkọ mi ni Adé."), ""},
		{"system then exchange", msgs("system", "Dáhùn ní Yorùbá.", "user", "Báwo ni?", "assistant", "Dáadáa ni."), ""},
		{"multi turn", msgs("user", "a", "assistant", "b", "user", "c", "assistant", "d"), ""},
		{"no turns", nil, "no_turns"},
		{"unknown role", msgs("user", "a", "tool", "x", "assistant", "b"), "unknown_role"},
		{"only user", msgs("user", "a"), "no_assistant_turn"},
		{"only system", msgs("system", "s"), "no_assistant_turn"},
		{"assistant first", msgs("assistant", "b", "user", "a", "assistant", "c"), "role_order"},
		{"assistant after system", msgs("system", "s", "assistant", "b"), "role_order"},
		{"two users", msgs("user", "a", "user", "a2", "assistant", "b"), "role_order"},
		{"two assistants", msgs("user", "a", "assistant", "b", "assistant", "b2"), "role_order"},
		{"system later", msgs("user", "a", "system", "s", "assistant", "b"), "role_order"},
		{"ends with user", msgs("user", "a", "assistant", "b", "user", "c"), "role_order"},
		{"empty output", msgs("user", "a", "assistant", " \n\t"), "empty_output"},
		{"empty later output", msgs("user", "a", "assistant", "b", "user", "c", "assistant", ""), "empty_output"},
		{"empty prompt", msgs("user", "", "assistant", "b"), "empty_prompt"},
		{"empty system", msgs("system", "\u00a0", "user", "a", "assistant", "b"), "empty_prompt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &Instruction{Messages: tt.give}
			why, detail := in.Problem()
			if why != tt.want {
				t.Errorf("Problem() = %q (%s), want %q", why, detail, tt.want)
			}
			if (why == "") != (detail == "") {
				t.Errorf("why %q with detail %q", why, detail)
			}
		})
	}
}

func TestInstructionViewAndFlat(t *testing.T) {
	in := &Instruction{
		Messages: msgs("system", "Be brief.", "user", "Translate into Swahili:\n\nGood morning.", "assistant", "Habari za asubuhi.",
			"user", "And good night?", "assistant", "Usiku mwema."),
		Input: "Good morning.",
	}
	tests := []struct{ view, want string }{
		{"", "Translate into Swahili:\n\nGood morning.\n\nHabari za asubuhi.\n\nAnd good night?\n\nUsiku mwema."},
		{ViewAll, "Translate into Swahili:\n\nGood morning.\n\nHabari za asubuhi.\n\nAnd good night?\n\nUsiku mwema."},
		{ViewOutput, "Habari za asubuhi.\n\nUsiku mwema."},
		{ViewPrompt, "Translate into Swahili:\n\nGood morning.\n\nAnd good night?"},
	}
	for _, tt := range tests {
		if got := in.View(tt.view); got != tt.want {
			t.Errorf("View(%q) = %q, want %q", tt.view, got, tt.want)
		}
	}
	ins, inp, out := in.Flat()
	if ins != "Translate into Swahili:" || inp != "Good morning." || out != "Habari za asubuhi." {
		t.Errorf("Flat() = %q, %q, %q", ins, inp, out)
	}

	flat := []struct {
		name                string
		give                Instruction
		wantIns, wantIn, wo string
	}{
		{"no input", Instruction{Messages: msgs("user", "Q", "assistant", "A")}, "Q", "", "A"},
		{"input only", Instruction{Messages: msgs("user", "ctx", "assistant", "A"), Input: "ctx"}, "", "ctx", "A"},
		{"input not in the turn", Instruction{Messages: msgs("user", "Q", "assistant", "A"), Input: "other"}, "Q", "", "A"},
		{"no user turn", Instruction{Messages: msgs("assistant", "A")}, "", "", ""},
		{"joined", Instruction{Messages: msgs("user", JoinPrompt("Do it", "this"), "assistant", "done"), Input: "this"}, "Do it", "this", "done"},
	}
	for _, tt := range flat {
		ins, inp, out := tt.give.Flat()
		if ins != tt.wantIns || inp != tt.wantIn || out != tt.wo {
			t.Errorf("%s: Flat() = %q, %q, %q; want %q, %q, %q", tt.name, ins, inp, out, tt.wantIns, tt.wantIn, tt.wo)
		}
	}
}

func TestSplitOf(t *testing.T) {
	o := Output{Splits: map[string]float64{"train": 0.8, "validation": 0.1, "test": 0.1}}
	counts := map[string]int{}
	const n = 100000
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("doc-%d", i)
		s := o.SplitOf(id)
		if again := o.SplitOf(id); again != s {
			t.Fatalf("SplitOf(%s) gave %s then %s", id, s, again)
		}
		counts[s]++
	}
	for name, share := range o.Splits {
		got := float64(counts[name]) / n
		// binomial standard deviation at n=1e5 is at most 0.0016; 5 sigma
		if math.Abs(got-share) > 0.008 {
			t.Errorf("split %s got %.4f of the documents, want about %.2f", name, got, share)
		}
	}
	if got := (&Output{}).SplitOf("x"); got != "train" {
		t.Errorf("no splits: %s", got)
	}
	only := Output{Splits: map[string]float64{"test": 1}}
	for i := 0; i < 1000; i++ {
		if got := only.SplitOf(fmt.Sprint(i)); got != "test" {
			t.Fatalf("test: 1 sent a document to %s", got)
		}
	}
	// A split with share 0 gets nothing, even at the edges.
	zero := Output{Splits: map[string]float64{"train": 0.5, "validation": 0, "test": 0.5}}
	for i := 0; i < 10000; i++ {
		if got := zero.SplitOf(fmt.Sprint(i)); got == "validation" {
			t.Fatal("a zero share got a document")
		}
	}
}

func TestLoadInstructionKeys(t *testing.T) {
	tests := []struct {
		name string
		give string
		want []string
	}{
		{
			name: "adapter keys",
			give: "inputs:\n  - path: a.jsonl\n    adapter: alpacca\n  - path: b.jsonl\n    adapter: sharegpt\n    fields: {conversation: c, role: who}\n    view: answers\n  - path: c.jsonl\n    view: all\n    fields: {x: y}\n  - {path: d.jsonl, adapter: mapping, fields: {input: i, lang: a..b}}\noutput: {dir: o, format: test-null}\n",
			want: []string{
				`p.yaml:3:14: inputs[0].adapter: must be one of alpaca, mapping, messages, pairs, sharegpt; got "alpacca"`,
				"p.yaml:6:28: inputs[1].fields.conversation: unknown key for adapter sharegpt (did you mean conversations?); valid: content, conversations, lang, role, system, task",
				`p.yaml:7:11: inputs[1].view: must be one of all, output, prompt; got "answers"`,
				"p.yaml:9:11: inputs[2].view: only with an adapter",
				"p.yaml:10:13: inputs[2].fields: only with an adapter",
				"p.yaml:11:5: inputs[3].fields.instruction: required by adapter mapping",
				"p.yaml:11:5: inputs[3].fields.output: required by adapter mapping",
				`p.yaml:11:64: inputs[3].fields.lang: want a field name or a dotted path (a.b, list.0), got "a..b"`,
			},
		},
		{
			name: "output keys",
			give: "inputs: [a]\noutput:\n  dir: o\n  format: test-null\n  shape: chat\n  max_shard_bytes: -1\n  splits: {train: 0.9, valid: 0.1}\n",
			want: []string{
				`p.yaml:5:10: output.shape: must be one of text, instruction; got "chat"`,
				"p.yaml:6:20: output.max_shard_bytes: must be >= 0, got -1",
				"p.yaml:7:31: output.splits.valid: unknown split; valid: train, validation, test",
			},
		},
		{
			name: "split shares",
			give: "inputs: [a]\noutput:\n  dir: o\n  format: test-null\n  splits: {train: 0.9, test: 0.2}\n",
			want: []string{"p.yaml:5:11: output.splits: shares must sum to 1, got 1.1"},
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
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tt.want, "\n      "))
			}
		})
	}
	cfg, err := Load("p.yaml", []byte("inputs:\n  - {path: a.jsonl, adapter: pairs, fields: {lang: lang}, task: qa}\noutput: {dir: o, format: test-null, shape: instruction, splits: {train: 0.98, validation: 0.01, test: 0.01}}\n"), testRegistry(t))
	if err != nil {
		t.Fatal(err)
	}
	in := cfg.Inputs[0]
	if in.Adapter != "pairs" || in.Fields["lang"] != "lang" || in.Task != "qa" || cfg.Output.Shape != "instruction" || cfg.Output.Splits["validation"] != 0.01 {
		t.Errorf("decoded %+v %+v", in, cfg.Output)
	}
}

func TestInstructionRewrite(t *testing.T) {
	upper := func(s string) (string, bool) { u := strings.ToUpper(s); return u, u != s }
	in := &Instruction{Input: "the input", Messages: []Message{
		{Role: RoleSystem, Content: "sys"},
		{Role: RoleUser, Content: "do it\n\nthe input"},
		{Role: RoleAssistant, Content: "done"},
	}}
	calls := 0
	changed := in.Rewrite(func(s string) (string, bool) { calls++; return upper(s) })
	instr, input, output := in.Flat()
	if !changed || calls != 4 || instr != "DO IT" || input != "THE INPUT" || output != "DONE" || in.Messages[0].Content != "SYS" {
		t.Errorf("changed %v, %d calls, Flat %q %q %q, system %q", changed, calls, instr, input, output, in.Messages[0].Content)
	}
	same := &Instruction{Messages: []Message{{Role: RoleUser, Content: "A"}, {Role: RoleAssistant, Content: "B"}}}
	if same.Rewrite(upper) {
		t.Error("unchanged record reported changed")
	}
}
