package tokenizer

import (
	"bytes"
	"hash/maphash"
)

// wordCache maps pieces of text to their token ids: an open-addressing hash table over two
// arenas (piece bytes and ids), so that neither a hit nor an insert allocates. It is
// bounded; a Counter keeps two of them as generations (see Counter.piece), so that when the
// current one fills up the pieces still in use survive and the others are dropped.
type wordCache struct {
	slots []cacheSlot
	mask  uint64
	used  int
	keys  []byte
	ids   []int32
}

type cacheSlot struct {
	hash       uint64 // 0: empty
	koff, klen uint32
	ioff, ilen uint32
}

const (
	cacheSlots    = 1 << 16 // 32k pieces at most per generation
	cacheKeyBytes = 1 << 20
	cacheIDs      = 1 << 18
	maxCachedWord = 256 // longer pieces are not cached
)

func newWordCache() *wordCache {
	return &wordCache{
		slots: make([]cacheSlot, cacheSlots),
		mask:  cacheSlots - 1,
		keys:  make([]byte, 0, cacheKeyBytes),
		ids:   make([]int32, 0, cacheIDs),
	}
}

func cacheHash(seed maphash.Seed, word []byte) uint64 {
	return maphash.Bytes(seed, word) | 1
}

// get returns the cached ids of word, whose hash is h.
func (c *wordCache) get(h uint64, word []byte) ([]int32, bool) {
	for i := h & c.mask; ; i = (i + 1) & c.mask {
		s := &c.slots[i]
		if s.hash == 0 {
			return nil, false
		}
		if s.hash == h && bytes.Equal(c.keys[s.koff:s.koff+s.klen], word) {
			return c.ids[s.ioff : s.ioff+s.ilen], true
		}
	}
}

// full reports whether the cache has no room for a piece of n bytes and k ids.
func (c *wordCache) full(n, k int) bool {
	return c.used >= len(c.slots)/2 || len(c.keys)+n > cap(c.keys) || len(c.ids)+k > cap(c.ids)
}

func (c *wordCache) reset() {
	clear(c.slots)
	c.used = 0
	c.keys = c.keys[:0]
	c.ids = c.ids[:0]
}

// put stores the ids of word (which get did not find; the cache is not full).
func (c *wordCache) put(h uint64, word []byte, ids []int32) {
	i := h & c.mask
	for c.slots[i].hash != 0 {
		i = (i + 1) & c.mask
	}
	c.slots[i] = cacheSlot{hash: h, koff: uint32(len(c.keys)), klen: uint32(len(word)), ioff: uint32(len(c.ids)), ilen: uint32(len(ids))}
	c.keys = append(c.keys, word...)
	c.ids = append(c.ids, ids...)
	c.used++
}
