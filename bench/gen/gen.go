package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Kind is what a generated record is, as written to the truth file.
type Kind uint8

const (
	Original Kind = iota // freshly assembled text
	ExactDup             // an earlier original's text, identical or differing only in white space or case
	NearDup              // an earlier original's text with a few words replaced, deleted or inserted
	Junk                 // symbol soup, URLs, digits, a repeated character or phrase, a single word, white space
	numKinds
)

var kindNames = [numKinds]string{"original", "exact_dup", "near_dup", "junk"}

func (k Kind) String() string { return kindNames[k] }

// Config says what to generate. Record i (0-based) is a pure function of Seed and i, so the
// output is the same bytes on every run and memory does not grow with the output size.
type Config struct {
	Seed      uint64
	Bytes     int64    // stop after the record that brings the uncompressed JSONL to this size; 0 = use Docs
	Docs      int64    // number of records when Bytes is 0
	DocBytes  int      // mean text size of an original document in bytes (uniform in [DocBytes/2, 3*DocBytes/2])
	DupShare  float64  // share of records that are exact duplicates
	NearShare float64  // share of records that are near duplicates
	JunkShare float64  // share of records that are junk
	NearEdits float64  // share of a near duplicate's words that are edited (at least 2 edits)
	Langs     []string // ISO 639-3 codes of the word lists to use; empty = all
}

// DefaultConfig returns the generator's defaults: 1 KB documents, 5% exact duplicates, 3% near
// duplicates and 2% junk.
func DefaultConfig() Config {
	return Config{Seed: 1, Docs: 1000, DocBytes: 1024, DupShare: 0.05, NearShare: 0.03, JunkShare: 0.02, NearEdits: 0.03}
}

// Summary counts what Write produced.
type Summary struct {
	Docs  int64           // records written
	Bytes int64           // uncompressed JSONL bytes written
	Kinds [numKinds]int64 // records by kind
}

// Generator writes a synthetic multilingual JSONL corpus. It is not safe for concurrent use.
type Generator struct {
	cfg   Config
	langs []*language

	pcg  *rand.PCG
	rng  *rand.Rand
	text []byte // the current record's text
	alt  []byte // the text being rewritten from text
	line []byte // the JSONL line being built
	tl   []byte // the truth line being built
	toks []span
	ops  []edit
}

// New checks cfg and loads the word lists.
func New(cfg Config) (*Generator, error) {
	var errs []error
	if cfg.Bytes < 0 || cfg.Docs < 0 || (cfg.Bytes == 0 && cfg.Docs == 0) {
		errs = append(errs, fmt.Errorf("size: want a positive number of bytes or documents"))
	}
	if cfg.DocBytes < 16 || cfg.DocBytes > 64<<20 {
		errs = append(errs, fmt.Errorf("doc-bytes: must be in 16..67108864, got %d", cfg.DocBytes))
	}
	for _, s := range []struct {
		name string
		v    float64
	}{{"dup", cfg.DupShare}, {"near", cfg.NearShare}, {"junk", cfg.JunkShare}, {"near-edits", cfg.NearEdits}} {
		if !(s.v >= 0 && s.v <= 1) {
			errs = append(errs, fmt.Errorf("%s: must be in 0..1, got %v", s.name, s.v))
		}
	}
	if sum := cfg.DupShare + cfg.NearShare + cfg.JunkShare; sum > 1 {
		errs = append(errs, fmt.Errorf("dup + near + junk: must be at most 1, got %v", sum))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	all, err := loadLanguages()
	if err != nil {
		return nil, err
	}
	langs := all
	if len(cfg.Langs) > 0 {
		langs = nil
		for _, code := range cfg.Langs {
			i := slices.IndexFunc(all, func(l *language) bool { return l.code == code })
			if i < 0 {
				var codes []string
				for _, l := range all {
					codes = append(codes, l.code)
				}
				return nil, fmt.Errorf("langs: no word list for %q (have %v)", code, codes)
			}
			langs = append(langs, all[i])
		}
	}
	pcg := rand.NewPCG(0, 0)
	return &Generator{cfg: cfg, langs: langs, pcg: pcg, rng: rand.New(pcg)}, nil
}

// Write writes the corpus to out and, when truth is not nil, one truth record per corpus
// record. It returns the first write error.
func (g *Generator) Write(out, truth io.Writer) (Summary, error) {
	var s Summary
	for i := int64(0); ; i++ {
		if g.cfg.Bytes > 0 {
			if s.Bytes >= g.cfg.Bytes {
				break
			}
		} else if i >= g.cfg.Docs {
			break
		}
		k := g.record(i)
		if _, err := out.Write(g.line); err != nil {
			return s, err
		}
		if truth != nil {
			if _, err := truth.Write(g.tl); err != nil {
				return s, err
			}
		}
		s.Docs++
		s.Bytes += int64(len(g.line))
		s.Kinds[k]++
	}
	return s, nil
}

// Salts separate the independent random streams drawn for one record.
const (
	saltKind uint64 = iota + 1
	saltText
	saltTarget
	saltVariant
	saltEdit
	saltJunk
)

// mix hashes (seed, i, salt) with splitmix64 finalisers.
func mix(seed, i, salt uint64) uint64 {
	z := seed*0x9e3779b97f4a7c15 ^ (i+1)*0xbf58476d1ce4e5b9 ^ salt*0x94d049bb133111eb
	for range 2 {
		z ^= z >> 30
		z *= 0xbf58476d1ce4e5b9
		z ^= z >> 27
		z *= 0x94d049bb133111eb
		z ^= z >> 31
	}
	return z
}

func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// planned returns the kind drawn for record i before any fallback.
func (g *Generator) planned(i int64) Kind {
	u := unit(mix(g.cfg.Seed, uint64(i), saltKind))
	switch {
	case u < g.cfg.DupShare:
		return ExactDup
	case u < g.cfg.DupShare+g.cfg.NearShare:
		return NearDup
	case u < g.cfg.DupShare+g.cfg.NearShare+g.cfg.JunkShare:
		return Junk
	}
	return Original
}

// target picks the earlier original that duplicate i copies, or -1 when none was found.
func (g *Generator) target(i int64) int64 {
	if i == 0 {
		return -1
	}
	for a := uint64(0); a < 64; a++ {
		j := int64(mix(g.cfg.Seed, uint64(i), saltTarget+a<<8) % uint64(i))
		if g.planned(j) == Original {
			return j
		}
	}
	return -1
}

func (g *Generator) reseed(i int64, salt uint64) {
	g.pcg.Seed(mix(g.cfg.Seed, uint64(i), salt), mix(g.cfg.Seed, uint64(i), salt+1<<32))
}

// record builds record i into g.line and its truth into g.tl.
func (g *Generator) record(i int64) Kind {
	k := g.planned(i)
	j := int64(-1)
	if k == ExactDup || k == NearDup {
		if j = g.target(i); j < 0 {
			k = Original
		}
	}
	g.tl = append(g.tl[:0], `{"id":"`...)
	g.tl = appendID(g.tl, i)
	g.tl = append(g.tl, `","kind":"`...)
	g.tl = append(g.tl, k.String()...)
	g.tl = append(g.tl, '"')
	if j >= 0 {
		g.tl = append(g.tl, `,"dup_of":"`...)
		g.tl = appendID(g.tl, j)
		g.tl = append(g.tl, '"')
	}
	text := g.text
	switch k {
	case Original:
		l := g.original(i)
		g.tl = appendField(g.tl, "lang", l.label)
		text = g.text
	case ExactDup:
		l := g.original(j)
		v := unit(mix(g.cfg.Seed, uint64(i), saltVariant))
		variant := "identical"
		text = g.text
		switch {
		case v < 0.1:
			variant = "whitespace"
			g.alt = append(g.alt[:0], "  "...)
			n := 0
			for _, c := range g.text {
				g.alt = append(g.alt, c)
				if c == ' ' {
					if n%4 == 0 {
						g.alt = append(g.alt, ' ')
					}
					n++
				}
			}
			g.alt = append(g.alt, '\n')
			text = g.alt
		case v < 0.2:
			variant = "case"
			g.alt = appendLower(g.alt[:0], g.text)
			text = g.alt
		}
		g.tl = appendField(g.tl, "variant", variant)
		g.tl = appendField(g.tl, "lang", l.label)
	case NearDup:
		l := g.original(j)
		n := g.nearEdit(i, l)
		g.tl = append(g.tl, `,"edits":`...)
		g.tl = strconv.AppendInt(g.tl, int64(n), 10)
		g.tl = appendField(g.tl, "lang", l.label)
		text = g.alt
	case Junk:
		g.tl = appendField(g.tl, "variant", g.junk(i))
		text = g.text
	}
	g.tl = append(g.tl, "}\n"...)

	g.line = append(g.line[:0], `{"id":"`...)
	g.line = appendID(g.line, i)
	g.line = append(g.line, `","text":"`...)
	g.line = appendJSONString(g.line, text)
	g.line = append(g.line, "\"}\n"...)
	return k
}

// original assembles original document i into g.text and returns its language.
func (g *Generator) original(i int64) *language {
	g.reseed(i, saltText)
	r := g.rng
	l := g.langs[r.IntN(len(g.langs))]
	want := g.cfg.DocBytes/2 + r.IntN(g.cfg.DocBytes+1)
	g.text = g.text[:0]
	inPara, paraLen := 0, 3+r.IntN(4)
	for len(g.text) < want {
		if len(g.text) > 0 {
			if inPara == paraLen {
				g.text = append(g.text, '\n')
				inPara, paraLen = 0, 3+r.IntN(4)
			} else {
				g.text = append(g.text, ' ')
			}
		}
		g.sentence(l)
		inPara++
	}
	return l
}

// sentence appends 5 to 16 words of l, capitalised and punctuated.
func (g *Generator) sentence(l *language) {
	r := g.rng
	n := 5 + r.IntN(12)
	for k := range n {
		if k > 0 {
			g.text = append(g.text, ' ')
		}
		x := r.Uint64() // one draw per word: the low 56 bits pick it, the top 8 add decoration
		top := x >> 56
		if top < 4 { // 1 in 64: a number instead of a word
			g.text = strconv.AppendUint(g.text, 1+(x&0xffff)%2030, 10)
		} else if w := l.word(x); k == 0 {
			g.text = appendTitle(g.text, w)
		} else {
			g.text = append(g.text, w...)
		}
		if k > 1 && k < n-2 && top >= 232 { // about 1 in 10: a comma
			g.text = append(g.text, l.comma...)
		}
	}
	if r.IntN(100) < 7 {
		g.text = append(g.text, l.ask...)
	} else {
		g.text = append(g.text, l.stop...)
	}
}

// span is one word of g.text: [start, end) without its trailing punctuation, which runs to
// punct.
type span struct{ start, end, punct int }

type edit struct {
	tok int
	op  byte // 'r'eplace, 'd'elete, 'i'nsert before
}

// nearEdit rewrites g.text into g.alt with a few word edits drawn for record i, and returns
// the number of edits.
func (g *Generator) nearEdit(i int64, l *language) int {
	g.toks = g.toks[:0]
	for p := 0; p < len(g.text); {
		for p < len(g.text) && (g.text[p] == ' ' || g.text[p] == '\n') {
			p++
		}
		if p == len(g.text) {
			break
		}
		q := p
		for q < len(g.text) && g.text[q] != ' ' && g.text[q] != '\n' {
			q++
		}
		end := q
		for end > p {
			c, size := utf8.DecodeLastRune(g.text[p:end])
			if !unicode.IsPunct(c) {
				break
			}
			end -= size
		}
		g.toks = append(g.toks, span{p, end, q})
		p = q
	}
	g.reseed(i, saltEdit)
	r := g.rng
	n := max(2, int(float64(len(g.toks))*g.cfg.NearEdits+0.5))
	g.ops = g.ops[:0]
	for range n {
		e := edit{tok: r.IntN(len(g.toks)), op: "rrrrrrddii"[r.IntN(10)]}
		if t := g.toks[e.tok]; e.op == 'd' && (t.end != t.punct || t.start == t.end) {
			e.op = 'r' // keep sentence punctuation: replace the word instead
		}
		g.ops = append(g.ops, e)
	}
	slices.SortStableFunc(g.ops, func(a, b edit) int { return a.tok - b.tok })
	g.alt = append(g.alt[:0], g.text[:g.toks[0].start]...)
	o := 0
	for t, s := range g.toks {
		next := len(g.text)
		if t+1 < len(g.toks) {
			next = g.toks[t+1].start
		}
		op := byte(0)
		for ; o < len(g.ops) && g.ops[o].tok == t; o++ {
			if g.ops[o].op == 'i' {
				g.alt = append(g.alt, l.word(r.Uint64())...)
				g.alt = append(g.alt, ' ')
			} else {
				op = g.ops[o].op
			}
		}
		switch op {
		case 'd':
			continue // the word and the separator after it
		case 'r':
			g.alt = append(g.alt, l.word(r.Uint64())...)
			g.alt = append(g.alt, g.text[s.end:next]...)
		default:
			g.alt = append(g.alt, g.text[s.start:next]...)
		}
	}
	return n
}

var junkVariants = []string{"symbols", "repeated_char", "digits", "urls", "single_word", "repeated_phrase", "whitespace"}

// junk writes junk record i into g.text and returns its variant.
func (g *Generator) junk(i int64) string {
	g.reseed(i, saltJunk)
	r := g.rng
	v := junkVariants[r.IntN(len(junkVariants))]
	want := g.cfg.DocBytes/4 + r.IntN(g.cfg.DocBytes+1)
	t := g.text[:0]
	switch v {
	case "symbols":
		const sym = `#$%&*@!^~+=<>|/\[]{}()_-:;"'`
		for len(t) < want {
			for range 1 + r.IntN(4) {
				t = append(t, sym[r.IntN(len(sym))])
			}
			t = append(t, ' ')
		}
	case "repeated_char":
		c := []string{"a", "x", "=", "-", ".", "!", "ø"}[r.IntN(7)]
		for len(t) < want {
			t = append(t, c...)
		}
	case "digits":
		for len(t) < want {
			t = strconv.AppendInt(t, r.Int64N(1_000_000_000), 10)
			t = append(t, " \n"[r.IntN(2)])
		}
	case "urls":
		hosts := []string{"example.com", "example.org", "example.net", "shop.example", "news.example"}
		for len(t) < want {
			t = append(t, "https://www."...)
			t = append(t, hosts[r.IntN(len(hosts))]...)
			for range 1 + r.IntN(3) {
				t = append(t, '/')
				for range 3 + r.IntN(8) {
					t = append(t, byte('a'+r.IntN(26)))
				}
			}
			if r.IntN(2) == 0 {
				t = append(t, "?id="...)
				t = strconv.AppendInt(t, r.Int64N(100000), 10)
			}
			t = append(t, '\n')
		}
	case "single_word":
		t = appendTitle(t, g.langs[r.IntN(len(g.langs))].word(r.Uint64()))
	case "repeated_phrase":
		l := g.langs[r.IntN(len(g.langs))]
		var phrase []byte
		for k := range 2 + r.IntN(3) {
			if k > 0 {
				phrase = append(phrase, ' ')
			}
			phrase = append(phrase, l.word(r.Uint64())...)
		}
		for len(t) < want {
			t = append(t, phrase...)
			t = append(t, ' ')
		}
	case "whitespace":
		for range 1 + r.IntN(20) {
			t = append(t, " \t\n"[r.IntN(3)])
		}
	}
	g.text = t
	return v
}

// appendID appends the id of record i: "g" and its 1-based number on 10 digits.
func appendID(dst []byte, i int64) []byte {
	var buf [20]byte
	b := strconv.AppendInt(buf[:0], i+1, 10)
	dst = append(dst, 'g')
	for range 10 - len(b) {
		dst = append(dst, '0')
	}
	return append(dst, b...)
}

func appendField(dst []byte, key, val string) []byte {
	dst = append(dst, `,"`...)
	dst = append(dst, key...)
	dst = append(dst, `":"`...)
	dst = append(dst, val...)
	return append(dst, '"')
}

// appendTitle appends w with its first letter upper-cased.
func appendTitle(dst []byte, w string) []byte {
	c, size := utf8.DecodeRuneInString(w)
	if u := unicode.ToUpper(c); u != c {
		dst = utf8.AppendRune(dst, u)
		return append(dst, w[size:]...)
	}
	return append(dst, w...)
}

func appendLower(dst, s []byte) []byte {
	for len(s) > 0 {
		c, size := utf8.DecodeRune(s)
		dst = utf8.AppendRune(dst, unicode.ToLower(c))
		s = s[size:]
	}
	return dst
}

// appendJSONString appends s (valid UTF-8) as the inside of a JSON string.
func appendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for k, c := range s {
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:k]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = k + 1
	}
	return append(dst, s[start:]...)
}
