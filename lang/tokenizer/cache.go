package tokenizer

import (
	"bytes"
	"hash/maphash"
)

// wordCache maps pieces of text to their token ids: an open-addressing hash table over two
// arenas (piece bytes and ids), so that neither a hit nor an insert allocates. It is bounded:
// when the table is half full or an arena is used up it is emptied and starts again, which
// keeps it fitted to the text the counter sees now (a worker moving from Yoruba to Amharic
// documents stops paying for Yoruba words).
type wordCache struct {
	seed  maphash.Seed
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
	cacheSlots    = 1 << 15 // 16k pieces at most
	cacheKeyBytes = 1 << 19
	cacheIDs      = 1 << 17
	maxCachedWord = 256 // longer pieces are not cached
)

func newWordCache() *wordCache {
	return &wordCache{
		seed:  maphash.MakeSeed(),
		slots: make([]cacheSlot, cacheSlots),
		mask:  cacheSlots - 1,
		keys:  make([]byte, 0, cacheKeyBytes),
		ids:   make([]int32, 0, cacheIDs),
	}
}

func (c *wordCache) hash(word []byte) uint64 {
	return maphash.Bytes(c.seed, word) | 1
}

// get returns the cached ids of word.
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

// put stores the ids of word (which get did not find).
func (c *wordCache) put(h uint64, word []byte, ids []int32) {
	if c.used >= len(c.slots)/2 || len(c.keys)+len(word) > cap(c.keys) || len(c.ids)+len(ids) > cap(c.ids) {
		clear(c.slots)
		c.used = 0
		c.keys = c.keys[:0]
		c.ids = c.ids[:0]
	}
	i := h & c.mask
	for c.slots[i].hash != 0 {
		i = (i + 1) & c.mask
	}
	c.slots[i] = cacheSlot{hash: h, koff: uint32(len(c.keys)), klen: uint32(len(word)), ioff: uint32(len(c.ids)), ilen: uint32(len(ids))}
	c.keys = append(c.keys, word...)
	c.ids = append(c.ids, ids...)
	c.used++
}
