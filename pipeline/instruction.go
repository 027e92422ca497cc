package pipeline

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Roles of a Message.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one turn of an instruction record.
type Message struct {
	Role    string // RoleSystem, RoleUser or RoleAssistant
	Content string
}

// Instruction is the content of an instruction record: a conversation, and how it was made.
// A well-formed one (see Problem) has an optional system turn first, then user and
// assistant turns alternating, starting with a user turn and ending with an assistant turn,
// none of them empty.
//
// Input is Alpaca's "input": material the instruction works on (a passage, a sentence to
// translate). It is part of the first user turn, whose content is then the instruction, a
// blank line and Input (or Input alone when the instruction is empty); Flat splits them
// again. Empty when the record has no such part.
type Instruction struct {
	Messages []Message
	Input    string
	Task     string // kind of task, e.g. "qa", "translation", "continuation"; may be empty
	Template string // id of the template that made the record; "" when it was read as it is
}

// Views of an instruction record: the text that stages (langid, dedup, filters) judge.
// The system turn is in none of them: it is usually the same boilerplate on every record.
const (
	ViewAll    = "all"    // user and assistant turns, in order
	ViewOutput = "output" // assistant turns
	ViewPrompt = "prompt" // user turns
)

// Views lists the valid views, for messages and validation.
var Views = []string{ViewAll, ViewOutput, ViewPrompt}

// View returns the turns view selects ("" means ViewAll), joined by a blank line.
func (in *Instruction) View(view string) string {
	var b strings.Builder
	for _, m := range in.Messages {
		switch {
		case m.Role == RoleSystem:
			continue
		case view == ViewOutput && m.Role != RoleAssistant, view == ViewPrompt && m.Role != RoleUser:
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(m.Content)
	}
	return b.String()
}

// JoinPrompt returns the content of a first user turn made of an instruction and its input
// (see Instruction).
func JoinPrompt(instruction, input string) string {
	switch {
	case input == "":
		return instruction
	case instruction == "":
		return input
	}
	return instruction + "\n\n" + input
}

// Rewrite replaces every turn and Input by what f makes of them, for stages that change
// text (pii, normalize): a user turn made of an instruction, a blank line and Input is
// rewritten in its two parts, with Input rewritten once and the same way as Input itself, so
// that Flat still splits the turn. f reports whether it changed its text; Rewrite reports
// whether any part changed.
func (in *Instruction) Rewrite(f func(string) (string, bool)) bool {
	changed := false
	input, inputDone := in.Input, in.Input == ""
	rewriteInput := func() string {
		if !inputDone {
			var c bool
			input, c = f(in.Input)
			inputDone, changed = true, changed || c
		}
		return input
	}
	for i := range in.Messages {
		m := &in.Messages[i]
		if in.Input != "" && m.Role == RoleUser {
			if m.Content == in.Input {
				m.Content = rewriteInput()
				continue
			}
			if k := len(m.Content) - len(in.Input) - 2; k >= 0 && m.Content[k:k+2] == "\n\n" && m.Content[k+2:] == in.Input {
				head, c := f(m.Content[:k])
				m.Content = JoinPrompt(head, rewriteInput())
				changed = changed || c
				continue
			}
		}
		var c bool
		m.Content, c = f(m.Content)
		changed = changed || c
	}
	in.Input = rewriteInput()
	return changed
}

// Flat returns the record as Alpaca's columns: the instruction and input of the first user
// turn (see Instruction) and the assistant turn that answers it. Turns after the first
// exchange, and the system turn, are only in Messages.
func (in *Instruction) Flat() (instruction, input, output string) {
	u := -1
	for i, m := range in.Messages {
		if m.Role == RoleUser {
			u = i
			break
		}
	}
	if u < 0 {
		return "", "", ""
	}
	instruction = in.Messages[u].Content
	if in.Input != "" {
		switch {
		case instruction == in.Input:
			instruction, input = "", in.Input
		case strings.HasSuffix(instruction, "\n\n"+in.Input):
			instruction, input = instruction[:len(instruction)-len(in.Input)-2], in.Input
		}
	}
	for _, m := range in.Messages[u+1:] {
		if m.Role == RoleAssistant {
			output = m.Content
			break
		}
	}
	return instruction, input, output
}

// Problem says why the record is not well-formed, as a reason suffix (appended to a stage
// kind: "adapter." + why) and a detail; why is "" for a well-formed record. The reasons are
// checked in this order:
//
//	no_turns            no turn at all
//	unknown_role        a role other than system, user, assistant
//	no_assistant_turn   no assistant turn
//	role_order          a system turn after the first turn, a conversation that starts
//	                    with the assistant, two turns of the same role in a row, or a last
//	                    turn that is not the assistant's
//	empty_output        an assistant turn that is empty or white space
//	empty_prompt        a user or system turn that is empty or white space
func (in *Instruction) Problem() (why, detail string) {
	ms := in.Messages
	if len(ms) == 0 {
		return "no_turns", "the conversation has no turn"
	}
	assistant := false
	for i, m := range ms {
		switch m.Role {
		case RoleAssistant:
			assistant = true
		case RoleUser, RoleSystem:
		default:
			return "unknown_role", fmt.Sprintf("turn %d has role %q; want system, user or assistant", i+1, m.Role)
		}
	}
	if !assistant {
		if len(ms) == 1 {
			return "no_assistant_turn", fmt.Sprintf("the only turn is a %s turn", ms[0].Role)
		}
		return "no_assistant_turn", fmt.Sprintf("none of the %d turns is the assistant's", len(ms))
	}
	prev := ""
	for i, m := range ms {
		switch {
		case m.Role == RoleSystem && i > 0:
			return "role_order", fmt.Sprintf("turn %d is a system turn; only the first turn may be", i+1)
		case m.Role == RoleAssistant && (prev == "" || prev == RoleSystem):
			return "role_order", fmt.Sprintf("turn %d: the assistant speaks before any user turn", i+1)
		case m.Role == prev:
			return "role_order", fmt.Sprintf("turns %d and %d are both %s turns", i, i+1, m.Role)
		}
		prev = m.Role
	}
	if prev != RoleAssistant {
		return "role_order", fmt.Sprintf("the last turn (%d) is a %s turn with no answer", len(ms), prev)
	}
	for i, m := range ms {
		if blank(m.Content) {
			if m.Role == RoleAssistant {
				return "empty_output", fmt.Sprintf("assistant turn %d is %s", i+1, emptyWord(m.Content))
			}
			return "empty_prompt", fmt.Sprintf("%s turn %d is %s", m.Role, i+1, emptyWord(m.Content))
		}
	}
	return "", ""
}

func blank(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

func emptyWord(s string) string {
	if s == "" {
		return "empty"
	}
	return "only white space"
}

// Adapters lists the input adapters (Input.Adapter) with the keys of Input.Fields each one
// takes and their defaults ("" for an optional key with no default). A default of several
// names separated by "|" takes the first field present in the record.
var Adapters = map[string]map[string]string{
	"alpaca":   {"instruction": "instruction", "input": "input", "output": "output", "system": "system", "lang": "", "task": ""},
	"sharegpt": {"conversations": "conversations", "role": "from", "content": "value", "system": "system", "lang": "", "task": ""},
	"messages": {"messages": "messages", "role": "role", "content": "content", "system": "", "lang": "", "task": ""},
	"pairs":    {"prompt": "prompt|inputs", "response": "response|targets|completion", "system": "", "lang": "", "task": ""},
	"mapping":  {"instruction": "", "input": "", "output": "", "system": "", "lang": "", "task": ""},
}

// AdapterNames returns the adapter names, sorted.
func AdapterNames() []string {
	names := make([]string, 0, len(Adapters))
	for n := range Adapters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// validateAdapter checks the instruction-record keys of an input.
func (in *Input) validateAdapter() []FieldError {
	var errs []FieldError
	if in.Adapter == "" {
		if len(in.Fields) > 0 {
			errs = append(errs, FieldError{"fields", "only with an adapter"})
		}
		if in.View != "" {
			errs = append(errs, FieldError{"view", "only with an adapter"})
		}
		if in.Task != "" {
			errs = append(errs, FieldError{"task", "only with an adapter"})
		}
		return errs
	}
	keys, ok := Adapters[in.Adapter]
	if !ok {
		return append(errs, FieldError{"adapter", fmt.Sprintf("must be one of %s; got %q", strings.Join(AdapterNames(), ", "), in.Adapter)})
	}
	if in.View != "" && !oneOf(in.View, Views...) {
		errs = append(errs, FieldError{"view", fmt.Sprintf("must be one of %s; got %q", strings.Join(Views, ", "), in.View)})
	}
	if !utf8.ValidString(in.Task) || strings.ContainsAny(in.Task, "\r\n") {
		errs = append(errs, FieldError{"task", "must be one line of text"})
	}
	valid := make([]string, 0, len(keys))
	for k := range keys {
		valid = append(valid, k)
	}
	sort.Strings(valid)
	names := make([]string, 0, len(in.Fields))
	for k := range in.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if _, ok := keys[k]; !ok {
			errs = append(errs, FieldError{"fields." + k, fmt.Sprintf("unknown key for adapter %s%s; valid: %s", in.Adapter, suggest(k, valid), strings.Join(valid, ", "))})
			continue
		}
		if f := in.Fields[k]; f == "" || strings.HasPrefix(f, ".") || strings.HasSuffix(f, ".") || strings.Contains(f, "..") {
			errs = append(errs, FieldError{"fields." + k, fmt.Sprintf("want a field name or a dotted path (a.b, list.0), got %s", strconv.Quote(f))})
		}
	}
	if in.Adapter == "mapping" {
		for _, k := range []string{"instruction", "output"} {
			if in.Fields[k] == "" {
				errs = append(errs, FieldError{"fields." + k, "required by adapter mapping"})
			}
		}
	}
	return errs
}

// maxFieldDepth bounds the elements of a path LookupField follows.
const maxFieldDepth = 64

// LookupField finds a field of a document's metadata (or any decoded JSON value) by a
// dotted path: "title", "question.text", "answers.text.0". At each level a key equal to the
// whole rest of the path is tried first (field names may hold dots), then the first element
// as an object key or a list index. It reports false when the path leads nowhere; a null
// value is found (as nil).
func LookupField(v any, path string) (any, bool) {
	return lookupField(v, path, 0)
}

func lookupField(v any, path string, depth int) (any, bool) {
	if depth > maxFieldDepth {
		return nil, false
	}
	switch c := v.(type) {
	case map[string]any:
		if x, ok := c[path]; ok {
			return x, true
		}
		for i := 0; i < len(path); i++ {
			if path[i] == '.' {
				if x, ok := c[path[:i]]; ok {
					if y, ok := lookupField(x, path[i+1:], depth+1); ok {
						return y, true
					}
				}
			}
		}
	case []any:
		head, rest, more := strings.Cut(path, ".")
		i, err := strconv.Atoi(head)
		if err != nil || i < 0 || i >= len(c) || head != strconv.Itoa(i) {
			return nil, false
		}
		if !more {
			return c[i], true
		}
		return lookupField(c[i], rest, depth+1)
	}
	return nil, false
}
