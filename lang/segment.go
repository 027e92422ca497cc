package lang

import (
	"iter"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Word and sentence segmentation shared by every stage (dedup shingles, quality rules,
// statistics). It is dictionary-free and works on any script:
//
//   - Scripts written with spaces: a word is a maximal run of letters, combining marks and
//     digits. Apostrophes (' ’ ‘ ʼ), hyphens (- ‐ ‑), the middle dot (Catalan l·l), zero-width
//     joiners and soft hyphens stay inside a word when a letter or digit follows them, so
//     Welsh "i'r", Hawaiian "Hawai‘i", Yoruba "ọmọ-ọba" and Kinyarwanda "n'abandi" are one
//     word each; "." and "," stay inside numbers ("3.5", "1,000"). Everything else separates
//     words: spaces, punctuation, symbols, the Ethiopic word space ፡ and full stop ።.
//   - Scripts written without spaces between words (Thai, Lao, Khmer, Myanmar, Tibetan, Han,
//     Hiragana, Katakana): each letter with the combining marks that follow it (a grapheme
//     cluster; Khmer coeng and Myanmar virama stacks included) is one token of kind Char.
//     Digits and Latin words inside such text are still Word tokens.

// TokenKind says what a token is.
type TokenKind uint8

const (
	// Word is a run of letters, marks and digits in a script written with spaces.
	Word TokenKind = iota + 1
	// Char is one grapheme of a script written without spaces between words.
	Char
)

func (k TokenKind) String() string {
	switch k {
	case Word:
		return "word"
	case Char:
		return "char"
	}
	return "invalid"
}

// Token is the byte range text[Start:End] of one word or grapheme.
type Token struct {
	Start, End int
	Kind       TokenKind
}

// Span is the byte range text[Start:End] of a sentence.
type Span struct {
	Start, End int
}

// character classes used by the word scanner
const (
	clsSep       = iota // separates words
	clsWord             // letter, mark or digit of a spaced script
	clsDigit            // decimal digit (also clsWord for joining purposes)
	clsSpaceless        // letter of a script written without spaces
	clsMark             // combining mark: attaches to what precedes it
	clsJoin             // apostrophe, hyphen, middle dot, ZWJ, ZWNJ, soft hyphen: inside a word only
)

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for b := 0; b < utf8.RuneSelf; b++ {
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z':
			t[b] = clsWord
		case b >= '0' && b <= '9':
			t[b] = clsDigit
		case b == '\'' || b == '-':
			t[b] = clsJoin
		default:
			t[b] = clsSep
		}
	}
	return t
}()

// spacelessRune reports whether r belongs to a block of a script written without spaces
// between words. Only letters of those blocks become Char tokens (see classify).
func spacelessRune(r rune) bool {
	switch {
	case r < 0x0E00:
		return false
	case r <= 0x0FFF: // Thai, Lao, Tibetan
		return true
	case r <= 0x109F: // Myanmar
		return true
	case r >= 0x1780 && r <= 0x17FF, r >= 0x19E0 && r <= 0x19FF: // Khmer, Khmer symbols
		return true
	case r >= 0x3005 && r <= 0x3007: // 々 〆 〇
		return true
	case r >= 0x3040 && r <= 0x30FF, r >= 0x31F0 && r <= 0x31FF: // Hiragana, Katakana
		return true
	case r >= 0x3400 && r <= 0x4DBF, r >= 0x4E00 && r <= 0x9FFF, r >= 0xF900 && r <= 0xFAFF: // Han
		return true
	case r >= 0xA9E0 && r <= 0xA9FF, r >= 0xAA60 && r <= 0xAA7F: // Myanmar extensions
		return true
	case r >= 0xFF66 && r <= 0xFF9F: // halfwidth Katakana
		return true
	case r >= 0x1B000 && r <= 0x1B16F: // Kana supplement and extensions
		return true
	case r >= 0x20000 && r <= 0x3FFFF: // Han extensions B..
		return true
	}
	return false
}

// stackJoiner reports whether r joins the following consonant into the same grapheme
// (Khmer coeng, Myanmar virama, Tai Tham sakot).
func stackJoiner(r rune) bool {
	return r == 0x17D2 || r == 0x1039 || r == 0x1A60
}

// classTable holds the word-scanner class of every rune of the Basic Multilingual Plane.
type classTable [0x10000]uint8

func (t *classTable) of(r rune) uint8 {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	if r < 0x10000 {
		return t[r]
	}
	return classifySlow(r)
}

// classify returns the word-scanner class of r.
func classify(r rune) uint8 { return bmpClasses().of(r) }

var (
	bmpOnce  sync.Once
	bmpClass *classTable
)

func bmpClasses() *classTable {
	bmpOnce.Do(func() {
		t := new(classTable)
		for r := rune(0); r < 0x10000; r++ {
			t[r] = classifySlow(r)
		}
		bmpClass = t
	})
	return bmpClass
}

func classifySlow(r rune) uint8 {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	switch r {
	case '’', '‘', 'ʼ', '‐', '‑', '·', 0x200C, 0x200D, 0x00AD:
		return clsJoin
	}
	if unicode.IsMark(r) {
		return clsMark
	}
	if unicode.IsLetter(r) {
		if spacelessRune(r) {
			return clsSpaceless
		}
		return clsWord
	}
	if unicode.IsDigit(r) {
		return clsDigit
	}
	if unicode.IsNumber(r) {
		return clsWord
	}
	return clsSep
}

func decode(s string, i int) (rune, int) {
	if b := s[i]; b < utf8.RuneSelf {
		return rune(b), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// EachWord calls fn for every token of text in order until fn returns false. It does not
// allocate. Invalid UTF-8 bytes separate words.
func EachWord(text string, fn func(Token) bool) {
	tab := bmpClasses()
	n := len(text)
	i := 0
	for i < n {
		r, size := rune(text[i]), 1 // decode, inlined by hand: the hot path of word counting
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		c := tab.of(r)
		switch c {
		case clsSep, clsJoin:
			i += size
			continue
		case clsSpaceless:
			start := i
			i += size
			stacked := false
			for i < n {
				r2, s2 := decode(text, i)
				if c2 := tab.of(r2); c2 == clsMark || r2 == 0x200C || r2 == 0x200D {
					i += s2
					stacked = stackJoiner(r2)
					continue
				}
				if stacked && tab.of(r2) == clsSpaceless {
					i += s2
					stacked = false
					continue
				}
				break
			}
			if !fn(Token{start, i, Char}) {
				return
			}
			continue
		}
		// clsWord, clsDigit, or a stray mark (treated as the start of a word)
		start := i
		prevDigit := c == clsDigit
		i += size
		for i < n {
			r2, s2 := rune(text[i]), 1 // decode, inlined by hand: the hot path of word counting
			if r2 >= utf8.RuneSelf {
				r2, s2 = utf8.DecodeRuneInString(text[i:])
			}
			c2 := tab.of(r2)
			switch c2 {
			case clsWord, clsMark:
				i += s2
				prevDigit = false
				continue
			case clsDigit:
				i += s2
				prevDigit = true
				continue
			case clsJoin, clsSep:
				// A joiner stays inside the word when a letter or digit follows; "." and ","
				// stay inside numbers.
				if c2 == clsSep && !(prevDigit && (r2 == '.' || r2 == ',')) {
					break
				}
				if i+s2 < n {
					r3, _ := decode(text, i+s2)
					c3 := tab.of(r3)
					if c3 == clsWord || c3 == clsDigit {
						if c2 == clsSep && c3 != clsDigit {
							break
						}
						i += s2
						continue
					}
				}
			}
			break
		}
		if !fn(Token{start, i, Word}) {
			return
		}
	}
}

// Words returns an iterator over the tokens of text (see EachWord).
func Words(text string) iter.Seq[Token] {
	return func(yield func(Token) bool) { EachWord(text, yield) }
}

// CountWords returns the number of tokens of text: words in scripts written with spaces plus
// graphemes in scripts written without them. Per-language thresholds built on it (quality
// rules) must therefore be calibrated per language: a Thai "word" here is a letter.
func CountWords(text string) int {
	n := 0
	EachWord(text, func(Token) bool { n++; return true })
	return n
}

// CountTokens returns the number of Word and Char tokens of text separately.
func CountTokens(text string) (words, chars int) {
	EachWord(text, func(t Token) bool {
		if t.Kind == Char {
			chars++
		} else {
			words++
		}
		return true
	})
	return words, chars
}

// SpacelessScript reports whether an ISO 15924 script code (as DetectScript returns) is
// written without spaces between words: Thai, Lao, Khmer, Myanmar, Tibetan, Han (Hani, Hans,
// Hant), Hiragana, Katakana and Japanese (Jpan). Korean (Hang) uses spaces.
func SpacelessScript(code string) bool {
	switch code {
	case "Thai", "Laoo", "Khmr", "Mymr", "Tibt", "Hani", "Hans", "Hant", "Hira", "Kana", "Jpan":
		return true
	}
	return false
}

// Sentence segmentation.

// terminator classes
const (
	termNone   = iota
	termPeriod // "." and "…": ambiguous (abbreviations, initials, numbers)
	termStrong // "!" "?" and the Latin-like marks: need a space or the end after them
	termFinal  // marks that end a sentence whatever follows: । ॥ ။ ። ፧ 。 ！ ？ ؟ ۔ ༎
)

func terminator(r rune) int {
	switch r {
	case '.', '…':
		return termPeriod
	case '!', '?', '‼', '⁇', '⁈', '⁉':
		return termStrong
	case 0x037E, 0x0589: // Greek question mark, Armenian full stop
		return termStrong
	case '।', '॥', '။', '።', '፧', '。', '！', '？', '؟', '۔', '༎', '៕', '។', '܀', '᙮', '｡':
		return termFinal
	}
	return termNone
}

// IsSentenceTerminator reports whether r is one of the marks that end a sentence in some
// script, the ones EachSentence splits on: . ! ? … ‼ and the full stops and question marks of
// other scripts (। ॥ ။ ። ፧ 。 ！ ？ ؟ ۔ ។ ៕ ༎ and a few more). Quality rules use it for
// "the line ends with terminal punctuation" in every script.
func IsSentenceTerminator(r rune) bool { return terminator(r) != termNone }

// IsClosingPunct reports whether r is a closing quote or bracket that may follow a sentence
// terminator inside the same sentence (" ' ) ] } ’ ” » › 」 』 ） 】 〉 》).
func IsClosingPunct(r rune) bool { return closer(r) }

// closer reports whether r may follow a terminator inside the same sentence (closing quotes
// and brackets).
func closer(r rune) bool {
	switch r {
	case '"', '\'', ')', ']', '}', '’', '”', '»', '›', '」', '』', '）', '】', '〉', '》':
		return true
	}
	return false
}

// abbreviations that do not end a sentence when followed by a period. Titles and common
// abbreviations of English and of the languages sieve targets (Swahili Bw., Bi., Dkt., Mhe.;
// French, Spanish, German forms). Matched case-sensitively on the word before the period.
var abbreviations = map[string]bool{
	"Mr": true, "Mrs": true, "Ms": true, "Dr": true, "Prof": true, "Sr": true, "Jr": true,
	"St": true, "Mt": true, "vs": true, "cf": true, "Fig": true, "fig": true,
	"Gen": true, "Gov": true, "Sen": true, "Rep": true, "Col": true, "Lt": true, "Sgt": true,
	"Capt": true, "Rev": true, "Hon": true, "Inc": true, "Ltd": true, "Co": true, "Corp": true,
	"approx": true, "Jan": true, "Feb": true, "Mar": true, "Apr": true, "Jun": true,
	"Jul": true, "Aug": true, "Sep": true, "Sept": true, "Oct": true, "Nov": true, "Dec": true,
	"Mme": true, "Mlle": true, "Dra": true, "Sra": true, "Sto": true, "Sta": true, "bzw": true,
	"usw": true, "ca": true, "Bw": true, "Bi": true, "Dkt": true, "Mhe": true,
	"e.g": true, "i.e": true, "a.m": true, "p.m": true, "U.S": true,
}

// numberAbbreviations end no sentence when a digit follows ("No. 5").
var numberAbbreviations = map[string]bool{"No": true, "no": true, "Nos": true, "Nr": true, "nr": true, "Art": true, "art": true, "p": true, "pp": true}

// EachSentence calls fn with the span of every sentence of text, trimmed of surrounding
// white space, until fn returns false. A sentence ends after a terminator (. ! ? … । ॥ ။ ።
// ፧ 。 ！ ？ ؟ ۔ ។ ༎ and a few more) and any closing quotes or brackets, and at a blank line.
// A period does not end a sentence inside a number, after a single letter (initials, "U.S."),
// after a known abbreviation ("Dr.", "Mhe."), or when a lowercase letter follows. "!", "?" and
// "." need a space or the end of the text after them; the other marks end a sentence
// wherever they are. A single newline is not a boundary. It does not allocate.
func EachSentence(text string, fn func(Span) bool) {
	n := len(text)
	start := skipSpace(text, 0)
	i := start
	for i < n {
		r, size := decode(text, i)
		// blank line: paragraph boundary
		if r == '\n' {
			j := i + 1
			for j < n && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r') {
				j++
			}
			if j < n && text[j] == '\n' {
				if end := trimRight(text, start, i); end > start {
					if !fn(Span{start, end}) {
						return
					}
				}
				start = skipSpace(text, j)
				i = start
				continue
			}
		}
		t := terminator(r)
		if t == termNone {
			i += size
			continue
		}
		termAt := i
		i += size
		// a run of terminators ("?!", "...", "።።")
		for i < n {
			r2, s2 := decode(text, i)
			t2 := terminator(r2)
			if t2 == termNone {
				break
			}
			if t2 > t {
				t = t2
			}
			i += s2
		}
		for i < n {
			r2, s2 := decode(text, i)
			if !closer(r2) {
				break
			}
			i += s2
		}
		if !sentenceEnds(text, start, termAt, i, t) {
			continue
		}
		if end := trimRight(text, start, i); end > start {
			if !fn(Span{start, end}) {
				return
			}
		}
		start = skipSpace(text, i)
		i = start
	}
	if end := trimRight(text, start, n); end > start {
		fn(Span{start, end})
	}
}

// sentenceEnds decides whether the terminator run text[termAt:after] closes the sentence
// that began at start.
func sentenceEnds(text string, start, termAt, after, t int) bool {
	if after >= len(text) {
		return true
	}
	if t == termFinal {
		return true
	}
	next, _ := decode(text, after)
	if !unicode.IsSpace(next) {
		return false
	}
	if t == termStrong {
		return true
	}
	// A single period (not an ellipsis) after an abbreviation, an initial or before a
	// lowercase word does not end the sentence.
	j := skipSpace(text, after)
	if j < len(text) {
		r, _ := decode(text, j)
		if unicode.IsLower(r) {
			return false
		}
	}
	if after-termAt != 1 || text[termAt] != '.' {
		return true
	}
	w := termAt
	for w > start {
		r, s := utf8.DecodeLastRuneInString(text[:w])
		if unicode.IsSpace(r) || r == '(' || r == '"' || r == '“' {
			break
		}
		w -= s
	}
	word := text[w:termAt]
	if word == "" {
		return true
	}
	if r, s := utf8.DecodeRuneInString(word); s == len(word) && unicode.IsLetter(r) {
		return false // initial: "J. K. Rowling"
	}
	if abbreviations[word] {
		return false
	}
	if numberAbbreviations[word] && j < len(text) && text[j] >= '0' && text[j] <= '9' {
		return false
	}
	return true
}

func skipSpace(text string, i int) int {
	for i < len(text) {
		r, s := decode(text, i)
		if !unicode.IsSpace(r) {
			break
		}
		i += s
	}
	return i
}

func trimRight(text string, start, end int) int {
	for end > start {
		r, s := utf8.DecodeLastRuneInString(text[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		end -= s
	}
	return end
}

// Sentences returns an iterator over the sentence spans of text (see EachSentence).
func Sentences(text string) iter.Seq[Span] {
	return func(yield func(Span) bool) { EachSentence(text, yield) }
}

// CountSentences returns the number of sentences of text.
func CountSentences(text string) int {
	n := 0
	EachSentence(text, func(Span) bool { n++; return true })
	return n
}
