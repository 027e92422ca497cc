package minhash

import (
	"fmt"
	"math/bits"
	"slices"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/text/unicode/norm"

	"github.com/sieve-data/sieve/lang"
)

// ShingleMode chooses what a shingle is made of.
type ShingleMode uint8

const (
	// Auto uses character n-grams for text whose dominant script is written without spaces
	// (lang.SpacelessScript) and word n-grams otherwise.
	Auto ShingleMode = iota
	// WordShingles are n consecutive words.
	WordShingles
	// CharShingles are n consecutive characters of the normalised text (words separated by
	// one space, no space between the letters of scripts written without spaces).
	CharShingles
)

// ParseShingleMode parses "auto", "word" or "char".
func ParseShingleMode(s string) (ShingleMode, error) {
	switch s {
	case "auto", "":
		return Auto, nil
	case "word":
		return WordShingles, nil
	case "char":
		return CharShingles, nil
	}
	return Auto, fmt.Errorf("must be one of auto, word, char; got %q", s)
}

func (m ShingleMode) String() string {
	switch m {
	case WordShingles:
		return "word"
	case CharShingles:
		return "char"
	}
	return "auto"
}

// ShingleOptions configures shingling. The zero value means Auto with 5-word and 5-character
// shingles.
type ShingleOptions struct {
	Mode  ShingleMode
	WordN int // words per shingle; 0 means 5
	CharN int // characters per shingle; 0 means 5
}

func (o ShingleOptions) withDefaults() ShingleOptions {
	if o.WordN <= 0 {
		o.WordN = 5
	}
	if o.CharN <= 0 {
		o.CharN = 5
	}
	return o
}

// Shingler turns text into shingle hashes. Normalisation: Unicode NFKC, lowercase,
// punctuation removed (words come from lang.EachWord, so punctuation and symbols separate
// words and apostrophes, hyphens and joiners inside a word are dropped), every run of digits
// folded to one "0", white space collapsed. A Shingler reuses its buffers: it is not safe
// for concurrent use (use one per goroutine) and the slice it returns is valid until the
// next call.
type Shingler struct {
	opt   ShingleOptions
	nfkc  []byte
	units []uint64
	out   []uint64
	fold  []byte
}

// NewShingler returns a Shingler with the given options.
func NewShingler(opt ShingleOptions) *Shingler {
	return &Shingler{opt: opt.withDefaults()}
}

// Options returns the options in effect (defaults filled in).
func (s *Shingler) Options() ShingleOptions { return s.opt }

// ModeFor returns the shingle mode used for a text whose script (ISO 15924) is script;
// an empty script is detected from the text.
func (s *Shingler) ModeFor(text, script string) ShingleMode {
	if s.opt.Mode != Auto {
		return s.opt.Mode
	}
	if script == "" {
		script, _ = lang.DetectScript(text)
	}
	if lang.SpacelessScript(script) {
		return CharShingles
	}
	return WordShingles
}

// Shingles returns the hashes of the shingles of text (with repeats, in text order). script
// is the document's ISO 15924 script when known ("" detects it). Text with fewer units than
// the shingle size gives one shingle of all its units; text without words gives none.
func (s *Shingler) Shingles(text, script string) []uint64 {
	mode := s.ModeFor(text, script)
	text = s.normalize(text)
	s.units = s.units[:0]
	n := s.opt.WordN
	if mode == CharShingles {
		n = s.opt.CharN
		s.charUnits(text)
	} else {
		s.wordUnits(text)
	}
	s.out = s.out[:0]
	u := s.units
	if len(u) == 0 {
		return s.out
	}
	if len(u) < n {
		n = len(u)
	}
	seed := uint64(n)*0x9e3779b97f4a7c15 ^ uint64(mode)
	for i := 0; i+n <= len(u); i++ {
		h := seed
		for _, v := range u[i : i+n] {
			h = bits.RotateLeft64(h, 27)*0x100000001b3 ^ v
		}
		s.out = append(s.out, mix64(h))
	}
	return s.out
}

// normalize applies NFKC when the text is not already in that form. The returned string
// aliases s.nfkc until the next call.
func (s *Shingler) normalize(text string) string {
	if folds().isNFKC(text) {
		return text
	}
	s.nfkc = norm.NFKC.AppendString(s.nfkc[:0], text)
	if len(s.nfkc) == 0 {
		return ""
	}
	return unsafe.String(&s.nfkc[0], len(s.nfkc))
}

// foldToken appends the folded form of a token (lowercase, no joiners, digit runs as "0")
// to s.fold.
func (s *Shingler) foldToken(tok string) {
	tab := folds()
	inDigits := false
	for i := 0; i < len(tok); {
		c := tok[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= 'a' && c <= 'z':
				s.fold = append(s.fold, c)
				inDigits = false
			case c >= 'A' && c <= 'Z':
				s.fold = append(s.fold, c+'a'-'A')
				inDigits = false
			case c >= '0' && c <= '9':
				if !inDigits {
					s.fold = append(s.fold, '0')
				}
				inDigits = true
			default: // apostrophe, hyphen, "." and "," inside numbers
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(tok[i:])
		i += size
		f := uint16(foldSlow)
		if r < 0x10000 {
			f = tab.lower[r]
		}
		switch f {
		case foldDrop: // joiners: ’ ‘ ‐ ‑ · ZWJ ZWNJ soft hyphen
		case foldDigit:
			if !inDigits {
				s.fold = append(s.fold, '0')
			}
			inDigits = true
		case foldSlow:
			switch {
			case unicode.IsDigit(r):
				if !inDigits {
					s.fold = append(s.fold, '0')
				}
				inDigits = true
			case unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r):
				s.fold = utf8.AppendRune(s.fold, unicode.ToLower(r))
				inDigits = false
			}
		default:
			s.fold = utf8.AppendRune(s.fold, rune(f))
			inDigits = false
		}
	}
}

// wordUnits hashes the words of text. A run of adjacent letters of a script written without
// spaces counts as one word, as a whitespace tokenizer would see it: that is what word
// shingles mean for such text (and why Auto uses characters there).
func (s *Shingler) wordUnits(text string) {
	runEnd := -1
	emit := func() {
		if len(s.fold) > 0 {
			s.units = append(s.units, xxhash.Sum64(s.fold))
		}
		s.fold = s.fold[:0]
	}
	s.fold = s.fold[:0]
	lang.EachWord(text, func(t lang.Token) bool {
		if t.Kind == lang.Char && t.Start == runEnd {
			s.foldToken(text[t.Start:t.End])
			runEnd = t.End
			return true
		}
		emit()
		s.foldToken(text[t.Start:t.End])
		runEnd = -1
		if t.Kind == lang.Char {
			runEnd = t.End
		}
		return true
	})
	emit()
}

const spaceUnit uint64 = 0x9e3779b97f4a7c15 ^ 0x20

func (s *Shingler) charUnits(text string) {
	prevWord := false
	first := true
	lang.EachWord(text, func(t lang.Token) bool {
		s.fold = s.fold[:0]
		s.foldToken(text[t.Start:t.End])
		if len(s.fold) == 0 {
			return true
		}
		isWord := t.Kind == lang.Word
		if !first && (isWord || prevWord) {
			s.units = append(s.units, spaceUnit)
		}
		first = false
		prevWord = isWord
		for _, r := range string(s.fold) {
			s.units = append(s.units, mix64(uint64(r)+0x517cc1b727220a95))
		}
		return true
	})
}

// Signer computes signatures of documents: shingling plus MinHash. It is not safe for
// concurrent use; make one per goroutine (they may share a Hasher).
type Signer struct {
	H  *Hasher
	Sh *Shingler
}

// NewSigner returns a Signer for the given parameters and shingling options.
func NewSigner(p Params, opt ShingleOptions) (*Signer, error) {
	h, err := NewHasher(p)
	if err != nil {
		return nil, err
	}
	return &Signer{H: h, Sh: NewShingler(opt)}, nil
}

// Sign writes the signature of text to sig (length NumHashes) and returns the number of
// shingles; 0 means the text has no words and sig is the empty-set signature.
func (s *Signer) Sign(text, script string, sig []uint64) int {
	sh := s.Sh.Shingles(text, script)
	s.H.Reset(sig)
	s.H.AddBatch(sig, sh)
	return len(sh)
}

// ShingleSet returns the distinct shingle hashes of text, sorted.
func ShingleSet(s *Shingler, text, script string) []uint64 {
	sh := slices.Clone(s.Shingles(text, script))
	slices.Sort(sh)
	return slices.Compact(sh)
}

// SetJaccard returns the Jaccard similarity of two sorted sets of distinct hashes; two
// empty sets have similarity 1.
func SetJaccard(a, b []uint64) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	inter, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// ExactJaccard returns the Jaccard similarity of the shingle sets of a and b (what MinHash
// estimates).
func ExactJaccard(s *Shingler, a, b, script string) float64 {
	return SetJaccard(ShingleSet(s, a, script), ShingleSet(s, b, script))
}
