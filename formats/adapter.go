package formats

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sieve-data/sieve/pipeline"
)

// Reasons an input adapter gives (stage "read", like the readers' own): the record was read,
// but it is not a usable instruction record.
const (
	ReasonAdapterMissingField = "adapter.missing_field"     // a required field is absent or null
	ReasonAdapterBadField     = "adapter.bad_field"         // a field has the wrong type (an object where text was expected, ...)
	ReasonAdapterNonText      = "adapter.non_text_content"  // a message part that is not text (image, audio)
	ReasonAdapterUnknownRole  = "adapter.unknown_role"      // a turn whose role is not system, user or assistant (tool, function, ...)
	ReasonAdapterNoTurns      = "adapter.no_turns"          // an empty conversation
	ReasonAdapterNoAssistant  = "adapter.no_assistant_turn" // no assistant turn
	ReasonAdapterRoleOrder    = "adapter.role_order"        // system turn not first, assistant first, same role twice in a row, or a last turn that is not the assistant's
	ReasonAdapterEmptyOutput  = "adapter.empty_output"      // an assistant turn (Alpaca output, response, target) empty or white space
	ReasonAdapterEmptyPrompt  = "adapter.empty_prompt"      // a user or system turn empty or white space
	ReasonAdapterBadLang      = "adapter.bad_lang"          // the lang field does not hold a label like yor_Latn
	ReasonAdapterInvalidUTF8  = "adapter.invalid_utf8"      // a text field that is not valid UTF-8 (columnar inputs)
)

const (
	adapterReasonPrefix   = "adapter." // pipeline.Instruction.Problem's reasons follow it
	turnPartsSeparator    = "\n"       // between the text parts of one message
	alternativesSeparator = "|"        // in a default: several names, the first present wins
	pathSeparator         = "."        // in a field path
	maxTurns              = 1 << 16    // turns per conversation accepted
)

// AdapterReasons lists every reason an adapter can give, for docs and tests.
var AdapterReasons = []string{ReasonAdapterMissingField, ReasonAdapterBadField, ReasonAdapterNonText,
	ReasonAdapterUnknownRole, ReasonAdapterNoTurns, ReasonAdapterNoAssistant, ReasonAdapterRoleOrder,
	ReasonAdapterEmptyOutput, ReasonAdapterEmptyPrompt, ReasonAdapterBadLang, ReasonAdapterInvalidUTF8}

// adapterFormats are the input formats whose records have fields.
var adapterFormats = map[string]bool{"jsonl": true, "parquet": true, "arrow": true, "csv": true, "tsv": true}

// roleNames maps the role names of the chat dialects to sieve's three roles: OpenAI
// (system, developer, user, assistant), ShareGPT (system, human, gpt), OpenAssistant
// (prompter), Gemini (model) and the names ShareGPT exports use for other assistants.
var roleNames = map[string]string{
	"system": pipeline.RoleSystem, "developer": pipeline.RoleSystem,
	"user": pipeline.RoleUser, "human": pipeline.RoleUser, "prompter": pipeline.RoleUser,
	"assistant": pipeline.RoleAssistant, "gpt": pipeline.RoleAssistant, "model": pipeline.RoleAssistant,
	"bot": pipeline.RoleAssistant, "chatgpt": pipeline.RoleAssistant, "bing": pipeline.RoleAssistant,
	"bard": pipeline.RoleAssistant,
}

// adapter turns the fields of a record (doc.Meta, as the reader decoded them) into an
// instruction record. It is safe for use by one goroutine.
type adapter struct {
	kind   string
	view   string
	task   string
	fail   bool
	fields map[string][]string // key -> candidate paths (the first present is used)
	enc    jsonEncoder         // renders rejected records
}

// newAdapter builds the adapter of an input whose Adapter is set. Its keys were checked by
// the config loader; an unknown adapter is still an error here.
func newAdapter(in *pipeline.Input) (*adapter, error) {
	keys, ok := pipeline.Adapters[in.Adapter]
	if !ok {
		return nil, fmt.Errorf("adapter %q: must be one of %s", in.Adapter, strings.Join(pipeline.AdapterNames(), ", "))
	}
	a := &adapter{kind: in.Adapter, view: in.View, task: in.Task, fail: in.OnError == "fail", fields: map[string][]string{}}
	for k, def := range keys {
		if f, ok := in.Fields[k]; ok {
			a.fields[k] = []string{f}
		} else if def != "" {
			a.fields[k] = strings.Split(def, alternativesSeparator)
		}
	}
	for k := range in.Fields {
		if _, ok := keys[k]; !ok {
			return nil, fmt.Errorf("adapter %s: unknown key fields.%s", in.Adapter, k)
		}
	}
	return a, nil
}

// adapterSource applies an adapter to each record of the source it wraps. Records the
// reader rejected pass through unchanged.
type adapterSource struct {
	pipeline.Source
	a *adapter
}

// wrapAdapter returns src with in's adapter applied, or src itself when in has none. On
// error it closes src.
func wrapAdapter(src pipeline.Source, in *pipeline.Input) (pipeline.Source, error) {
	if in == nil || in.Adapter == "" {
		return src, nil
	}
	a, err := newAdapter(in)
	if err != nil {
		src.Close()
		return nil, err
	}
	return &adapterSource{Source: src, a: a}, nil
}

// Next reads the next record and makes it an instruction record, or rejects it.
func (s *adapterSource) Next(ctx context.Context, doc *pipeline.Document) error {
	if err := s.Source.Next(ctx, doc); err != nil {
		return err
	}
	if doc.IsRejected() {
		return nil
	}
	return s.a.apply(doc)
}

// Progress forwards the wrapped source's progress.
func (s *adapterSource) Progress() (done, total int64) {
	if p, ok := s.Source.(pipeline.Progresser); ok {
		return p.Progress()
	}
	return 0, -1
}

// AdapterTurns returns the turns in's adapter makes of a record's fields (doc.Meta as the
// reader decoded them, which the adapter leaves as they are when it rejects the record),
// whatever the conversation's problem (pipeline.Instruction.Problem): an empty answer or
// prompt, no assistant turn, turns out of order. It fails, as the adapter does, when the
// fields do not make turns.
func AdapterTurns(in *pipeline.Input, meta map[string]any) ([]pipeline.Message, error) {
	a, err := newAdapter(in)
	if err != nil {
		return nil, err
	}
	ins, _, err := a.build(meta)
	if err != nil {
		return nil, err
	}
	return ins.Messages, nil
}

// adaptError is a record the adapter cannot use.
type adaptError struct{ reason, detail string }

func (e *adaptError) Error() string { return e.detail }

func adaptErr(reason, format string, args ...any) *adaptError {
	return &adaptError{reason, fmt.Sprintf(format, args...)}
}

// apply makes doc an instruction record from its Meta, or rejects it (stage "read"); with
// on_error: fail it returns the *ReadError instead.
func (a *adapter) apply(doc *pipeline.Document) error {
	in, used, err := a.build(doc.Meta)
	if err == nil {
		if why, detail := in.Problem(); why != "" {
			err = &adaptError{adapterReasonPrefix + why, detail}
		}
	}
	var lang, script, langField, taskField string
	if err == nil {
		lang, script, langField, err = a.lang(doc.Meta)
	}
	if err == nil {
		in.Task, taskField, err = a.taskOf(doc.Meta)
	}
	used = appendUsed(used, langField, taskField)
	if err != nil {
		var ae *adaptError
		if !errors.As(err, &ae) {
			return err
		}
		if a.fail {
			return &ReadError{File: doc.Origin.File, Line: doc.Origin.Line, Offset: doc.Origin.Offset, Reason: ae.reason, Err: errors.New(ae.detail)}
		}
		a.enc.buf = a.enc.buf[:0]
		if a.enc.appendMeta(doc.Meta) == nil {
			doc.Text = string(a.enc.buf) // the record as it was, for the rejects
		}
		doc.Reject(Stage, ae.reason, ae.detail)
		return nil
	}
	for _, k := range used {
		delete(doc.Meta, k)
	}
	if len(doc.Meta) == 0 {
		doc.Meta = nil
	}
	doc.Instruction = in
	doc.Text = in.View(a.view)
	if lang != "" {
		doc.Lang, doc.Script = lang, script
	}
	return nil
}

// build makes the conversation. used lists the top-level fields it consumed (left out of
// the metadata).
func (a *adapter) build(meta map[string]any) (in *pipeline.Instruction, used []string, err error) {
	in = &pipeline.Instruction{}
	switch a.kind {
	case "alpaca", "mapping":
		ins, u1, err := a.text(meta, "instruction", true)
		if err != nil {
			return nil, nil, err
		}
		input, u2, err := a.text(meta, "input", false)
		if err != nil {
			return nil, nil, err
		}
		out, u3, err := a.text(meta, "output", true)
		if err != nil {
			return nil, nil, err
		}
		if blankString(input) {
			input = "" // Alpaca writes "" for no input
		} else {
			in.Input = input
		}
		in.Messages = []pipeline.Message{{Role: pipeline.RoleUser, Content: pipeline.JoinPrompt(ins, input)}, {Role: pipeline.RoleAssistant, Content: out}}
		used = appendUsed(used, u1, u2, u3)
	case "pairs":
		p, u1, err := a.text(meta, "prompt", true)
		if err != nil {
			return nil, nil, err
		}
		r, u2, err := a.text(meta, "response", true)
		if err != nil {
			return nil, nil, err
		}
		in.Messages = []pipeline.Message{{Role: pipeline.RoleUser, Content: p}, {Role: pipeline.RoleAssistant, Content: r}}
		used = appendUsed(used, u1, u2)
	case "sharegpt", "messages":
		key := "conversations"
		if a.kind == "messages" {
			key = "messages"
		}
		v, u, ok := a.value(meta, key)
		if !ok {
			return nil, nil, adaptErr(ReasonAdapterMissingField, "no field %s", a.names(key))
		}
		list, ok := v.([]any)
		if !ok {
			return nil, nil, adaptErr(ReasonAdapterBadField, "field %q is %s, want a list of turns", u, typeName(v))
		}
		if len(list) > maxTurns {
			return nil, nil, adaptErr(ReasonAdapterBadField, "field %q has %d turns, more than %d", u, len(list), maxTurns)
		}
		in.Messages = make([]pipeline.Message, 0, len(list)+1)
		for i, t := range list {
			m, err := a.turn(t, u, i)
			if err != nil {
				return nil, nil, err
			}
			if m.Role == pipeline.RoleSystem && blankString(m.Content) {
				continue // an empty system prompt says nothing
			}
			in.Messages = append(in.Messages, m)
		}
		used = appendUsed(used, u)
	default:
		return nil, nil, fmt.Errorf("adapter %q has no builder", a.kind)
	}
	if _, ok := a.fields["system"]; ok {
		sys, u, err := a.text(meta, "system", false)
		if err != nil {
			return nil, nil, err
		}
		if u != "" {
			used = appendUsed(used, u)
			if !blankString(sys) {
				in.Messages = append([]pipeline.Message{{Role: pipeline.RoleSystem, Content: sys}}, in.Messages...)
			}
		}
	}
	return in, used, nil
}

// turn decodes turn i of a conversation list (named by field, for messages).
func (a *adapter) turn(t any, field string, i int) (pipeline.Message, error) {
	obj, ok := t.(map[string]any)
	if !ok {
		return pipeline.Message{}, adaptErr(ReasonAdapterBadField, "%s turn %d is %s, want an object", field, i+1, typeName(t))
	}
	roleKey, contentKey := a.fields["role"][0], a.fields["content"][0]
	rv, ok := obj[roleKey]
	if !ok || rv == nil {
		return pipeline.Message{}, adaptErr(ReasonAdapterMissingField, "%s turn %d has no %q", field, i+1, roleKey)
	}
	rs, ok := rv.(string)
	if !ok {
		return pipeline.Message{}, adaptErr(ReasonAdapterBadField, "%s turn %d: %q is %s, want a string", field, i+1, roleKey, typeName(rv))
	}
	role, ok := roleNames[strings.ToLower(strings.TrimSpace(rs))]
	if !ok {
		return pipeline.Message{}, adaptErr(ReasonAdapterUnknownRole, "%s turn %d has role %q; known: system, developer, user, human, prompter, assistant, gpt, model, bot, chatgpt, bing, bard", field, i+1, rs)
	}
	cv, ok := obj[contentKey]
	if !ok || cv == nil {
		return pipeline.Message{}, adaptErr(ReasonAdapterMissingField, "%s turn %d has no %q", field, i+1, contentKey)
	}
	content, err := turnContent(cv, fmt.Sprintf("%s turn %d", field, i+1))
	if err != nil {
		return pipeline.Message{}, err
	}
	return pipeline.Message{Role: role, Content: content}, nil
}

// turnContent is a message's text: a string, or OpenAI's list of parts whose text parts
// ({"type": "text", "text": ...}) are joined by a newline.
func turnContent(v any, where string) (string, error) {
	switch v := v.(type) {
	case []any:
		var b strings.Builder
		for j, p := range v {
			part, ok := p.(map[string]any)
			if !ok {
				return "", adaptErr(ReasonAdapterBadField, "%s: content part %d is %s, want an object", where, j+1, typeName(p))
			}
			if typ, _ := part["type"].(string); typ != "text" {
				return "", adaptErr(ReasonAdapterNonText, "%s: content part %d is of type %q; only text parts are read", where, j+1, typ)
			}
			s, ok := part["text"].(string)
			if !ok {
				return "", adaptErr(ReasonAdapterBadField, "%s: text part %d has no string \"text\"", where, j+1)
			}
			if b.Len() > 0 {
				b.WriteString(turnPartsSeparator)
			}
			b.WriteString(s)
		}
		return checkUTF8(b.String(), where)
	default:
		s, ok := scalarText(v)
		if !ok {
			return "", adaptErr(ReasonAdapterBadField, "%s: content is %s, want a string", where, typeName(v))
		}
		return checkUTF8(s, where)
	}
}

// text returns the string at key's field and the path it was found at. An absent or null
// field gives "" and path "", or adapter.missing_field when required. (An empty string is
// returned as it is: the conversation's checks name it, adapter.empty_output for an answer.)
func (a *adapter) text(meta map[string]any, key string, required bool) (s, used string, err error) {
	v, u, ok := a.value(meta, key)
	if !ok {
		if required {
			return "", "", adaptErr(ReasonAdapterMissingField, "no field %s", a.names(key))
		}
		return "", "", nil
	}
	s, isText := scalarText(v)
	if !isText {
		return "", "", adaptErr(ReasonAdapterBadField, "field %q is %s, want a string", u, typeName(v))
	}
	s, err = checkUTF8(s, fmt.Sprintf("field %q", u))
	return s, u, err
}

// value finds key's field in meta: the first of its candidate paths that is present and not
// null. used is the path found.
func (a *adapter) value(meta map[string]any, key string) (v any, used string, ok bool) {
	for _, p := range a.fields[key] {
		if v, ok := pipeline.LookupField(meta, p); ok && v != nil {
			return v, p, true
		}
	}
	return nil, "", false
}

// names lists key's candidate fields for messages: "output" or "prompt or inputs".
func (a *adapter) names(key string) string {
	qs := make([]string, len(a.fields[key]))
	for i, p := range a.fields[key] {
		qs[i] = strconv.Quote(p)
	}
	return strings.Join(qs, " or ")
}

// lang reads the lang field, when one is configured: a label such as yor_Latn (or a bare
// ISO 639 code), and the path it was found at. Absent or empty: no language (a langid stage
// may set it).
func (a *adapter) lang(meta map[string]any) (lang, script, used string, err error) {
	if _, ok := a.fields["lang"]; !ok {
		return "", "", "", nil
	}
	v, u, ok := a.value(meta, "lang")
	if !ok {
		return "", "", "", nil
	}
	s, isString := v.(string)
	if !isString {
		return "", "", "", adaptErr(ReasonAdapterBadLang, "field %q is %s, want a language label like yor_Latn", u, typeName(v))
	}
	if s == "" {
		return "", "", u, nil
	}
	code, sc, hasScript := strings.Cut(s, "_")
	if !isLower(code) || len(code) < 2 || len(code) > 3 || hasScript && !isScript(sc) {
		return "", "", "", adaptErr(ReasonAdapterBadLang, "field %q holds %q, want a language label like yor_Latn (ISO 639-3, \"_\", ISO 15924)", u, s)
	}
	return s, sc, u, nil
}

func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

func isScript(s string) bool {
	return len(s) == 4 && s[0] >= 'A' && s[0] <= 'Z' && isLower(s[1:])
}

// taskOf returns the record's task, and the path it was read from: its task field when one
// is configured and present, else the input's task.
func (a *adapter) taskOf(meta map[string]any) (task, used string, err error) {
	if _, ok := a.fields["task"]; ok {
		if v, u, ok := a.value(meta, "task"); ok {
			s, isText := scalarText(v)
			if !isText {
				return "", "", adaptErr(ReasonAdapterBadField, "field %q is %s, want a string", u, typeName(v))
			}
			s, err := checkUTF8(s, fmt.Sprintf("field %q", u))
			return s, u, err
		}
	}
	return a.task, "", nil
}

// topLevel returns the field a path consumes from the metadata: the path itself when it is
// a top-level name, "" for a dotted path (its object stays in the metadata whole).
func topLevel(path string) string {
	if strings.Contains(path, pathSeparator) {
		return ""
	}
	return path
}

func appendUsed(used []string, paths ...string) []string {
	for _, p := range paths {
		if t := topLevel(p); t != "" {
			used = append(used, t)
		}
	}
	return used
}

// scalarText returns a string as it is, and a number as the reader wrote it (json.Number,
// int64, uint64, float64): short answers are often numbers ("1980").
func scalarText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case fmt.Stringer: // json.Number
		if _, isNumber := v.(interface{ Float64() (float64, error) }); isNumber {
			return v.String(), true
		}
	case int64:
		return strconv.FormatInt(v, 10), true
	case uint64:
		return strconv.FormatUint(v, 10), true
	case float64:
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			return strconv.FormatFloat(v, 'g', -1, 64), true
		}
	}
	return "", false
}

func checkUTF8(s, where string) (string, error) {
	if !utf8.ValidString(s) {
		return "", adaptErr(ReasonAdapterInvalidUTF8, "%s: invalid UTF-8 at byte %d", where, invalidUTF8At([]byte(s)))
	}
	return s, nil
}

func blankString(s string) bool { return isSpace(s) }

// typeName names a decoded value's JSON type for messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	if _, ok := scalarText(v); ok {
		return "a number"
	}
	return fmt.Sprintf("a %T", v)
}
