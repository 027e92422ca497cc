package formats

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sieve-data/sieve/pipeline"
)

func init() {
	pipeline.RegisterReader("jsonl", func(path string, in *pipeline.Input) (pipeline.Source, error) {
		return NewJSONLReader(path, in)
	})
}

// JSONLReader reads one JSON object per line.
//
//   - The text comes from in.TextField; a dotted path ("doc.body") reaches into nested objects.
//     It must be a JSON string.
//   - The id comes from in.IDField (dotted too): a string, or a number kept as written. When the
//     field is absent, null, an empty string or of another type, the id is "<file base>:<line>"
//     (an empty string or a value of another type then stays in Meta).
//   - Every other top-level field goes into doc.Meta as decoded JSON: string, json.Number,
//     bool, nil, []any, map[string]any. An object on the way to the text or id keeps its other
//     fields (and is left out when nothing else remains). A key given twice: the last one wins.
//   - Lines holding only spaces, tabs or "\r" are not records: they are skipped and count as
//     nothing (a blank line longer than max_record_bytes is still rejected as too large, since
//     it is not read). A UTF-8 byte order mark at the start of the file is ignored. Line
//     numbers count every line, blank ones included, so they match an editor's; Origin.Offset
//     is the byte offset of the line in the decompressed stream.
//
// A record that cannot be used becomes, with on_error: reject, a document pre-rejected by
// stage "read" (see the Reason constants); its Text holds the raw line when there is one (with
// invalid UTF-8 replaced by U+FFFD). With on_error: fail, Next returns a *ReadError naming
// file, line and offset instead. A truncated or corrupt compressed file gives one
// read.truncated reject whose Origin.Offset is where the stream broke; the rest of the file is
// lost and the reader ends there.
type JSONLReader struct {
	f      *File
	lr     *lineReader
	l      line
	name   string
	base   string
	fail   bool
	root   pathNode
	p      jsonParser
	done   bool
	nCheck int
	// adapter: the input has an adapter (formats/adapter.go), which makes the document from
	// the record's fields; no field is the text, and every field but the id goes to Meta.
	adapter bool
}

var (
	_ pipeline.Source     = (*JSONLReader)(nil)
	_ pipeline.Progresser = (*JSONLReader)(nil)
)

// NewJSONLReader opens path. Unset fields of in take pipeline.DefaultInput's values.
func NewJSONLReader(path string, in *pipeline.Input) (*JSONLReader, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	return newJSONLReader(f, in, readBufSize), nil
}

// newJSONLReader reads f (closed by Close) with a read buffer of bufSize bytes.
func newJSONLReader(f *File, in *pipeline.Input, bufSize int) *JSONLReader {
	cfg := withDefaults(in)
	r := &JSONLReader{
		f:    f,
		lr:   newLineReader(f, cfg.MaxRecordBytes, bufSize),
		name: f.Name(),
		base: filepath.Base(f.Name()),
		fail: cfg.OnError == "fail",
	}
	if cfg.Adapter == "" {
		r.root.add(strings.Split(cfg.TextField, "."), targetText)
	} else {
		r.adapter = true
	}
	if cfg.IDField != "" {
		r.root.add(strings.Split(cfg.IDField, "."), targetID)
	}
	r.p.root = &r.root
	return r
}

// withDefaults fills the fields a reader needs that the caller left at their zero value.
func withDefaults(in *pipeline.Input) pipeline.Input {
	d := pipeline.DefaultInput()
	var cfg pipeline.Input
	if in != nil {
		cfg = *in
	}
	if cfg.TextField == "" {
		cfg.TextField = d.TextField
	}
	if cfg.TextMode == "" {
		cfg.TextMode = d.TextMode
	}
	if cfg.OnError == "" {
		cfg.OnError = d.OnError
	}
	if cfg.MaxRecordBytes <= 0 {
		cfg.MaxRecordBytes = d.MaxRecordBytes
	}
	return cfg
}

func (r *JSONLReader) file() *File { return r.f }

// Progress reports compressed bytes read of the file's size.
func (r *JSONLReader) Progress() (done, total int64) { return r.f.Consumed(), r.f.Size() }

// Close closes the file.
func (r *JSONLReader) Close() error { return r.f.Close() }

// Next fills doc (reset by the caller) with the next record.
func (r *JSONLReader) Next(ctx context.Context, doc *pipeline.Document) error {
	if r.done {
		return io.EOF
	}
	if r.nCheck++; r.nCheck&255 == 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	l := &r.l
	for {
		err := r.lr.next(l)
		if err == io.EOF {
			r.done = true
			return io.EOF
		}
		if err != nil {
			r.done = true
			return truncated(err, doc, r.base, r.fail)
		}
		if l.tooLong || !isBlank(l.b) {
			break
		}
	}
	doc.Origin = pipeline.Position{File: r.name, Line: l.no, Offset: l.off}
	if l.tooLong {
		return r.reject(doc, ReasonRecordTooLarge, "", fmt.Sprintf("line of %d bytes exceeds max_record_bytes %d", l.size, r.lr.max))
	}
	if !utf8.Valid(l.b) {
		return r.reject(doc, ReasonInvalidUTF8, strings.ToValidUTF8(string(l.b), "\uFFFD"),
			fmt.Sprintf("invalid UTF-8 at byte %d of the line", invalidUTF8At(l.b)))
	}
	s := string(l.b)
	res, err := r.p.parse(s, l.b)
	if err != nil {
		return r.reject(doc, ReasonInvalidJSON, s, err.Error())
	}
	doc.Meta = res.meta
	if res.id != "" {
		doc.ID = res.id
	} else {
		doc.ID = fallbackID(r.base, l.no)
	}
	if r.adapter {
		return nil
	}
	switch {
	case res.textKind == 0:
		return r.reject(doc, ReasonMissingText, "", fmt.Sprintf("no field %q", r.root.pathOf(targetText)))
	case res.textKind != '"':
		return r.reject(doc, ReasonMissingText, "", fmt.Sprintf("field %q is %s, want a string", r.root.pathOf(targetText), kindName(res.textKind)))
	}
	doc.Text = res.text
	if isSpace(res.text) {
		if res.text == "" {
			return r.reject(doc, ReasonEmptyText, "", "text is empty")
		}
		return r.reject(doc, ReasonEmptyText, res.text, "text is only white space")
	}
	return nil
}

// reject pre-rejects doc, or returns the fatal error with on_error: fail. text, when not
// empty, replaces doc.Text so the reject shows the record.
func (r *JSONLReader) reject(doc *pipeline.Document, reason, text, detail string) error {
	if r.fail {
		return &ReadError{File: r.name, Line: doc.Origin.Line, Offset: doc.Origin.Offset, Reason: reason, Err: errors.New(detail)}
	}
	if doc.ID == "" {
		doc.ID = fallbackID(r.base, doc.Origin.Line)
	}
	if text != "" {
		doc.Text = text
	}
	doc.Reject(Stage, reason, detail)
	return nil
}

// truncated turns a stream error into the one read.truncated reject that ends a file (with
// on_error reject), or returns it. I/O errors are always returned.
func truncated(err error, doc *pipeline.Document, base string, fail bool) error {
	var re *ReadError
	if fail || !errors.As(err, &re) || re.Reason != ReasonTruncated {
		return err
	}
	doc.ID = fallbackID(base, re.Line)
	doc.Origin = pipeline.Position{File: re.File, Line: re.Line, Offset: re.Offset}
	doc.Reject(Stage, ReasonTruncated, fmt.Sprintf("stream broke at decompressed byte %d, in line %d; the rest of the file is lost: %v",
		re.Offset, re.Line, re.Err))
	return nil
}

func fallbackID(base string, line int64) string {
	return base + ":" + strconv.FormatInt(line, 10)
}

// isBlank reports whether a line holds only JSON white space (other than "\n", which never
// occurs inside a line).
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// isSpace reports whether s is empty or only Unicode white space.
func isSpace(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c != ' ' && (c < '\t' || c > '\r') {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			return false
		}
		i += n
	}
	return true
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func kindName(k byte) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '"':
		return "a string"
	default:
		return "a number"
	}
}

// Targets of a path in the record.
const (
	targetText = 1 << iota
	targetID
)

// pathNode is one element of the text and id paths. Children are few (one or two), so a
// slice beats a map.
type pathNode struct {
	key      string
	children []*pathNode
	target   uint8 // the value here is this target
	below    uint8 // targets at or below this node
}

func (n *pathNode) add(path []string, target uint8) {
	n.below |= target
	if len(path) == 0 {
		n.target |= target
		return
	}
	for _, c := range n.children {
		if c.key == path[0] {
			c.add(path[1:], target)
			return
		}
	}
	c := &pathNode{key: path[0]}
	n.children = append(n.children, c)
	c.add(path[1:], target)
}

func (n *pathNode) child(key string) *pathNode {
	for _, c := range n.children {
		if c.key == key {
			return c
		}
	}
	return nil
}

// pathOf returns the dotted path of a target, for messages.
func (n *pathNode) pathOf(target uint8) string {
	for _, c := range n.children {
		if c.below&target == 0 {
			continue
		}
		if c.target&target != 0 {
			return c.key
		}
		return c.key + "." + c.pathOf(target)
	}
	return ""
}

// maxDepth is the deepest nesting accepted: the writers' limit for metadata, so that every
// record read can be written back (a deeper one would otherwise stop the run at the sink).
const maxDepth = maxJSONDepth

// jsonParser is a strict RFC 8259 parser specialised for sieve's records: one pass over the
// line extracts the text and id without building them as generic values, and decodes every
// other field like encoding/json with UseNumber would (the fuzz test checks it against
// encoding/json). Strings without escapes are substrings of the line's string, so a record
// costs one allocation for the line plus what its metadata needs.
type jsonParser struct {
	root  *pathNode
	s     string // the line
	b     []byte // the same bytes, for word-at-a-time scanning
	i     int
	depth int
	buf   []byte // unescape scratch
	res   record
	err   error
}

type record struct {
	text     string
	textKind byte // 0 absent, '"' string, else the first byte of the value found
	id       string
	meta     map[string]any
}

type syntaxError struct {
	msg string
	col int // 1-based byte column in the line
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at column %d", e.msg, e.col) }

func (p *jsonParser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = &syntaxError{msg: fmt.Sprintf(format, args...), col: p.i + 1}
	}
}

func (p *jsonParser) unexpected(what string) {
	if p.i >= len(p.s) {
		p.fail("unexpected end of line %s", what)
		return
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.i:])
	p.fail("invalid character %q %s", r, what)
}

// parse parses one line (s and b hold the same bytes).
func (p *jsonParser) parse(s string, b []byte) (record, error) {
	p.s, p.b, p.i, p.depth, p.err = s, b, 0, 0, nil
	p.res = record{}
	p.ws()
	if p.i >= len(s) {
		p.unexpected("looking for beginning of value")
		return record{}, p.err
	}
	if c := s[p.i]; c != '{' {
		p.value()
		if p.err == nil {
			p.ws()
			if p.i < len(s) {
				p.unexpected("after top-level value")
			} else {
				return record{}, fmt.Errorf("want a JSON object, got %s", kindName(c))
			}
		}
		return record{}, p.err
	}
	meta := p.object(p.root)
	if p.err != nil {
		return record{}, p.err
	}
	p.ws()
	if p.i < len(s) {
		p.unexpected("after top-level value")
		return record{}, p.err
	}
	if len(meta) > 0 {
		p.res.meta = meta
	}
	res := p.res
	p.s, p.b = "", nil
	return res, nil
}

func (p *jsonParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

// object parses an object at p.s[p.i] == '{'. node, when not nil, holds the paths that go
// through this object: their values are taken out instead of being stored in the map.
func (p *jsonParser) object(node *pathNode) map[string]any {
	p.i++ // '{'
	if p.depth++; p.depth > maxDepth {
		p.fail("exceeded max depth")
		return nil
	}
	var m map[string]any
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		p.depth--
		if node != nil {
			return nil // the caller only looks at len
		}
		return map[string]any{}
	}
	for {
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			p.unexpected("looking for beginning of object key string")
			return nil
		}
		key := p.str()
		if p.err != nil {
			return nil
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			p.unexpected("after object key")
			return nil
		}
		p.i++
		p.ws()
		var c *pathNode
		if node != nil {
			c = node.child(key)
		}
		if c == nil {
			v := p.value()
			if p.err != nil {
				return nil
			}
			if m == nil {
				m = make(map[string]any, 8)
			}
			m[key] = v
		} else {
			// A repeated key replaces what an earlier one gave, as in encoding/json.
			p.forget(c.below)
			delete(m, key)
			if v, keep := p.pathValue(c); p.err != nil {
				return nil
			} else if keep {
				if m == nil {
					m = make(map[string]any, 8)
				}
				m[key] = v
			}
		}
		p.ws()
		if p.i >= len(p.s) {
			p.unexpected("after object key:value pair")
			return nil
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			p.ws()
			continue
		case '}':
			p.i++
			p.depth--
			if m == nil && node == nil {
				m = map[string]any{}
			}
			return m
		}
		p.unexpected("after object key:value pair")
		return nil
	}
}

func (p *jsonParser) forget(targets uint8) {
	if targets&targetText != 0 {
		p.res.text, p.res.textKind = "", 0
	}
	if targets&targetID != 0 {
		p.res.id = ""
	}
}

// pathValue parses the value of a key on a text or id path. It reports whether the value
// (what is left of it) belongs in the metadata.
func (p *jsonParser) pathValue(c *pathNode) (any, bool) {
	if p.i >= len(p.s) {
		p.unexpected("looking for beginning of value")
		return nil, false
	}
	first := p.s[p.i]
	if c.target&targetText != 0 {
		if first == '"' {
			p.res.text, p.res.textKind = p.str(), '"'
			return nil, false
		}
		p.res.textKind = first
		return p.value(), true
	}
	if c.target&targetID != 0 {
		switch {
		case first == '"':
			p.res.id = p.str()
			if p.res.id == "" {
				return "", true
			}
			return nil, false
		case first == '-' || first >= '0' && first <= '9':
			p.res.id = string(p.number())
			return nil, false
		case first == 'n':
			return p.value(), false // null: no id
		}
		return p.value(), true
	}
	if first != '{' {
		return p.value(), true
	}
	m := p.object(c)
	return m, len(m) > 0
}

// value parses any JSON value the way encoding/json decodes into an any with UseNumber.
func (p *jsonParser) value() any {
	if p.i >= len(p.s) {
		p.unexpected("looking for beginning of value")
		return nil
	}
	switch c := p.s[p.i]; {
	case c == '"':
		return p.str()
	case c == '{':
		return p.object(nil)
	case c == '[':
		return p.array()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return p.literal("true", true)
	case c == 'f':
		return p.literal("false", false)
	case c == 'n':
		return p.literal("null", nil)
	}
	p.unexpected("looking for beginning of value")
	return nil
}

func (p *jsonParser) literal(lit string, v any) any {
	if strings.HasPrefix(p.s[p.i:], lit) {
		p.i += len(lit)
		return v
	}
	for k := 1; k < len(lit); k++ {
		p.i++
		if p.i >= len(p.s) || p.s[p.i] != lit[k] {
			p.unexpected("in literal " + lit + " (expecting " + strconv.QuoteRune(rune(lit[k])) + ")")
			return nil
		}
	}
	return nil
}

func (p *jsonParser) array() []any {
	p.i++ // '['
	if p.depth++; p.depth > maxDepth {
		p.fail("exceeded max depth")
		return nil
	}
	a := []any{}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		p.depth--
		return a
	}
	for {
		v := p.value()
		if p.err != nil {
			return nil
		}
		a = append(a, v)
		p.ws()
		if p.i >= len(p.s) {
			p.unexpected("after array element")
			return nil
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			p.ws()
			continue
		case ']':
			p.i++
			p.depth--
			return a
		}
		p.unexpected("after array element")
		return nil
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number parses -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and returns it as written.
func (p *jsonParser) number() json.Number {
	s, start := p.s, p.i
	i := p.i
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	default:
		p.i = i
		p.unexpected("in numeric literal")
		return ""
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			p.i = i
			p.unexpected("after decimal point in numeric literal")
			return ""
		}
		for ; i < len(s) && isDigit(s[i]); i++ {
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			p.i = i
			p.unexpected("in exponent of numeric literal")
			return ""
		}
		for ; i < len(s) && isDigit(s[i]); i++ {
		}
	}
	p.i = i
	return json.Number(s[start:i])
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plainRun returns the index of the first byte at or after i that is '"', '\\' or a control
// character, or len(b). It looks at eight bytes at a time.
func plainRun(b []byte, i int) int {
	for i+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[i:])
		q := w ^ (lsb * '"')
		e := w ^ (lsb * '\\')
		if ((q-lsb)&^q|(e-lsb)&^e|(w-lsb*0x20)&^w)&msb != 0 {
			break
		}
		i += 8
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}

// str parses a string at p.s[p.i] == '"'. Without escapes the result is a substring of the
// line; with escapes it is built in the scratch buffer and copied once.
func (p *jsonParser) str() string {
	start := p.i + 1
	i := plainRun(p.b, start)
	if i >= len(p.s) {
		p.i = i
		p.fail("unexpected end of line in string literal")
		return ""
	}
	switch c := p.s[i]; {
	case c == '"':
		p.i = i + 1
		return p.s[start:i]
	case c == '\\':
		return p.strEscaped(start, i)
	}
	p.i = i
	p.fail("invalid character %q in string literal", rune(p.s[i]))
	return ""
}

// strEscaped finishes a string whose first escape is at s[i].
func (p *jsonParser) strEscaped(start, i int) string {
	s := p.s
	buf := append(p.buf[:0], s[start:i]...)
	for {
		if i >= len(s) {
			p.i = i
			p.fail("unexpected end of line in string literal")
			return ""
		}
		c := s[i]
		switch {
		case c == '"':
			p.i = i + 1
			p.buf = buf
			return string(buf)
		case c < 0x20:
			p.i = i
			p.fail("invalid character %q in string literal", rune(c))
			return ""
		case c != '\\':
			j := plainRun(p.b, i+1)
			buf = append(buf, s[i:j]...)
			i = j
			continue
		}
		i++
		if i >= len(s) {
			p.i = i
			p.fail("unexpected end of line in string escape code")
			return ""
		}
		switch s[i] {
		case '"', '\\', '/':
			buf = append(buf, s[i])
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4(i + 1)
			if !ok {
				return ""
			}
			i += 4
			if utf16.IsSurrogate(r) {
				// A valid pair makes one rune; anything else is U+FFFD, as in encoding/json.
				r2 := rune(-1)
				if i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					if v, ok := hex4(s[i+3:]); ok {
						r2 = v
					}
				}
				if d := utf16.DecodeRune(r, r2); d != unicode.ReplacementChar {
					r = d
					i += 6
				} else {
					r = unicode.ReplacementChar
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			p.i = i
			p.unexpected("in string escape code")
			return ""
		}
		i++
	}
}

func (p *jsonParser) hex4(i int) (rune, bool) {
	for k := 0; k < 4; k++ {
		if i+k >= len(p.s) || hexVal(p.s[i+k]) < 0 {
			p.i = i + k
			p.unexpected("in \\u hexadecimal character escape")
			return 0, false
		}
	}
	r, _ := hex4(p.s[i:])
	return r, true
}

func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return -1, false
	}
	var r rune
	for k := 0; k < 4; k++ {
		v := hexVal(s[k])
		if v < 0 {
			return -1, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}
