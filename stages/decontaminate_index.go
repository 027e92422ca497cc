package stages

import (
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/text/unicode/norm"

	"github.com/sieve-data/sieve/lang"
)

// The n-gram index of the decontaminate stage.
//
// A text becomes a sequence of units: the words of lang.EachWord (scripts written with
// spaces) and the graphemes of scripts written without them (Thai, Lao, Khmer, Myanmar,
// Tibetan, Han, kana), after NFC normalisation, each lower-cased and stripped of everything
// that is not a letter, mark or digit (apostrophes and hyphens inside words, "." and ","
// inside numbers; soft hyphens and zero width joiners are dropped), and hashed with xxhash. An n-gram of L units is keyed by a polynomial
// hash of its unit hashes (computed for every window in O(1) from prefix sums) mixed with L,
// so n-grams of different lengths never share a key.

const (
	gramBase   = 0x9e3779b97f4a7c15 // odd multiplier of the polynomial window hash
	gramLenMix = 0xc2b2ae3d27d4eb4f // mixes the window length into its key
	maxGramLen = 64                 // longest n-gram; short-text lengths fit the 64 bits of an anchor
)

// windowKey returns the key of a window from its polynomial hash and length.
func windowKey(window uint64, n int) uint64 { return splitmix(window + uint64(n)*gramLenMix) }

// splitmix is the splitmix64 finaliser: a bijection that spreads every input bit.
func splitmix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

// gramPowers returns gramBase^i for i in 0..maxGramLen.
func gramPowers() []uint64 {
	p := make([]uint64, maxGramLen+1)
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * gramBase
	}
	return p
}

// unitScratch holds the buffers of one text's units; reused, it makes tokenising allocate
// nothing once the buffers have grown to the largest text.
type unitScratch struct {
	tab    *unitFoldTable // nil: unitFolds()
	iter   norm.Iter
	nfc    []byte
	fold   []byte
	hashes []uint64 // unit hashes
	prefix []uint64 // prefix[i] = polynomial hash of hashes[:i]
	starts []int32  // byte range of each unit in the text
	ends   []int32
	words  int // units that are words
	chars  int // units that are graphemes of a script without spaces
}

// units tokenises text into s (see the comment at the top of this file). A word holding an
// apostrophe or a hyphen ("ilé-ẹ̀kọ́", "Jami'ar") gives a unit for each part, so that a
// hyphen written for a space, or another apostrophe, changes nothing. Words are brought to
// NFC one by one, only those holding a rune that may change under NFC; the units of such a
// word all span the whole word.
func (s *unitScratch) units(text string) {
	s.hashes, s.starts, s.ends = s.hashes[:0], s.starts[:0], s.ends[:0]
	s.words, s.chars = 0, 0
	tab := s.tab
	if tab == nil {
		tab = unitFolds()
	}
	lang.EachWord(text, func(t lang.Token) bool {
		if !s.foldWord(tab, text[t.Start:t.End], t, true) {
			s.foldWord(tab, s.normalize(text[t.Start:t.End]), t, false)
		}
		return true
	})
	s.prefix = append(s.prefix[:0], 0)
	var h uint64
	for _, u := range s.hashes {
		h = h*gramBase + u
		s.prefix = append(s.prefix, h)
	}
}

// foldWord adds the units of w, the text of token t. With check, it gives up, adding
// nothing, when w holds a rune that may not be in NFC, and returns false. Without, w is t
// brought to NFC, and its units all span t.
func (s *unitScratch) foldWord(tab *unitFoldTable, w string, t lang.Token, check bool) bool {
	n0, words0, chars0 := len(s.hashes), s.words, s.chars
	giveUp := func() bool {
		s.hashes, s.starts, s.ends = s.hashes[:n0], s.starts[:n0], s.ends[:n0]
		s.words, s.chars = words0, chars0
		return false
	}
	s.fold = s.fold[:0]
	start := 0
	for i := 0; i < len(w); {
		var f rune
		size := 1
		if c := w[i]; c < utf8.RuneSelf {
			f = rune(tab.fold[c])
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(w[i:])
			switch {
			case r < 0x10000:
				if check && tab.stable[r>>6]&(1<<(r&63)) == 0 {
					return giveUp()
				}
				if f = rune(tab.fold[r]); f == unitFoldSlow {
					f, _ = tab.slow(r)
				}
			case check && norm.NFC.QuickSpanString(w[i:]) != len(w)-i:
				return giveUp()
			default:
				f, _ = tab.slow(r)
			}
		}
		switch {
		case f == 0:
			s.emitWord(t, check, start, i)
		case f == unitFoldIgnore:
		case len(s.fold) == 0:
			start = i
			fallthrough
		default:
			if f < utf8.RuneSelf {
				s.fold = append(s.fold, byte(f))
			} else {
				s.fold = utf8.AppendRune(s.fold, f)
			}
		}
		i += size
	}
	s.emitWord(t, check, start, len(w))
	return true
}

// emitWord ends the unit being folded, if any, at byte end of token t's text (inText), or
// of its NFC form.
func (s *unitScratch) emitWord(t lang.Token, inText bool, start, end int) {
	if inText {
		s.emit(t.Start+start, t.Start+end, t.Kind == lang.Char)
	} else {
		s.emit(t.Start, t.End, t.Kind == lang.Char)
	}
}

// emit ends the unit being folded, if any, at byte end of the text.
func (s *unitScratch) emit(start, end int, char bool) {
	if len(s.fold) == 0 {
		return
	}
	if char {
		s.chars++
	} else {
		s.words++
	}
	s.hashes = append(s.hashes, xxhash.Sum64(s.fold))
	s.starts = append(s.starts, int32(start))
	s.ends = append(s.ends, int32(end))
	s.fold = s.fold[:0]
}

// window returns the key of the n units starting at unit i; pow is gramPowers().
func (s *unitScratch) window(i, n int, pow []uint64) uint64 {
	return windowKey(s.prefix[i+n]-s.prefix[i]*pow[n], n)
}

// charMode reports whether the text is mostly in scripts written without spaces, so that
// its n-grams are counted in graphemes.
func (s *unitScratch) charMode() bool { return s.chars > s.words }

// unitFoldTable gives, for every rune of the Basic Multilingual Plane, its form in a unit
// (foldRune: 0 for a separator, unitFoldIgnore for nothing, unitFoldSlow when it must be
// computed) and whether it is
// NFC-stable: its own NFC form, and never combining with the rune before it. A word made
// of stable runes is in NFC.
type unitFoldTable struct {
	fold   [0x10000]uint16
	stable [0x10000 / 64]uint64
	slow   func(rune) (rune, bool) // the fold the table holds: foldRune or foldRuneNoMarks
}

const (
	unitFoldSlow   = 0xFFFF
	unitFoldIgnore = 0xFFFE // a rune that is left out of the unit (see foldRune)
)

// unitFolds returns the table of foldRune; unitFoldsNoMarks that of foldRuneNoMarks.
var (
	unitFolds        = sync.OnceValue(func() *unitFoldTable { return buildUnitFolds(foldRune) })
	unitFoldsNoMarks = sync.OnceValue(func() *unitFoldTable { return buildUnitFolds(foldRuneNoMarks) })
)

func buildUnitFolds(foldRune func(rune) (rune, bool)) *unitFoldTable {
	t := &unitFoldTable{slow: foldRune}
	var buf [utf8.UTFMax]byte
	for r := rune(0); r < 0x10000; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue // surrogates: never decoded
		}
		if f, ok := foldRune(r); ok {
			t.fold[r] = uint16(unitFoldSlow)
			if f < 0x10000 && f != 0 && f != unitFoldSlow {
				t.fold[r] = uint16(f)
			}
		}
		s := string(buf[:utf8.EncodeRune(buf[:], r)])
		if p := norm.NFC.PropertiesString(s); p.BoundaryBefore() && p.CCC() == 0 && norm.NFC.IsNormalString(s) {
			t.stable[r>>6] |= 1 << (r & 63)
		}
	}
	return t
}

// foldRuneNoMarks is foldRune that also drops the diacritics of Latin, Greek and Cyrillic
// letters (fold_diacritics): combining marks of the diacritical-mark blocks are left out,
// and a precomposed letter is its base letter ("ẹ̀" and "é" are "e"), so a copy written
// without tone marks or accents matches. Marks of other scripts (Indic vowel signs, Arabic
// harakat) are kept.
func foldRuneNoMarks(r rune) (rune, bool) {
	if isDiacritic(r) {
		return unitFoldIgnore, true
	}
	if r >= 0xC0 && unicode.IsLetter(r) {
		d := norm.NFD.String(string(r))
		base, size := utf8.DecodeRuneInString(d)
		marks := size < len(d)
		for _, m := range d[size:] {
			marks = marks && isDiacritic(m)
		}
		if marks {
			return unicode.ToLower(base), true
		}
	}
	return foldRune(r)
}

// isDiacritic reports whether r is in a block of combining diacritical marks.
func isDiacritic(r rune) bool {
	return 0x0300 <= r && r <= 0x036F || 0x1AB0 <= r && r <= 0x1AFF || 0x1DC0 <= r && r <= 0x1DFF ||
		0x20D0 <= r && r <= 0x20FF || 0xFE20 <= r && r <= 0xFE2F
}

// normalize returns w in NFC; the result aliases s.nfc until the next call. norm.Iter, held
// in the scratch, allocates nothing, unlike norm.NFC.String.
func (s *unitScratch) normalize(w string) string {
	s.nfc = s.nfc[:0]
	s.iter.InitString(norm.NFC, w)
	for !s.iter.Done() {
		s.nfc = append(s.nfc, s.iter.Next()...)
	}
	if len(s.nfc) == 0 {
		return ""
	}
	return unsafe.String(&s.nfc[0], len(s.nfc))
}

// foldRune returns the form a rune takes in a unit: letters lower-cased (a final sigma as a
// sigma), marks and digits as they are; unitFoldIgnore for the soft hyphen and the zero width
// joiner, invisible characters that a copy may add or drop inside a word (HTML &shy;, Sinhala
// and Indic conjuncts). It reports false for everything else (apostrophes, hyphens, "." and
// "," inside numbers), which separates units.
func foldRune(r rune) (rune, bool) {
	if r < utf8.RuneSelf {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			return r, true
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A', true
		}
		return 0, false
	}
	switch {
	case r == 'ς':
		return 'σ', true
	case r == 0x00AD, r == 0x200D:
		return unitFoldIgnore, true
	case r == 'ʻ', r == 'ʼ': // modifier letters (Lm) written for apostrophes and the ʻokina
		return 0, false
	case unicode.IsLetter(r):
		return unicode.ToLower(r), true
	case unicode.IsMark(r), unicode.IsNumber(r):
		return r, true
	}
	return 0, false
}

// gramEntry is an n-gram key with the reference text it was first seen in.
type gramEntry struct {
	key  uint64
	item uint32
}

// gramTable is a read-only set of n-gram keys with one value each. The keys are sorted; the
// top bits of a key pick a bucket of 32 to 64 keys, start gives each bucket's range, and
// since keys are uniform hashes a key's place inside its bucket is guessed from its next
// bits: a lookup reads one bucket bound (the bounds, 1/16 byte per key, stay in the cache)
// and one or two neighbouring cache lines of keys. It costs 8 bytes per key and the size of
// V per value.
type gramTable[V uint32 | uint64] struct {
	keys  []uint64
	vals  []V
	start []uint32
	bits  uint // log2 of the number of buckets
}

const keysPerBucket = 64

// newGramTable builds a table from keys sorted in increasing order, without repeats.
func newGramTable[V uint32 | uint64](keys []uint64, vals []V) gramTable[V] {
	t := gramTable[V]{keys: keys, vals: vals}
	for 1<<t.bits*keysPerBucket < len(keys) {
		t.bits++
	}
	buckets := 1 << t.bits
	t.start = make([]uint32, buckets+1)
	b := 0
	for i, k := range keys {
		for kb := int(t.bucket(k)); b < kb; {
			b++
			t.start[b] = uint32(i)
		}
	}
	for b < buckets {
		b++
		t.start[b] = uint32(len(keys))
	}
	return t
}

func (t *gramTable[V]) bucket(k uint64) uint64 {
	if t.bits == 0 {
		return 0
	}
	return k >> (64 - t.bits)
}

// find returns the index of key, or -1.
func (t *gramTable[V]) find(key uint64) int {
	if len(t.keys) == 0 {
		return -1
	}
	b := t.bucket(key)
	lo, hi := int(t.start[b]), int(t.start[b+1])
	if lo == hi {
		return -1
	}
	frac := key << t.bits >> 32 // where key falls in the bucket's range, in 1/2^32
	i := lo + int(uint64(hi-lo)*frac>>32)
	if t.keys[i] < key {
		for i++; i < hi && t.keys[i] < key; i++ {
		}
	} else {
		for ; i > lo && t.keys[i-1] >= key; i-- {
		}
	}
	if i < hi && t.keys[i] == key {
		return i
	}
	return -1
}

// bytes is the memory the table holds.
func (t *gramTable[V]) bytes() int64 {
	var v V
	return int64(cap(t.keys))*8 + int64(cap(t.vals))*int64(unsafe.Sizeof(v)) + int64(cap(t.start))*4
}

// gramSet gathers n-gram entries while the references are read. Entries go into chunks of
// at most chunk entries, each sorted and rid of repeated keys when full, and the chunks
// are merged into the table at the end: building holds the entries once (16 bytes each)
// plus the table, instead of a slice that grows by copying.
type gramSet struct {
	chunk  int
	sorted [][]gramEntry
	cur    []gramEntry
}

const gramChunk = 1 << 20

func (g *gramSet) add(key uint64, item uint32) {
	if len(g.cur) >= g.chunk {
		g.seal()
	}
	g.cur = append(g.cur, gramEntry{key, item})
}

// empty reports whether nothing was added.
func (g *gramSet) empty() bool { return len(g.cur) == 0 && len(g.sorted) == 0 }

func (g *gramSet) seal() {
	if len(g.cur) > 0 {
		g.sorted = append(g.sorted, sortUnique(g.cur))
	}
	g.cur = nil
}

// table merges the chunks into a table in which each key keeps its smallest item, and
// releases them.
func (g *gramSet) table() gramTable[uint32] {
	g.seal()
	n := mergeChunks(g.sorted, nil, nil)
	keys, items := make([]uint64, n), make([]uint32, n)
	mergeChunks(g.sorted, keys, items)
	g.sorted = nil
	return newGramTable(keys, items)
}

func entryLess(a, b gramEntry) bool { return a.key < b.key || a.key == b.key && a.item < b.item }

// sortUnique sorts entries by key, then item, and keeps the first entry of each key, in
// place.
func sortUnique(entries []gramEntry) []gramEntry {
	slices.SortFunc(entries, func(a, b gramEntry) int {
		switch {
		case entryLess(a, b):
			return -1
		case entryLess(b, a):
			return 1
		}
		return 0
	})
	n := 0
	for i := range entries {
		if n > 0 && entries[n-1].key == entries[i].key {
			continue
		}
		entries[n] = entries[i]
		n++
	}
	return entries[:n]
}

// mergeChunks merges sorted chunks, keeping the first entry of each key, into keys and
// items when they are not nil, and returns the number of distinct keys. The chunk heads
// are kept in a binary min-heap.
func mergeChunks(chunks [][]gramEntry, keys []uint64, items []uint32) int {
	pos := make([]int, len(chunks))
	heap := make([]int, 0, len(chunks))
	less := func(a, b int) bool { return entryLess(chunks[a][pos[a]], chunks[b][pos[b]]) }
	down := func(i int) {
		for {
			l, m := 2*i+1, i
			if l < len(heap) && less(heap[l], heap[m]) {
				m = l
			}
			if r := l + 1; r < len(heap) && less(heap[r], heap[m]) {
				m = r
			}
			if m == i {
				return
			}
			heap[i], heap[m] = heap[m], heap[i]
			i = m
		}
	}
	for c := range chunks {
		if len(chunks[c]) > 0 {
			heap = append(heap, c)
		}
	}
	for i := len(heap)/2 - 1; i >= 0; i-- {
		down(i)
	}
	n := 0
	var last uint64
	for len(heap) > 0 {
		c := heap[0]
		// the heap gives entries by key, then item: the first of a key has its smallest item
		if e := chunks[c][pos[c]]; n == 0 || e.key != last {
			if keys != nil {
				keys[n], items[n] = e.key, e.item
			}
			last = e.key
			n++
		}
		pos[c]++
		if pos[c] == len(chunks[c]) {
			heap[0] = heap[len(heap)-1]
			heap = heap[:len(heap)-1]
		}
		down(0)
	}
	return n
}
