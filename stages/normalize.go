package stages

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"

	"github.com/sieve-data/sieve/pipeline"
)

// NormalizeConfig configures the normalize formatter.
type NormalizeConfig struct {
	Form               string `yaml:"form" doc:"Unicode normal form: NFC (composed; what tokenizers and models expect) | NFKC | none. NFKC also folds compatibility characters and changes meaning-bearing ones (x² becomes x2, ﬁ becomes fi, fullwidth ２０２４ becomes 2024, ½ becomes 1⁄2): not the default"`
	StripInvisible     bool   `yaml:"strip_invisible" doc:"remove U+200B zero width space, U+FEFF (BOM or zero width no-break space, anywhere), U+2060 word joiner, U+00AD soft hyphen and U+180E Mongolian vowel separator (turn off for traditional Mongolian script, where it selects a letter form). U+200C ZWNJ and U+200D ZWJ (meaningful in Persian, Indic scripts and emoji) and bidi marks are never removed"`
	ControlChars       bool   `yaml:"control_chars" doc:"remove C0 and C1 control characters (U+0000-U+001F, U+007F-U+009F) except TAB and LF; the line breaks among them (CR, VT, FF, NEL) follow newlines"`
	Newlines           string `yaml:"newlines" doc:"lf: CRLF, lone CR and the other line breaks (VT, FF, NEL U+0085, U+2028, U+2029) become LF | keep: leave every line break as it is"`
	UnicodeSpaces      bool   `yaml:"unicode_spaces" doc:"replace NBSP, narrow NBSP, figure space, ideographic space and the other space separators (Zs) by an ASCII space; off by default because French typography uses NBSP before ; : ! ?"`
	CollapseBlankLines int    `yaml:"collapse_blank_lines" doc:"keep at most this many consecutive blank (empty or white space) lines; 0 = off"`
}

// DefaultNormalizeConfig returns the defaults: NFC, invisible and control characters removed,
// line breaks to LF, spaces and blank lines left alone.
func DefaultNormalizeConfig() NormalizeConfig {
	return NormalizeConfig{Form: "NFC", StripInvisible: true, ControlChars: true, Newlines: "lf"}
}

// Validate implements pipeline.Validator.
func (c *NormalizeConfig) Validate() []pipeline.FieldError {
	var errs []pipeline.FieldError
	switch c.Form {
	case "NFC", "NFKC", "none":
	case "NFD", "NFKD":
		errs = append(errs, pipeline.FieldError{Field: "form", Msg: fmt.Sprintf("must be one of NFC, NFKC, none; got %q (decomposed text is what this stage fixes)", c.Form)})
	default:
		errs = append(errs, pipeline.FieldError{Field: "form", Msg: fmt.Sprintf("must be one of NFC, NFKC, none; got %q", c.Form)})
	}
	if c.Newlines != "lf" && c.Newlines != "keep" {
		errs = append(errs, pipeline.FieldError{Field: "newlines", Msg: fmt.Sprintf("must be one of lf, keep; got %q", c.Newlines)})
	}
	if c.CollapseBlankLines < 0 {
		errs = append(errs, pipeline.FieldError{Field: "collapse_blank_lines", Msg: fmt.Sprintf("must be >= 0 (0 = off), got %d", c.CollapseBlankLines)})
	}
	return errs
}

// What the character pass does with one character.
const (
	normKeep      uint8 = iota
	normInvisible       // removed (strip_invisible)
	normControl         // removed (control_chars)
	normNewline         // becomes LF (newlines: lf); CR before LF is dropped
	normSpace           // becomes U+0020 (unicode_spaces)
	normInvalid         // a byte that is not UTF-8 becomes U+FFFD
)

// Classes of the non-ASCII characters the character pass may change.
const (
	classOther     = iota
	classC1        // U+0080-U+009F but NEL
	classNewline   // NEL, U+2028, U+2029
	classSpace     // Zs but U+0020
	classInvisible // U+00AD, U+180E, U+200B, U+2060, U+FEFF
	numNormClasses
)

// nonASCIIClass classes r (r >= 0x80).
func nonASCIIClass(r rune) int {
	if r > 0x3000 {
		if r == 0xFEFF {
			return classInvisible
		}
		return classOther
	}
	switch {
	case r < 0xA0:
		if r == 0x85 {
			return classNewline
		}
		return classC1
	case r == 0xA0, r == 0x1680, 0x2000 <= r && r <= 0x200A, r == 0x202F, r == 0x205F, r == 0x3000:
		return classSpace
	case r == 0xAD, r == 0x180E, r == 0x200B, r == 0x2060:
		return classInvisible
	case r == 0x2028, r == 0x2029:
		return classNewline
	}
	return classOther
}

// Normalize rewrites text to one Unicode normal form and removes invisible and control
// characters, so that the same word is the same bytes for tokenizers, dedup and models. It
// never rejects a document. Text that needs no change is left as it is, without allocating.
//
// The character pass (invisible and control characters, line breaks, spaces; bytes that are
// not UTF-8 become U+FFFD) runs first, so that a mark separated from its letter by a removed
// character still composes with it; then the normal form; then blank lines are collapsed.
// The result is a fixed point: normalizing it again changes nothing.
type Normalize struct {
	cfg      NormalizeConfig
	form     norm.Form
	inert    *inertTable // nil for form none
	ascii    [utf8.RuneSelf]uint8
	nonASCII [numNormClasses]uint8
	pool     sync.Pool

	docs, formDocs                                        atomic.Int64
	invisible, control, newlines, spaces, blanks, invalid atomic.Int64
}

var (
	_ pipeline.Stage    = (*Normalize)(nil)
	_ pipeline.Reporter = (*Normalize)(nil)
)

func init() {
	pipeline.MustRegister("normalize", pipeline.Spec{
		Summary:      "Rewrites text to NFC (or NFKC), removes invisible and control characters, turns CRLF and CR into LF, optionally replaces Unicode spaces and collapses blank lines (a formatter: rejects nothing).",
		Example:      "{form: NFC, strip_invisible: true, control_chars: true, newlines: lf, unicode_spaces: false, collapse_blank_lines: 0}",
		Mode:         pipeline.Parallel,
		Config:       func() any { c := DefaultNormalizeConfig(); return &c },
		New:          func(cfg any, _ *pipeline.Env) (pipeline.Stage, error) { return NewNormalize(*cfg.(*NormalizeConfig)) },
		ReportStatic: []string{"form"},
	})
}

// NewNormalize builds the formatter.
func NewNormalize(cfg NormalizeConfig) (*Normalize, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("normalize: %s: %s", errs[0].Field, errs[0].Msg)
	}
	s := &Normalize{cfg: cfg}
	switch cfg.Form {
	case "NFC":
		s.form, s.inert = norm.NFC, nfcInert()
	case "NFKC":
		s.form, s.inert = norm.NFKC, nfkcInert()
	}
	lf := cfg.Newlines == "lf"
	set := func(on bool, act uint8) uint8 {
		if on {
			return act
		}
		return normKeep
	}
	for c := range s.ascii {
		switch {
		case c == '\t', c == '\n':
		case c == '\r', c == '\v', c == '\f':
			s.ascii[c] = set(lf, normNewline)
		case c < 0x20, c == 0x7F:
			s.ascii[c] = set(cfg.ControlChars, normControl)
		}
	}
	s.nonASCII[classC1] = set(cfg.ControlChars, normControl)
	s.nonASCII[classNewline] = set(lf, normNewline)
	s.nonASCII[classSpace] = set(cfg.UnicodeSpaces, normSpace)
	s.nonASCII[classInvisible] = set(cfg.StripInvisible, normInvisible)
	s.pool.New = func() any { return &normScratch{} }
	return s, nil
}

// normScratch is one worker's buffers and segment cache.
type normScratch struct {
	a, b, seg []byte
	it        norm.Iter
	segs      map[string]segForm
}

func (sc *normScratch) cache(seg string, v segForm) {
	if sc.segs == nil {
		sc.segs = make(map[string]segForm)
	}
	sc.segs[seg] = v
}

// normCounts are the changes made to one text.
type normCounts struct {
	invisible, control, newlines, spaces, blanks, invalid int64
	form                                                  bool
}

func (c *normCounts) add(o normCounts) {
	c.invisible += o.invisible
	c.control += o.control
	c.newlines += o.newlines
	c.spaces += o.spaces
	c.blanks += o.blanks
	c.invalid += o.invalid
	c.form = c.form || o.form
}

// Process implements pipeline.Stage. It rewrites d.Text; for an instruction record it
// rewrites every turn and Input instead (what the instruction writers write), the
// instruction and Input of the first user turn apart so that Flat still splits them, and
// sets d.Text to the same view of the new turns. Changes are counted once, in the turns.
func (s *Normalize) Process(_ context.Context, d *pipeline.Document) (pipeline.Verdict, error) {
	var n normCounts
	changed := false
	in := d.Instruction
	if in == nil {
		d.Text, changed = s.normalize(d.Text, &n)
	} else {
		view, isView := matchView(in, d.Text)
		changed = in.Rewrite(func(t string) (string, bool) { return s.normalize(t, &n) })
		switch {
		case !isView:
			d.Text, _ = s.normalize(d.Text, nil)
		case changed:
			d.Text = in.View(view)
		}
	}
	if changed {
		s.docs.Add(1)
		if n.form {
			s.formDocs.Add(1)
		}
		for _, c := range []struct {
			v *atomic.Int64
			n int64
		}{{&s.invisible, n.invisible}, {&s.control, n.control}, {&s.newlines, n.newlines}, {&s.spaces, n.spaces}, {&s.blanks, n.blanks}, {&s.invalid, n.invalid}} {
			if c.n != 0 {
				c.v.Add(c.n)
			}
		}
	}
	return pipeline.Keep, nil
}

// matchView returns the view of in that text is (see pipeline.Instruction.View), if any.
func matchView(in *pipeline.Instruction, text string) (string, bool) {
	for _, v := range pipeline.Views {
		rest, first := text, true
		ok := true
		for _, m := range in.Messages {
			if m.Role == pipeline.RoleSystem || v == pipeline.ViewOutput && m.Role != pipeline.RoleAssistant || v == pipeline.ViewPrompt && m.Role != pipeline.RoleUser {
				continue
			}
			if !first {
				if len(rest) < 2 || rest[:2] != "\n\n" {
					ok = false
					break
				}
				rest = rest[2:]
			}
			first = false
			if len(rest) < len(m.Content) || rest[:len(m.Content)] != m.Content {
				ok = false
				break
			}
			rest = rest[len(m.Content):]
		}
		if ok && rest == "" {
			return v, true
		}
	}
	return "", false
}

// Normalize returns text as the stage writes it, for tests and tools.
func (s *Normalize) Normalize(text string) string {
	out, _ := s.normalize(text, nil)
	return out
}

// normalize returns text normalized and whether it changed, adding what it did to n unless
// n is nil. Text that needs no change is returned as it is, without allocating.
func (s *Normalize) normalize(text string, n *normCounts) (string, bool) {
	first, formFrom := s.firstChange(text)
	var sc *normScratch
	needForm := false
	if first < 0 && formFrom >= 0 {
		sc = s.pool.Get().(*normScratch)
		_, needForm = s.formAppend(nil, text[formFrom:], sc, true)
	}
	if first < 0 && !needForm && (s.cfg.CollapseBlankLines == 0 || !hasExcessBlankLines(text, s.cfg.CollapseBlankLines)) {
		if sc != nil {
			s.pool.Put(sc)
		}
		return text, false
	}
	if sc == nil {
		sc = s.pool.Get().(*normScratch)
	}
	defer s.putScratch(sc)
	var c normCounts
	var buf []byte // the text so far; nil while it is text
	spare := &sc.b // the buffer buf is not
	switch {
	case first >= 0:
		sc.a = s.clean(append(sc.a[:0], text[:first]...), text, first, &c)
		buf = sc.a
		if s.inert != nil {
			// sc.a does not change while sc.b is written.
			if sc.b, c.form = s.formAppend(sc.b[:0], unsafeString(sc.a), sc, false); c.form {
				buf, spare = sc.b, &sc.a
			}
		}
	case needForm:
		sc.a, c.form = s.formAppend(append(sc.a[:0], text[:formFrom]...), text[formFrom:], sc, false)
		buf = sc.a
	}
	if k := s.cfg.CollapseBlankLines; k > 0 {
		var removed int
		if buf == nil {
			*spare, removed = collapseLines((*spare)[:0], text, k, true)
		} else {
			*spare, removed = collapseLines((*spare)[:0], buf, k, true)
		}
		if removed > 0 {
			buf, c.blanks = *spare, int64(removed)
		}
	}
	if buf == nil {
		return text, false
	}
	if n != nil {
		n.add(c)
	}
	return string(buf), true
}

// unsafeString views b as a string; b must not change while the string is used.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// putScratch returns sc to the pool unless a huge document made its buffers huge.
func (s *Normalize) putScratch(sc *normScratch) {
	if cap(sc.a)+cap(sc.b) <= 4<<20 {
		s.pool.Put(sc)
	}
}

// firstChange returns the byte offset of the first character the character pass changes
// (-1 if none) and, when there is none, where the first segment that may not be in the
// normal form starts (-1 if none: the text is made of inert characters, see inertTable).
func (s *Normalize) firstChange(text string) (first, formFrom int) {
	formFrom, seg := -1, 0
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			if s.ascii[c] != normKeep {
				return i, -1
			}
			seg = i
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if s.action(r, size) != normKeep {
			return i, -1
		}
		if s.inert != nil {
			if s.inert.has(r) {
				seg = i
			} else if formFrom < 0 {
				formFrom = seg
			}
		}
		i += size
	}
	return -1, formFrom
}

// action returns what the character pass does with the non-ASCII rune r of size bytes.
func (s *Normalize) action(r rune, size int) uint8 {
	if r == utf8.RuneError && size == 1 {
		return normInvalid
	}
	return s.nonASCII[nonASCIIClass(r)]
}

// actionAt returns what the character pass does with the character at text[i], and its size.
func (s *Normalize) actionAt(text string, i int) (uint8, int) {
	if c := text[i]; c < utf8.RuneSelf {
		return s.ascii[c], 1
	}
	r, size := utf8.DecodeRuneInString(text[i:])
	return s.action(r, size), size
}

// clean appends text[from:] to dst after the character pass, counting in n.
func (s *Normalize) clean(dst []byte, text string, from int, n *normCounts) []byte {
	last := from
	for i := from; i < len(text); {
		act, size := s.actionAt(text, i)
		if act == normKeep {
			i += size
			continue
		}
		dst = append(dst, text[last:i]...)
		switch act {
		case normInvisible:
			n.invisible++
		case normControl:
			n.control++
		case normSpace:
			dst = append(dst, ' ')
			n.spaces++
		case normInvalid:
			dst = append(dst, string(utf8.RuneError)...)
			n.invalid++
		case normNewline:
			n.newlines++
			if text[i] == '\r' && s.lfFollows(text, i+1) {
				break // CRLF: the LF is kept
			}
			dst = append(dst, '\n')
		}
		i += size
		last = i
	}
	return append(dst, text[last:]...)
}

// lfFollows reports whether text[i:] starts with LF once characters the pass removes are
// skipped, so that CR, ZWSP, LF is one line break as CR, LF is.
func (s *Normalize) lfFollows(text string, i int) bool {
	for i < len(text) {
		if text[i] == '\n' {
			return true
		}
		act, size := s.actionAt(text, i)
		if act != normInvisible && act != normControl {
			return false
		}
		i += size
	}
	return false
}

// inertTable marks the runes below U+30000 that are inert under a normal form: normal by
// themselves, with combining class 0, and combining with nothing before them (norm's
// BoundaryBefore). Text made of inert runes is normal, and text can be normalized one segment
// (an inert rune and the others up to the next one) at a time: most letters of most scripts
// are inert, so only the segments around combining marks need norm's work.
type inertTable [0x30000 / 64]uint64

func (t *inertTable) has(r rune) bool { return r < 0x30000 && t[r>>6]&(1<<(r&63)) != 0 }

func buildInertTable(f norm.Form) *inertTable {
	t := new(inertTable)
	var b [utf8.UTFMax]byte
	for r := rune(0); r < 0x30000; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		n := utf8.EncodeRune(b[:], r)
		if p := f.Properties(b[:n]); p.CCC() == 0 && p.BoundaryBefore() && f.QuickSpan(b[:n]) == n {
			t[r>>6] |= 1 << (r & 63)
		}
	}
	return t
}

// The tables are built on first use (a few milliseconds) and never change.
var (
	nfcInert  = sync.OnceValue(func() *inertTable { return buildInertTable(norm.NFC) })
	nfkcInert = sync.OnceValue(func() *inertTable { return buildInertTable(norm.NFKC) })
)

// formAppend appends text in s's normal form to dst and reports whether that changed it;
// with check it only reports whether text is not normal, and appends nothing. Segments of
// up to maxCachedSegment bytes are normalized once per scratch and remembered: a language
// has few distinct ones (Yoruba ẹ̀, ọ́, ...), so text that is already normal is checked
// without allocating.
func (s *Normalize) formAppend(dst []byte, text string, sc *normScratch, check bool) ([]byte, bool) {
	changed := false
	last, seg := 0, 0 // text[:last] is in dst; seg is where the current segment starts
	for i := 0; i < len(text); {
		if text[i] < utf8.RuneSelf {
			seg = i
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if s.inert.has(r) {
			seg = i
			i += size
			continue
		}
		j := i + size
		for j < len(text) {
			r, size := utf8.DecodeRuneInString(text[j:])
			if r < utf8.RuneSelf || s.inert.has(r) {
				break
			}
			j += size
		}
		if out, same := s.segment(text[seg:j], sc); !same {
			if check {
				return dst, true
			}
			dst = append(append(dst, text[last:seg]...), out...)
			last, changed = j, true
		}
		i = j
	}
	if !check {
		dst = append(dst, text[last:]...)
	}
	return dst, changed
}

// maxCachedSegment and maxCachedSegments bound a scratch's segment cache.
const (
	maxCachedSegment  = 64
	maxCachedSegments = 4096
)

// segForm is the normal form of a segment and whether it is the segment itself.
type segForm struct {
	norm string
	same bool
}

// segment returns the normal form of seg, a segment (see inertTable), and whether it is seg.
func (s *Normalize) segment(seg string, sc *normScratch) (string, bool) {
	if v, ok := sc.segs[seg]; ok {
		return v.norm, v.same
	}
	sc.it.InitString(s.form, seg)
	sc.seg = sc.seg[:0]
	for !sc.it.Done() {
		sc.seg = append(sc.seg, sc.it.Next()...)
	}
	if string(sc.seg) == seg {
		if len(seg) <= maxCachedSegment && len(sc.segs) < maxCachedSegments {
			sc.cache(strings.Clone(seg), segForm{same: true})
		}
		return seg, true
	}
	out := string(sc.seg)
	if len(seg) <= maxCachedSegment && len(sc.segs) < maxCachedSegments {
		sc.cache(strings.Clone(seg), segForm{norm: out})
	}
	return out, false
}

// hasExcessBlankLines reports whether text has more than max consecutive blank lines.
func hasExcessBlankLines(text string, max int) bool {
	_, n := collapseLines(nil, text, max, false)
	return n > 0
}

// collapseLines appends text to dst without the blank lines beyond max in a row, and
// returns how many it left out; without write it only counts up to the first. A blank line
// is empty or white space (CR included); a text's last line needs no LF.
func collapseLines[T ~string | ~[]byte](dst []byte, text T, max int, write bool) ([]byte, int) {
	removed, run, last := 0, 0, 0
	for ls := 0; ls < len(text); {
		le, blank := ls, true
		for le < len(text) && text[le] != '\n' {
			if k := spaceLen(text, le); blank && k > 0 {
				le += k
				continue
			}
			blank = false
			le++
		}
		next := min(le+1, len(text))
		if !blank {
			run = 0
		} else if run++; run > max {
			if !write {
				return dst, 1
			}
			dst = append(dst, text[last:ls]...)
			last = next
			removed++
		}
		ls = next
	}
	if write {
		dst = append(dst, text[last:]...)
	}
	return dst, removed
}

// spaceLen returns the length of the white space character (unicode.IsSpace, LF aside) at
// text[i], or 0.
func spaceLen[T ~string | ~[]byte](text T, i int) int {
	rest := len(text) - i
	switch c := text[i]; {
	case c == ' ', c == '\t', c == '\r', c == '\v', c == '\f':
		return 1
	case c == 0xC2 && rest >= 2 && (text[i+1] == 0x85 || text[i+1] == 0xA0): // NEL, NBSP
		return 2
	case c < 0xE1 || c > 0xE3 || rest < 3:
		return 0
	}
	b1, b2 := text[i+1], text[i+2]
	switch text[i] {
	case 0xE1: // U+1680
		if b1 == 0x9A && b2 == 0x80 {
			return 3
		}
	case 0xE2: // U+2000-U+200A, U+2028, U+2029, U+202F, U+205F
		if b1 == 0x80 && (0x80 <= b2 && b2 <= 0x8A || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF) || b1 == 0x81 && b2 == 0x9F {
			return 3
		}
	case 0xE3: // U+3000
		if b1 == 0x80 && b2 == 0x80 {
			return 3
		}
	}
	return 0
}

// Report implements pipeline.Reporter: documents changed, documents whose normal form
// changed, characters removed by kind, line breaks converted, spaces replaced, blank lines
// removed and bytes that were not UTF-8.
func (s *Normalize) Report() map[string]any {
	return map[string]any{
		"form":                s.cfg.Form,
		"docs_changed":        s.docs.Load(),
		"docs_form_changed":   s.formDocs.Load(),
		"removed":             map[string]int64{"invisible": s.invisible.Load(), "control": s.control.Load()},
		"newlines_converted":  s.newlines.Load(),
		"spaces_replaced":     s.spaces.Load(),
		"blank_lines_removed": s.blanks.Load(),
		"invalid_utf8":        s.invalid.Load(),
	}
}

// Close implements pipeline.Stage.
func (s *Normalize) Close(context.Context) error { return nil }
