package fasttext

import (
	"fmt"
	"math"
	"strings"
)

// eos is the token fastText appends at the end of every line.
const eos = "</s>"

// labelPrefix marks label tokens. fastText does not store the -label training option in the
// model file and always uses the default when it classifies text.
const labelPrefix = "__label__"

// FNV-1a constants, as fastText uses them.
const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

// hashString is fastText's word hash: 32-bit FNV-1a, except that every byte is sign-extended
// (as a signed char) before the xor. Released models depend on this quirk, so bytes >= 0x80
// must hash as 0xFFFFFFxx.
func hashString(s string) uint32 {
	h := uint32(fnvOffset)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(int32(int8(s[i])))) * fnvPrime
	}
	return h
}

// isSpace lists the bytes fastText's reader splits words on.
var isSpace = [256]bool{' ': true, '\n': true, '\r': true, '\t': true, '\v': true, '\f': true, 0: true}

// dictionary is the vocabulary part of a model: words then labels, with fastText's rules for
// turning a token into input-matrix rows.
type dictionary struct {
	nwords  int32
	nlabels int32
	ntokens int64

	arena  []byte  // entry strings, back to back
	ents   []entry // per entry: its string in arena and its n-gram rows in subIDs
	counts []int64
	table  []slot // open addressing on the entry hashes; len is a power of two

	bucket     int32
	minn, maxn int32
	wordNgrams int32

	// pruneSize is -1 for an unpruned model, else the number of kept n-gram buckets, which
	// prune maps to their row (minus nwords) in the pruned input matrix.
	pruneSize int64
	prune     map[int32]int32

	// subIDs holds the character n-gram rows of every vocabulary word, precomputed when the
	// model uses them (maxn > 0).
	subIDs []int32
}

// entry locates a dictionary entry's string and precomputed n-gram rows. The offsets are
// 32-bit (the loader checks the sizes), to keep the entries small and cache-friendly.
type entry struct {
	off, end       uint32 // arena[off:end]
	subOff, subEnd uint32 // subIDs[subOff:subEnd]
}

// slot is a hash-table cell: an entry id (-1 for empty) with the entry's hash and where
// its string is in the arena, so a probe touches one cache line until it compares strings.
type slot struct {
	hash     uint32
	id       int32
	off, end uint32
}

func (d *dictionary) size() int32 { return d.nwords + d.nlabels }

func (d *dictionary) word(i int32) string {
	e := d.ents[i]
	return string(d.arena[e.off:e.end])
}

// buildTable indexes the entries. As in fastText, when two entries hold the same string the
// later one wins.
func (d *dictionary) buildTable() {
	n := len(d.ents)
	tsize := 1
	for tsize < 2*n+1 {
		tsize <<= 1
	}
	d.table = make([]slot, tsize)
	adviseHugePages(d.table)
	for i := range d.table {
		d.table[i].id = -1
	}
	mask := uint32(tsize - 1)
	for i := range d.ents {
		w := d.word(int32(i))
		h := hashString(w)
		for p := h & mask; ; p = (p + 1) & mask {
			s := d.table[p]
			if s.id < 0 || (s.hash == h && d.word(s.id) == w) {
				e := d.ents[i]
				d.table[p] = slot{hash: h, id: int32(i), off: e.off, end: e.end}
				break
			}
		}
	}
}

// find returns the entry id of tok (whose hash is h), or -1.
func (d *dictionary) find(tok string, h uint32) int32 {
	mask := uint32(len(d.table) - 1)
	for p := h & mask; ; p = (p + 1) & mask {
		s := d.table[p]
		if s.id < 0 {
			return -1
		}
		if s.hash == h && string(d.arena[s.off:s.end]) == tok {
			return s.id
		}
	}
}

// pushHash appends the input row of n-gram bucket id, if the (possibly pruned) model has one.
func (d *dictionary) pushHash(dst []int32, id int32) []int32 {
	if d.pruneSize == 0 || id < 0 {
		return dst
	}
	if d.pruneSize > 0 {
		v, ok := d.prune[id]
		if !ok {
			return dst
		}
		id = v
	}
	return append(dst, d.nwords+id)
}

// appendSubwords appends the rows of the character n-grams of w, which must already carry the
// "<" and ">" boundary markers. An n-gram is n UTF-8 characters (a lead byte and its
// continuation bytes; invalid sequences count byte by byte as fastText does), minn <= n <= maxn,
// except the lone markers. minn and maxn compare as unsigned, as in fastText.
func (d *dictionary) appendSubwords(dst []int32, w []byte) []int32 {
	maxn := uint64(int64(d.maxn))
	minn := uint64(int64(d.minn))
	bucket := uint32(d.bucket)
	if bucket == 0 {
		return dst // only reachable for models without n-grams (checked at load)
	}
	for i := 0; i < len(w); i++ {
		if w[i]&0xC0 == 0x80 {
			continue
		}
		h := uint32(fnvOffset)
		j := i
		for n := uint64(1); j < len(w) && n <= maxn; n++ {
			h = (h ^ uint32(int32(int8(w[j])))) * fnvPrime
			j++
			for j < len(w) && w[j]&0xC0 == 0x80 {
				h = (h ^ uint32(int32(int8(w[j])))) * fnvPrime
				j++
			}
			if n >= minn && !(n == 1 && (i == 0 || j == len(w))) {
				dst = d.pushHash(dst, int32(h%bucket))
			}
		}
	}
	return dst
}

// initSubwords precomputes the character n-gram rows of every vocabulary word.
func (d *dictionary) initSubwords() error {
	if d.maxn <= 0 {
		return nil
	}
	var buf []byte
	for i := int32(0); i < d.nwords; i++ {
		e := &d.ents[i]
		e.subOff = uint32(len(d.subIDs))
		if w := d.arena[e.off:e.end]; string(w) != eos {
			buf = append(append(append(buf[:0], '<'), w...), '>')
			d.subIDs = d.appendSubwords(d.subIDs, buf)
		}
		if uint64(len(d.subIDs)) > math.MaxUint32 {
			return fmt.Errorf("the vocabulary has more than %d character n-grams", uint32(math.MaxUint32))
		}
		e.subEnd = uint32(len(d.subIDs))
	}
	return nil
}

// feats collects a text's features for prediction: rows added one by one (ids), and
// vocabulary words whose summed rows are precomputed (words), standing for nrows rows.
type feats struct {
	ids    []int32
	words  []int32
	nrows  int
	hashes []int32
	buf    []byte
}

func (f *feats) reset() {
	f.ids, f.words, f.nrows, f.hashes = f.ids[:0], f.words[:0], 0, f.hashes[:0]
}

// addToken adds the input rows of one token and records its hash for word n-grams,
// following fastText's Dictionary::getLine for supervised models: a vocabulary word gives its
// own row plus its character n-grams; an unknown word its character n-grams only (none for
// EOS); labels, known or not, give nothing and are left out of word n-grams. A vocabulary
// word with a precomputed vector (an id below len(wordRows), which holds each such word's
// row count) goes to f.words as that one vector instead of its rows.
func (d *dictionary) addToken(f *feats, tok string, wordRows []uint32) {
	nvec := int32(len(wordRows))
	h := hashString(tok)
	wid := d.find(tok, h)
	if wid >= d.nwords {
		return // a label
	}
	switch {
	case wid >= 0 && wid < nvec:
		f.words = append(f.words, wid)
		f.nrows += int(wordRows[wid])
	case wid >= 0:
		f.ids = append(f.ids, wid)
		if d.maxn > 0 {
			e := d.ents[wid]
			f.ids = append(f.ids, d.subIDs[e.subOff:e.subEnd]...)
		}
	default:
		if strings.HasPrefix(tok, labelPrefix) {
			return
		}
		if tok != eos {
			f.buf = append(append(append(f.buf[:0], '<'), tok...), '>')
			f.ids = d.appendSubwords(f.ids, f.buf)
		}
	}
	f.hashes = append(f.hashes, int32(h))
}

// appendWordNgrams appends the rows of the word n-grams (2..wordNgrams words) of a line whose
// token hashes are given. Hashes are sign-extended from int32 to uint64, as in fastText.
func (d *dictionary) appendWordNgrams(ids, hashes []int32) []int32 {
	n := int(d.wordNgrams)
	if n <= 1 || d.bucket <= 0 {
		return ids
	}
	bucket := uint64(d.bucket)
	for i := range hashes {
		h := uint64(int64(hashes[i]))
		for j := i + 1; j < len(hashes) && j < i+n; j++ {
			h = h*116049371 + uint64(int64(hashes[j]))
			ids = d.pushHash(ids, int32(h%bucket))
		}
	}
	return ids
}
