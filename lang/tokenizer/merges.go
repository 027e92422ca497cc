package tokenizer

import "math/bits"

// mergeTable maps a pair of token ids to its merge: an open-addressing hash table with
// linear probing over one flat slice, so that a lookup is one multiply and, usually, one
// cache line. Merging is bound by these lookups on words the cache has not seen, and a
// Go map of half a million entries (Gemma 3) costs about twice as much per lookup.
type mergeTable struct {
	slots []mergeSlot
	shift uint8 // 64 - log2(len(slots))
	n     int
}

type mergeSlot struct {
	key uint64 // pairKey | occupied; 0 = empty
	val merge
}

const occupied = 1 << 63 // token ids are below 2^31, so pair keys never set this bit

func newMergeTable(n int) *mergeTable {
	size := 8
	for size*7 < n*10 { // load factor below 0.7
		size *= 2
	}
	return &mergeTable{slots: make([]mergeSlot, size), shift: uint8(64 - bits.TrailingZeros(uint(size)))}
}

func (m *mergeTable) slot(key uint64) uint64 { return (key * 0x9E3779B97F4A7C15) >> m.shift }

// put sets the merge of a pair; a later merge of the same pair replaces the earlier one,
// as in HF's map.
func (m *mergeTable) put(a, b int32, v merge) {
	key := pairKey(a, b) | occupied
	mask := uint64(len(m.slots) - 1)
	for i := m.slot(key); ; i = (i + 1) & mask {
		s := &m.slots[i]
		if s.key == 0 {
			*s = mergeSlot{key, v}
			m.n++
			return
		}
		if s.key == key {
			s.val = v
			return
		}
	}
}

func (m *mergeTable) get(a, b int32) (merge, bool) {
	key := pairKey(a, b) | occupied
	mask := uint64(len(m.slots) - 1)
	for i := m.slot(key); ; i = (i + 1) & mask {
		s := &m.slots[i]
		if s.key == key {
			return s.val, true
		}
		if s.key == 0 {
			return merge{}, false
		}
	}
}
