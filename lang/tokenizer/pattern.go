package tokenizer

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// splitPattern is one of the split regexes of byte-level tokenizers, matched by hand: each
// uses \s+(?!\S), a lookahead Go's regexp does not have. Every character of a text starts a
// match of these patterns, so a text is cut into consecutive matches with no gaps; end
// returns where the match starting at i ends (always after i).
type splitPattern struct {
	name string
	// cl100k-style (Llama 3, Qwen 2): case-insensitive contractions, an optional
	// non-letter before letters, digit groups of at most maxDigits, newlines kept with
	// the whitespace or punctuation before them.
	cl100k    bool
	maxDigits int // cl100k-style only: 3 for Llama 3/cl100k, 1 for Qwen 2
}

var (
	patGPT2   = &splitPattern{name: "GPT-2"}
	patLlama3 = &splitPattern{name: "Llama 3 / cl100k", cl100k: true, maxDigits: 3}
	patQwen2  = &splitPattern{name: "Qwen 2", cl100k: true, maxDigits: 1}
)

// gpt2Regex is the split regex of GPT-2, also what the ByteLevel pre-tokenizer uses when its
// use_regex is true.
const gpt2Regex = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// knownPatterns maps the regexes of Split pre-tokenizers, as tokenizer.json spells them, to
// their hand-written matchers.
var knownPatterns = map[string]*splitPattern{
	gpt2Regex: patGPT2,
	`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`: patLlama3,
	`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`:      patQwen2,
	// tiktoken's spelling of cl100k (possessive quantifiers; the same matches).
	`'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`: patLlama3,
}

// Character classes of the patterns: \p{L}, \p{N}, \s (Unicode White_Space) and the rest.
const (
	clsOther  = iota // [^\s\p{L}\p{N}]: punctuation, symbols, marks, controls
	clsLetter        // \p{L}
	clsNumber        // \p{N}
	clsSpace         // \s
)

var (
	asciiClass [128]uint8
	// bmpClass holds the class of every code point of the Basic Multilingual Plane (64 KB),
	// filled when the first tokenizer is parsed: binary searches in the unicode tables
	// would otherwise be most of the cost of non-Latin text.
	bmpClass     []uint8
	bmpClassOnce sync.Once
)

func init() {
	for c := 0; c < 128; c++ {
		asciiClass[c] = classOfSlow(rune(c))
	}
}

func initClasses() {
	bmpClassOnce.Do(func() {
		t := make([]uint8, 0x10000)
		for r := range t {
			t[r] = classOfSlow(rune(r))
		}
		bmpClass = t
	})
}

func classOfSlow(r rune) uint8 {
	switch {
	case unicode.IsLetter(r) || unicode.Is(lettersSince15, r):
		return clsLetter
	case unicode.IsNumber(r) || unicode.Is(numbersSince15, r):
		return clsNumber
	case unicode.IsSpace(r): // White_Space: \t-\r, space, NEL, NBSP, Zs, Zl, Zp
		return clsSpace
	}
	return clsOther
}

// lettersSince15 and numbersSince15 are the letters and digits Unicode 15.1 and 16.0 added.
// Go's unicode package is at Unicode 15.0; HF tokenizers' regexes (Oniguruma 6.9.10 in
// tokenizers 0.22) are at 16.0, and split these as \p{L} and \p{N}. Among them are scripts
// of low-resource languages: Garay (Wolof), Ol Onal (Bhumij), Kirat Rai, Sunuwar, Gurung
// Khema, Tulu-Tigalari, Todhri. Found by comparing every code point below U+32400 with HF.
var (
	lettersSince15 = &unicode.RangeTable{
		R16: []unicode.Range16{{0x1c89, 0x1c8a, 1}, {0xa7cb, 0xa7cd, 1}, {0xa7da, 0xa7dc, 1}},
		R32: []unicode.Range32{{0x105c0, 0x105f3, 1}, {0x10d4a, 0x10d65, 1}, {0x10d6f, 0x10d85, 1}, {0x10ec2, 0x10ec4, 1},
			{0x11380, 0x11389, 1}, {0x1138b, 0x1138e, 3}, {0x11390, 0x113b5, 1}, {0x113b7, 0x113d1, 26}, {0x113d3, 0x113d3, 1},
			{0x11bc0, 0x11be0, 1}, {0x13460, 0x143fa, 1}, {0x16100, 0x1611d, 1}, {0x16d40, 0x16d6c, 1}, {0x18cff, 0x18cff, 1},
			{0x1e5d0, 0x1e5ed, 1}, {0x1e5f0, 0x1e5f0, 1}, {0x2ebf0, 0x2ee5d, 1}},
	}
	numbersSince15 = &unicode.RangeTable{
		R32: []unicode.Range32{{0x10d40, 0x10d49, 1}, {0x116d0, 0x116e3, 1}, {0x11bf0, 0x11bf9, 1}, {0x16130, 0x16139, 1},
			{0x16d70, 0x16d79, 1}, {0x1ccf0, 0x1ccf9, 1}, {0x1e5f1, 0x1e5fa, 1}},
	}
)

// runeAt decodes the character at s[i]: its class, the rune and its width. Invalid UTF-8
// counts as one byte of class other.
func runeAt(s []byte, i int) (cls uint8, r rune, w int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return asciiClass[c], rune(c), 1
	}
	r, w = utf8.DecodeRune(s[i:])
	if r == utf8.RuneError && w == 1 {
		return clsOther, r, 1
	}
	if r < 0x10000 && bmpClass != nil {
		return bmpClass[r], r, w
	}
	return classOfSlow(r), r, w
}

// runOf returns the end of the run of characters of class cls starting at i.
func runOf(s []byte, i int, cls uint8) int {
	for i < len(s) {
		c, _, w := runeAt(s, i)
		if c != cls {
			break
		}
		i += w
	}
	return i
}

// end returns the end of the match starting at i (i < len(s)).
func (p *splitPattern) end(s []byte, i int) int {
	cls, r, w := runeAt(s, i)
	if r == '\'' {
		if n := contraction(s[i+1:], p.cl100k); n > 0 {
			return i + 1 + n
		}
	}
	if p.cl100k {
		return p.endCL100k(s, i, cls, r, w)
	}
	// GPT-2: ' ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+' then \s+(?!\S)|\s+.
	j := i
	if r == ' ' && i+1 < len(s) {
		j = i + 1
	}
	if j < len(s) {
		c := cls
		if j != i {
			c, _, _ = runeAt(s, j)
		}
		if c != clsSpace {
			return runOf(s, j, c)
		}
	}
	return spaceEnd(s, i, false)
}

func (p *splitPattern) endCL100k(s []byte, i int, cls uint8, r rune, w int) int {
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if cls == clsLetter {
		return runOf(s, i, clsLetter)
	}
	if cls != clsNumber && r != '\r' && r != '\n' && i+w < len(s) {
		if c, _, _ := runeAt(s, i+w); c == clsLetter {
			return runOf(s, i+w, clsLetter)
		}
	}
	// \p{N}{1,maxDigits}
	if cls == clsNumber {
		j := i
		for n := 0; n < p.maxDigits && j < len(s); n++ {
			c, _, w := runeAt(s, j)
			if c != clsNumber {
				break
			}
			j += w
		}
		return j
	}
	// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
	j := i
	if r == ' ' {
		j = i + 1
	}
	if j < len(s) {
		if c, _, _ := runeAt(s, j); c == clsOther {
			j = runOf(s, j, clsOther)
			for j < len(s) && (s[j] == '\r' || s[j] == '\n') {
				j++
			}
			return j
		}
	}
	// \s*[\r\n]+ | \s+(?!\S) | \s+ (cls is clsSpace here)
	return spaceEnd(s, i, true)
}

// spaceEnd matches at a white-space character at i. With newlines, a run of white space
// that holds a line break matches up to its last \r or \n (\s*[\r\n]+). Otherwise the
// run matches whole when it ends the text or is one character long (\s+), and without its
// last character when a non-space follows (\s+(?!\S) leaves that character to start the
// next word, as " word").
func spaceEnd(s []byte, i int, newlines bool) int {
	end := i
	lastNL := -1
	last := i // start of the run's last character
	for end < len(s) {
		c, r, w := runeAt(s, end)
		if c != clsSpace {
			break
		}
		if r == '\r' || r == '\n' {
			lastNL = end
		}
		last = end
		end += w
	}
	if newlines && lastNL >= 0 {
		return lastNL + 1
	}
	if end == len(s) || last == i {
		return end
	}
	return last
}

// contraction returns the length of a contraction suffix (after the apostrophe) at the
// start of s: s, t, re, ve, m, ll, d; case-insensitively for cl100k-style patterns, where
// Unicode case folding also lets "ſ" (U+017F) stand for s. 0 when there is none.
func contraction(s []byte, fold bool) int {
	if len(s) == 0 {
		return 0
	}
	r0, w0 := utf8.DecodeRune(s)
	var r1 rune = -1
	if w0 < len(s) {
		r1, _ = utf8.DecodeRune(s[w0:])
	}
	is := func(r rune, c rune) bool {
		if r == c {
			return true
		}
		if !fold {
			return false
		}
		return r == c-'a'+'A' || (c == 's' && r == 'ſ')
	}
	switch {
	case is(r0, 's'), is(r0, 't'), is(r0, 'm'), is(r0, 'd'):
		return w0
	case is(r0, 'r') && is(r1, 'e'), is(r0, 'v') && is(r1, 'e'), is(r0, 'l') && is(r1, 'l'):
		return w0 + 1 // the second letter is ASCII
	}
	return 0
}
