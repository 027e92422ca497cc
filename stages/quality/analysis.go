// Package quality implements sieve's heuristic quality filters, the rules published with
// Gopher (quality and repetition), C4 and FineWeb, made to work in every language: each rule
// can be switched off and each threshold overridden per language, in the stage's YAML or in a
// thresholds file written by `sieve calibrate` from the corpus's own statistics.
//
// A document is measured once per stage into an Analysis (lines, words, counts); the rules
// are then comparisons of measured values with thresholds. Words are the tokens of
// lang.EachWord: words in scripts written with spaces, graphemes in scripts written without
// them, which is why word-based thresholds must be set per language.
package quality

import (
	"math"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/cespare/xxhash/v2"

	"github.com/sieve-data/sieve/lang"
)

// rune properties, from a table built once
const (
	pLetter = 1 << iota
	pDigit
	pMark
	pSpace
	pUpper // unicode.ToLower changes it
)

var propTable = sync.OnceValue(func() *[0x10000]uint8 {
	t := new([0x10000]uint8)
	for r := rune(0); r < 0x10000; r++ {
		t[r] = slowProps(r)
	}
	return t
})

func slowProps(r rune) uint8 {
	var p uint8
	if unicode.IsLetter(r) {
		p |= pLetter
	}
	if unicode.IsDigit(r) || unicode.IsNumber(r) {
		p |= pDigit
	}
	if unicode.IsMark(r) {
		p |= pMark
	}
	if unicode.IsSpace(r) {
		p |= pSpace
	}
	if unicode.ToLower(r) != r {
		p |= pUpper
	}
	return p
}

func props(t *[0x10000]uint8, r rune) uint8 {
	if r < 0x10000 {
		return t[r]
	}
	return slowProps(r)
}

// Line is one line of a text (the text split on "\n"), trimmed of surrounding white space.
type Line struct {
	Start, End int32 // byte range of the trimmed content; Start == End for a blank line
	Limit      int32 // byte offset of the line's "\n", or the text's length for the last line
	Runes      int32 // code points of the trimmed content
	MaxChunk   int32 // code points of the longest white-space-separated chunk
	W0, W1     int32 // the line's words are Words[W0:W1] (set once words are scanned)
}

// Blank reports whether the line holds only white space.
func (l *Line) Blank() bool { return l.Start == l.End }

// Word is one token of lang.EachWord.
type Word struct {
	Start, End int32
	Runes      int32  // code points, combining marks included
	Letters    int32  // code points that are not combining marks: the word's length
	Hash       uint64 // of the lower-cased word; equal words have equal hashes
	Char       bool   // a grapheme of a script written without spaces (lang.Char)
	Alpha      bool   // holds at least one letter
}

// Analysis holds the measurements of one text that the rules share. The zero value is ready;
// Reset starts a new text and keeps the buffers.
type Analysis struct {
	Text     string
	Runes    int // code points of Text
	Lines    []Line
	NonBlank int // lines that are not blank
	Hashes   int // '#' characters
	Ellipses int // "..." and "…"
	Newlines int
	// SymbolChunks counts white-space-separated chunks without a letter or digit ("###",
	// "—", "|", "->"): the symbol "words" that a word tokenizer drops.
	SymbolChunks int

	Words     []Word
	haveWords bool
	textHash  uint64 // of Text, when valid
	valid     bool   // set by acquireAnalysis

	// scratch for the rules
	lower []byte
	tab   u64Table
	grams []uint64
	cum   []int32
	wbuf  []uint64
}

// nanValue marks a value that cannot be measured (a ratio over nothing); no threshold
// rejects it.
var nanValue = math.NaN()

// unsafeString views b as a string; b must not change while the string is used.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// analyses holds analyses between calls. Consecutive quality stages on one goroutine
// usually get back the analysis the previous stage left, and reuse it when it is of the same
// text (same string, length and hash): a document is then scanned once however many
// quality stages it passes.
var analyses = sync.Pool{New: func() any { return new(Analysis) }}

// acquireAnalysis returns an analysis of text, reusing a pooled one of the same text.
func acquireAnalysis(text string) *Analysis {
	a := analyses.Get().(*Analysis)
	h := xxhash.Sum64String(text)
	if a.valid && len(a.Text) == len(text) && unsafe.StringData(a.Text) == unsafe.StringData(text) && a.textHash == h {
		return a
	}
	a.Reset(text)
	a.textHash, a.valid = h, true
	return a
}

// releaseAnalysis returns a to the pool for the next stage.
func releaseAnalysis(a *Analysis) { analyses.Put(a) }

// Reset measures text's lines and character counts; words are scanned on first use.
func (a *Analysis) Reset(text string) {
	a.Text = text
	a.valid = false
	a.Lines = a.Lines[:0]
	a.Words = a.Words[:0]
	a.haveWords = false
	a.Runes, a.NonBlank, a.Hashes, a.Ellipses, a.Newlines, a.SymbolChunks = 0, 0, 0, 0, 0, 0
	a.scanLines()
}

// scanLines splits the text into lines and counts characters, '#', ellipses and symbol
// chunks in one pass.
func (a *Analysis) scanLines() {
	t := propTable()
	s := a.Text
	n := len(s)
	var (
		line         Line
		lineStart    int
		started      bool  // the line has a non-space rune
		runesFromTop int32 // runes since the line's first non-space rune
		trailing     int32 // space runes since the last non-space rune
		chunkRunes   int32
		chunkHasWord bool
		dots         int
		runes        int
	)
	for i := 0; i <= n; {
		var r rune
		size := 1
		if i == n {
			r = '\n' // the end closes the last line
		} else if c := s[i]; c < utf8.RuneSelf {
			r = rune(c)
		} else {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		p := props(t, r)
		if p&pSpace != 0 {
			// end of a chunk
			if chunkRunes > 0 {
				if chunkRunes > line.MaxChunk {
					line.MaxChunk = chunkRunes
				}
				if !chunkHasWord {
					a.SymbolChunks++
				}
				chunkHasWord, chunkRunes = false, 0
			}
			dots = 0
			if r == '\n' {
				line.Limit = int32(i)
				if started {
					line.Runes = runesFromTop - trailing
					a.NonBlank++
				} else {
					line.Start, line.End = int32(lineStart), int32(lineStart)
				}
				a.Lines = append(a.Lines, line)
				line = Line{}
				started, runesFromTop, trailing = false, 0, 0
				lineStart = i + 1
				if i < n {
					a.Newlines++
					runes++
				}
				i++
				continue
			}
			runes++
			if started {
				runesFromTop++
				trailing++
			}
			i += size
			continue
		}
		runes++
		switch r {
		case '#':
			a.Hashes++
		case '…':
			a.Ellipses++
		}
		if r == '.' {
			if dots++; dots == 3 {
				a.Ellipses++
				dots = 0
			}
		} else {
			dots = 0
		}
		if started {
			runesFromTop++
		} else {
			started = true
			line.Start = int32(i)
			runesFromTop = 1
		}
		trailing = 0
		i += size
		line.End = int32(i)
		chunkRunes++
		if p&(pLetter|pDigit) != 0 {
			chunkHasWord = true
		}
	}
	a.Runes = runes
}

// scanWords tokenizes the text once (lang.EachWord) and assigns words to lines.
func (a *Analysis) scanWords() {
	if a.haveWords {
		return
	}
	a.haveWords = true
	t := propTable()
	s := a.Text
	lang.EachWord(s, func(tok lang.Token) bool {
		w := Word{Start: int32(tok.Start), End: int32(tok.End), Char: tok.Kind == lang.Char}
		w.Hash, w.Runes, w.Letters, w.Alpha = foldHash(t, s[tok.Start:tok.End])
		a.Words = append(a.Words, w)
		return true
	})
	wi := int32(0)
	for li := range a.Lines {
		l := &a.Lines[li]
		l.W0 = wi
		for int(wi) < len(a.Words) && a.Words[wi].Start < l.Limit {
			wi++
		}
		l.W1 = wi
	}
}

// words returns the words, scanning them on first use.
func (a *Analysis) words() []Word {
	a.scanWords()
	return a.Words
}

// LineText returns the trimmed text of line i.
func (a *Analysis) LineText(i int) string {
	l := &a.Lines[i]
	return a.Text[l.Start:l.End]
}

// foldHash hashes the lower-cased form of a word and counts its code points, its letters
// (code points that are not combining marks) and whether it holds a letter. It does not
// allocate.
func foldHash(t *[0x10000]uint8, w string) (h uint64, runes, letters int32, alpha bool) {
	h = 0xcbf29ce484222325
	for i := 0; i < len(w); {
		c := w[i]
		if c < utf8.RuneSelf {
			i++
			runes++
			letters++
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if 'a' <= c && c <= 'z' {
				alpha = true
			}
			h = (h ^ uint64(c)) * 0x100000001b3
			continue
		}
		r, size := utf8.DecodeRuneInString(w[i:])
		i += size
		runes++
		p := props(t, r)
		if p&pMark == 0 {
			letters++
		}
		if p&pLetter != 0 {
			alpha = true
		}
		if p&pUpper != 0 {
			r = unicode.ToLower(r)
		}
		h = (h ^ uint64(r)) * 0x100000001b3
	}
	return mix64(h), runes, letters, alpha
}

// FoldHash returns the hash Analysis gives a word (lower-cased), for matching word lists.
func FoldHash(w string) uint64 {
	h, _, _, _ := foldHash(propTable(), w)
	return h
}

// mix64 is a bijective finalizer that spreads the bits of h (from splitmix64).
func mix64(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}
