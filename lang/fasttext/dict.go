package fasttext

import "strings"

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

	arena  []byte   // entry strings, back to back
	offs   []int    // entry i is arena[offs[i]:offs[i+1]]
	hashes []uint32 // hashString of each entry
	counts []int64
	table  []int32 // open addressing on hashes, -1 = empty; len is a power of two

	bucket     int32
	minn, maxn int32
	wordNgrams int32

	// pruneSize is -1 for an unpruned model, else the number of kept n-gram buckets, which
	// prune maps to their row (minus nwords) in the pruned input matrix.
	pruneSize int64
	prune     map[int32]int32

	// subOffs/subIDs hold the character n-gram rows of every vocabulary word (CSR layout),
	// precomputed when the model uses them (maxn > 0).
	subOffs []int
	subIDs  []int32
}

func (d *dictionary) size() int32 { return d.nwords + d.nlabels }

func (d *dictionary) entry(i int32) string {
	return string(d.arena[d.offs[i]:d.offs[i+1]])
}

// buildTable indexes the entries. As in fastText, when two entries hold the same string the
// later one wins.
func (d *dictionary) buildTable() {
	n := int(d.size())
	tsize := 1
	for tsize < 2*n+1 {
		tsize <<= 1
	}
	d.table = make([]int32, tsize)
	for i := range d.table {
		d.table[i] = -1
	}
	mask := uint32(tsize - 1)
	for i := 0; i < n; i++ {
		h := d.hashes[i]
		w := d.arena[d.offs[i]:d.offs[i+1]]
		for p := h & mask; ; p = (p + 1) & mask {
			id := d.table[p]
			if id < 0 || (d.hashes[id] == h && string(d.arena[d.offs[id]:d.offs[id+1]]) == string(w)) {
				d.table[p] = int32(i)
				break
			}
		}
	}
}

// find returns the entry id of tok (whose hash is h), or -1.
func (d *dictionary) find(tok string, h uint32) int32 {
	mask := uint32(len(d.table) - 1)
	for p := h & mask; ; p = (p + 1) & mask {
		id := d.table[p]
		if id < 0 {
			return -1
		}
		if d.hashes[id] == h && string(d.arena[d.offs[id]:d.offs[id+1]]) == tok {
			return id
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
func (d *dictionary) initSubwords() {
	if d.maxn <= 0 {
		return
	}
	d.subOffs = make([]int, d.nwords+1)
	var buf []byte
	for i := int32(0); i < d.nwords; i++ {
		w := d.arena[d.offs[i]:d.offs[i+1]]
		if string(w) != eos {
			buf = append(append(append(buf[:0], '<'), w...), '>')
			d.subIDs = d.appendSubwords(d.subIDs, buf)
		}
		d.subOffs[i+1] = len(d.subIDs)
	}
}

// appendToken appends the input rows of one token and records its hash for word n-grams,
// following fastText's Dictionary::getLine for supervised models: a vocabulary word gives its
// own row plus its character n-grams; an unknown word its character n-grams only (none for
// EOS); labels, known or not, give nothing and are left out of word n-grams.
func (d *dictionary) appendToken(ids, hashes []int32, tok string, buf []byte) ([]int32, []int32, []byte) {
	h := hashString(tok)
	wid := d.find(tok, h)
	if wid >= d.nwords {
		return ids, hashes, buf // a label
	}
	if wid >= 0 {
		ids = append(ids, wid)
		if d.maxn > 0 {
			ids = append(ids, d.subIDs[d.subOffs[wid]:d.subOffs[wid+1]]...)
		}
	} else {
		if strings.HasPrefix(tok, labelPrefix) {
			return ids, hashes, buf
		}
		if tok != eos {
			buf = append(append(append(buf[:0], '<'), tok...), '>')
			ids = d.appendSubwords(ids, buf)
		}
	}
	return ids, append(hashes, int32(h)), buf
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
