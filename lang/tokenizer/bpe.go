package tokenizer

import (
	"hash/maphash"
	"math"
	"unicode/utf8"
)

// merge is the result of merging a pair of tokens: its priority (the line of the merge in
// the merges list, lower first) and the id of the merged token.
type merge struct{ rank, id int32 }

const noRank = math.MaxInt32

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func (t *Tokenizer) pairRank(a, b int32) (int32, int32) {
	if m, ok := t.merges.get(a, b); ok {
		return m.rank, m.id
	}
	return noRank, -1
}

// bpeWork holds the buffers of one word's merging, reused from word to word.
type bpeWork struct {
	ids   []int32
	ranks []int32 // linear: rank of the pair (ids[i], ids[i+1])
	mids  []int32 // linear: id the pair (ids[i], ids[i+1]) merges into
	next  []int32 // heap: linked list of live symbols
	prev  []int32
	heap  []heapItem
}

// linearMax is the longest word merged by scanning for the best pair; longer words use a
// heap (a Thai or Chinese piece can be hundreds of symbols long).
const linearMax = 48

// encodeWord appends the token ids of one pre-tokenized piece to out. It follows Hugging
// Face's BPE: characters (or bytes, for byte-level tokenizers) become symbols, unknown
// ones fall back to <0xNN> byte tokens or the unk token, then the pair with the lowest
// merge rank is merged, leftmost first, until no pair of neighbours has a merge.
func (t *Tokenizer) encodeWord(w *bpeWork, word []byte, out []int32) []int32 {
	if len(word) == 0 {
		return out
	}
	if t.ignoreMerges && t.maybeInVocab(word) {
		if id, ok := t.vocab[string(word)]; ok {
			return append(out, id)
		}
	}
	w.ids = t.initSymbols(word, w.ids[:0])
	if len(w.ids) <= linearMax {
		t.mergeLinear(w)
		return append(out, w.ids...)
	}
	return t.mergeHeap(w, out)
}

// initSymbols appends the initial symbols of word: one per byte for byte-level tokenizers,
// one per character otherwise, with byte fallback and unk as in HF (a pending unk is only
// written when a known character or the end comes, and fuse_unk joins a run of them).
func (t *Tokenizer) initSymbols(word []byte, syms []int32) []int32 {
	pendingUnk := false
	var one [utf8.UTFMax]byte
	for i := 0; i < len(word); {
		var ch []byte
		var id int32 = -1
		if t.byteLevel {
			b := word[i]
			i++
			if id = t.byteID[b]; id < 0 {
				n := utf8.EncodeRune(one[:], byteToRune[b])
				ch = one[:n]
			}
		} else {
			r, n := utf8.DecodeRune(word[i:])
			ch = word[i : i+n]
			i += n
			if r < 0x10000 && n > 1 || r < utf8.RuneSelf {
				id = t.runeID[r] // valid BMP character: no map lookup
			} else if v, ok := t.vocab[string(ch)]; ok {
				id = v
			}
		}
		if id >= 0 {
			if pendingUnk {
				syms = append(syms, t.unkID)
				pendingUnk = false
			}
			syms = append(syms, id)
			continue
		}
		if t.byteFallback && t.hasByteTokens(ch) {
			for _, b := range ch {
				syms = append(syms, t.byteTok[b])
			}
			continue
		}
		if t.unkID >= 0 {
			if pendingUnk && !t.fuseUnk {
				syms = append(syms, t.unkID)
			}
			pendingUnk = true
		}
		// Neither byte tokens nor unk: HF drops the character; so does this.
	}
	if pendingUnk {
		syms = append(syms, t.unkID)
	}
	return syms
}

// maybeInVocab reports whether word may be a vocabulary string: false means it is not
// (a filter of the vocabulary's hashes, small enough to stay in the processor's cache,
// answers most lookups of words the vocabulary does not have).
func (t *Tokenizer) maybeInVocab(word []byte) bool {
	h := maphash.Bytes(t.seed, word)
	return t.vocabBits[(h>>6)&uint64(len(t.vocabBits)-1)]&(1<<(h&63)) != 0
}

func (t *Tokenizer) hasByteTokens(ch []byte) bool {
	for _, b := range ch {
		if t.byteTok[b] < 0 {
			return false
		}
	}
	return true
}

// mergeLinear merges w.ids in place by scanning for the best pair each time (tiktoken's way).
func (t *Tokenizer) mergeLinear(w *bpeWork) {
	ids := w.ids
	if len(ids) < 2 {
		return
	}
	ranks, mids := w.ranks[:0], w.mids[:0]
	for i := 0; i+1 < len(ids); i++ {
		r, m := t.pairRank(ids[i], ids[i+1])
		ranks = append(ranks, r)
		mids = append(mids, m)
	}
	for len(ids) > 1 {
		best, k := int32(noRank), -1
		for i, r := range ranks {
			if r < best {
				best, k = r, i
			}
		}
		if k < 0 {
			break
		}
		ids[k] = mids[k]
		ids = append(ids[:k+1], ids[k+2:]...)
		ranks = append(ranks[:k], ranks[k+1:]...)
		mids = append(mids[:k], mids[k+1:]...)
		if k > 0 {
			ranks[k-1], mids[k-1] = t.pairRank(ids[k-1], ids[k])
		}
		if k < len(ranks) {
			ranks[k], mids[k] = t.pairRank(ids[k], ids[k+1])
		}
	}
	w.ids, w.ranks, w.mids = ids, ranks, mids
}

type heapItem struct{ rank, pos, id int32 }

func (a heapItem) less(b heapItem) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

// mergeHeap merges a long word with a priority queue of candidate pairs ordered by rank,
// then position, as HF does; stale entries are skipped when popped. It appends the result.
func (t *Tokenizer) mergeHeap(w *bpeWork, out []int32) []int32 {
	ids := w.ids
	n := len(ids)
	next, prev := w.next[:0], w.prev[:0]
	for i := range n {
		next = append(next, int32(i+1))
		prev = append(prev, int32(i-1))
	}
	next[n-1] = -1
	h := w.heap[:0]
	for i := 0; i+1 < n; i++ {
		if r, m := t.pairRank(ids[i], ids[i+1]); r != noRank {
			h = heapPush(h, heapItem{r, int32(i), m})
		}
	}
	for len(h) > 0 {
		var top heapItem
		top, h = heapPop(h)
		p := top.pos
		q := next[p]
		if ids[p] < 0 || q < 0 {
			continue
		}
		if r, m := t.pairRank(ids[p], ids[q]); r != top.rank || m != top.id {
			continue // the pair changed since this entry was queued
		}
		ids[p] = top.id
		ids[q] = -1
		next[p] = next[q]
		if next[p] >= 0 {
			prev[next[p]] = p
		}
		if pp := prev[p]; pp >= 0 {
			if r, m := t.pairRank(ids[pp], ids[p]); r != noRank {
				h = heapPush(h, heapItem{r, pp, m})
			}
		}
		if nn := next[p]; nn >= 0 {
			if r, m := t.pairRank(ids[p], ids[nn]); r != noRank {
				h = heapPush(h, heapItem{r, p, m})
			}
		}
	}
	for i := int32(0); i >= 0; i = next[i] {
		out = append(out, ids[i])
	}
	w.next, w.prev, w.heap = next, prev, h
	return out
}

func heapPush(h []heapItem, it heapItem) []heapItem {
	h = append(h, it)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

func heapPop(h []heapItem) (heapItem, []heapItem) {
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && h[r].less(h[l]) {
			m = r
		}
		if !h[m].less(h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return top, h
}
