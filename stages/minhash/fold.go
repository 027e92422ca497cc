package minhash

import (
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// foldTable maps every rune of the Basic Multilingual Plane to its folded form for
// shingling: lowercase for letters and marks, foldDigit for decimal digits, foldDrop for
// everything else (joiners, punctuation), foldSlow when the lowercase form is outside the
// BMP. nfkcStable marks runes that are their own NFKC form, have combining class 0 and never
// combine with a preceding rune: text made only of them is already in NFKC.
type foldTable struct {
	lower      [0x10000]uint16
	nfkcStable [0x10000 / 64]uint64
}

const (
	foldDrop  = 0
	foldDigit = 0xFFFE
	foldSlow  = 0xFFFF
)

var (
	foldOnce sync.Once
	foldTab  *foldTable
)

func folds() *foldTable {
	foldOnce.Do(func() {
		t := new(foldTable)
		var buf [utf8.UTFMax]byte
		for r := rune(0); r < 0x10000; r++ {
			switch {
			case unicode.IsDigit(r):
				t.lower[r] = foldDigit
			case unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r):
				l := unicode.ToLower(r)
				if l >= 0xFFFE || l <= 0 {
					t.lower[r] = foldSlow
				} else {
					t.lower[r] = uint16(l)
				}
			default:
				t.lower[r] = foldDrop
			}
			if r >= 0xD800 && r <= 0xDFFF {
				continue
			}
			s := string(buf[:utf8.EncodeRune(buf[:], r)])
			p := norm.NFKC.PropertiesString(s)
			if p.BoundaryBefore() && p.CCC() == 0 && norm.NFKC.String(s) == s {
				t.nfkcStable[r>>6] |= 1 << (r & 63)
			}
		}
		foldTab = t
	})
	return foldTab
}

// isNFKC reports, faster than norm.NFKC.IsNormalString for typical text, whether text is
// already in NFKC: it is when every rune is NFKC-stable (see foldTable). It falls back to
// the norm package when some rune is not.
func (t *foldTable) isNFKC(text string) bool {
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if r >= 0x10000 || t.nfkcStable[r>>6]&(1<<(r&63)) == 0 {
			return norm.NFKC.QuickSpanString(text) == len(text)
		}
		i += size
	}
	return true
}
