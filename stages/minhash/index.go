package minhash

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
)

// Index is the streaming LSH index: it maps each band key ever seen to the first document
// (by insertion number) that had it. It is built for memory: a band key costs about 6 bytes
// in a static table (16 bits of the key beyond the directory bits plus a 32-bit document
// number, bucketed by the key's top bits) plus a small dynamic table of recent keys that is
// merged into the static one from time to time. The full keys live in an append-only spill
// (a temporary file or memory) and are read back to confirm a static hit, so a lookup is
// exact: it never reports a document whose band key differs.
//
// Band keys must not be 0 (BandKeys never produces 0 after nonZero). An Index is not safe
// for concurrent use.
type Index struct {
	bands int
	rec   int    // bytes per document record in keys: bands keys + new-key mask
	keys  *spill // per document: bands little-endian uint64 keys, then a uint64 mask of new keys
	n     uint32 // documents added

	// static table
	dirBits uint     // number of top key bits that pick a bucket; 0 when empty
	dir     []uint32 // bucket b holds entries dir[b]..dir[b+1]
	rem     []uint16 // key bits below the directory bits
	idx     []uint32 // document number

	// dynamic table: open addressing over full keys
	dkeys  []uint64
	didx   []uint32
	dcount int
	dlimit int

	buf      []byte
	rebuilds int
}

const (
	minDynamic     = 1 << 14
	dynamicShare   = 8 // dynamic table holds up to 1/dynamicShare of the static entries
	bucketTarget   = 8 // aim for 8..16 static entries per bucket
	maxIndexedDocs = 1<<32 - 1
)

// NewIndex returns an empty index for signatures of the given number of bands, keeping its
// spill in a new unlinked file in spillDir, or in memory when spillDir is "".
func NewIndex(bands int, spillDir string) (*Index, error) {
	if bands < 1 || bands > 64 {
		return nil, fmt.Errorf("minhash index: bands must be in 1..64, got %d", bands)
	}
	sp, err := newSpill(spillDir, "sieve-minhash-keys-*")
	if err != nil {
		return nil, err
	}
	x := &Index{bands: bands, rec: bands*8 + 8, keys: sp}
	x.resetDynamic(minDynamic)
	return x, nil
}

func (x *Index) resetDynamic(limit int) {
	x.dlimit = limit
	slots := limit + limit/3 + 1 // load factor <= 0.75
	x.dkeys = make([]uint64, slots)
	x.didx = make([]uint32, slots)
	x.dcount = 0
}

// Len returns the number of documents added.
func (x *Index) Len() int { return int(x.n) }

// Entries returns the number of distinct band keys held.
func (x *Index) Entries() int { return len(x.idx) + x.dcount }

// MemBytes returns the memory held by the index tables and the spill buffers.
func (x *Index) MemBytes() int64 {
	return int64(len(x.dir))*4 + int64(len(x.rem))*2 + int64(len(x.idx))*4 +
		int64(len(x.dkeys))*8 + int64(len(x.didx))*4 + x.keys.MemBytes() + int64(cap(x.buf))
}

// SpillBytes returns the bytes written to the spill.
func (x *Index) SpillBytes() int64 { return x.keys.Len() }

// Rebuilds returns how many times the static table was rebuilt.
func (x *Index) Rebuilds() int { return x.rebuilds }

// Lookup returns the document that first had key in the given band.
func (x *Index) Lookup(band int, key uint64) (doc uint32, ok bool, err error) {
	if x.dirBits > 0 {
		b := key >> (64 - x.dirBits)
		r := uint16(key >> (48 - x.dirBits))
		for p := x.dir[b]; p < x.dir[b+1]; p++ {
			if x.rem[p] != r {
				continue
			}
			d := x.idx[p]
			var kb [8]byte
			if err := x.keys.ReadAt(kb[:], int64(d)*int64(x.rec)+int64(band)*8); err != nil {
				return 0, false, err
			}
			if binary.LittleEndian.Uint64(kb[:]) == key {
				return d, true, nil
			}
		}
	}
	n := uint64(len(x.dkeys))
	for s := fastrange(key, n); ; {
		k := x.dkeys[s]
		if k == 0 {
			return 0, false, nil
		}
		if k == key {
			return x.didx[s], true, nil
		}
		if s++; s == n {
			s = 0
		}
	}
}

// Add records the next document (number Len()) with its band keys; the keys whose bit is
// set in newMask (bit b for band b) are inserted, the caller having checked with Lookup that
// they are not present. It returns the document's number.
func (x *Index) Add(keys []uint64, newMask uint64) (uint32, error) {
	if len(keys) != x.bands {
		return 0, fmt.Errorf("minhash index: %d band keys, want %d", len(keys), x.bands)
	}
	if x.n == maxIndexedDocs {
		return 0, fmt.Errorf("minhash index: more than %d documents", uint64(maxIndexedDocs))
	}
	doc := x.n
	x.buf = x.buf[:0]
	for _, k := range keys {
		x.buf = binary.LittleEndian.AppendUint64(x.buf, k)
	}
	x.buf = binary.LittleEndian.AppendUint64(x.buf, newMask)
	if _, err := x.keys.Append(x.buf); err != nil {
		return 0, err
	}
	x.n++
	for m := newMask; m != 0; m &= m - 1 {
		b := bits.TrailingZeros64(m)
		x.insertDynamic(keys[b], doc)
	}
	if x.dcount >= x.dlimit {
		if err := x.rebuild(); err != nil {
			return 0, err
		}
	}
	return doc, nil
}

func (x *Index) insertDynamic(key uint64, doc uint32) {
	n := uint64(len(x.dkeys))
	s := fastrange(key, n)
	for x.dkeys[s] != 0 {
		if s++; s == n {
			s = 0
		}
	}
	x.dkeys[s] = key
	x.didx[s] = doc
	x.dcount++
}

// rebuild makes a new static table holding every inserted key, read back from the spill in
// document order (so each bucket lists its documents in insertion order), and empties the
// dynamic table.
func (x *Index) rebuild() error {
	total := len(x.idx) + x.dcount
	dirBits := uint(1)
	for total>>dirBits >= 2*bucketTarget && dirBits < 32 {
		dirBits++
	}
	if dirBits == x.dirBits {
		x.merge()
		return nil
	}
	dir := make([]uint32, (1<<dirBits)+1)
	// pass 1: count entries per bucket
	err := x.scan(func(_ uint32, key uint64) {
		dir[(key>>(64-dirBits))+1]++
	})
	if err != nil {
		return err
	}
	for i := 1; i < len(dir); i++ {
		dir[i] += dir[i-1]
	}
	if int(dir[len(dir)-1]) != total {
		return fmt.Errorf("minhash index: rebuild found %d keys, want %d", dir[len(dir)-1], total)
	}
	// Free the old static table before allocating the new one, to bound the peak.
	x.rem, x.idx, x.dir = nil, nil, nil
	rem := make([]uint16, total)
	idx := make([]uint32, total)
	fill := make([]uint32, len(dir)-1)
	copy(fill, dir)
	err = x.scan(func(doc uint32, key uint64) {
		b := key >> (64 - dirBits)
		p := fill[b]
		fill[b]++
		rem[p] = uint16(key >> (48 - dirBits))
		idx[p] = doc
	})
	if err != nil {
		return err
	}
	x.dirBits, x.dir, x.rem, x.idx = dirBits, dir, rem, idx
	x.resetDynamic(max(minDynamic, total/dynamicShare))
	x.rebuilds++
	return nil
}

// merge moves the dynamic entries into the static table when the directory keeps its size:
// one sequential pass over the old table, no spill read.
func (x *Index) merge() {
	type entry struct {
		key uint64
		doc uint32
	}
	dyn := make([]entry, 0, x.dcount)
	for s, k := range x.dkeys {
		if k != 0 {
			dyn = append(dyn, entry{k, x.didx[s]})
		}
	}
	// documents of a bucket stay in insertion order: old entries first, then by number
	slices.SortFunc(dyn, func(a, b entry) int {
		if c := cmp.Compare(a.key>>(64-x.dirBits), b.key>>(64-x.dirBits)); c != 0 {
			return c
		}
		return cmp.Compare(a.doc, b.doc)
	})
	total := len(x.idx) + len(dyn)
	x.dkeys, x.didx = nil, nil
	rem := make([]uint16, total)
	idx := make([]uint32, total)
	nb := len(x.dir) - 1
	p, j := uint32(0), 0
	for b := 0; b < nb; b++ {
		lo, hi := x.dir[b], x.dir[b+1]
		x.dir[b] = p
		p += uint32(copy(rem[p:], x.rem[lo:hi]))
		copy(idx[x.dir[b]:], x.idx[lo:hi])
		for ; j < len(dyn) && int(dyn[j].key>>(64-x.dirBits)) == b; j++ {
			rem[p] = uint16(dyn[j].key >> (48 - x.dirBits))
			idx[p] = dyn[j].doc
			p++
		}
	}
	x.dir[nb] = p
	x.rem, x.idx = rem, idx
	x.resetDynamic(max(minDynamic, total/dynamicShare))
	x.rebuilds++
}

// scan calls fn for every inserted key, in document order.
func (x *Index) scan(fn func(doc uint32, key uint64)) error {
	const block = 1 << 20
	per := block / x.rec
	buf := make([]byte, per*x.rec)
	for first := uint32(0); first < x.n; first += uint32(per) {
		cnt := min(uint32(per), x.n-first)
		b := buf[:int(cnt)*x.rec]
		if err := x.keys.ReadAt(b, int64(first)*int64(x.rec)); err != nil {
			return err
		}
		for i := uint32(0); i < cnt; i++ {
			r := b[int(i)*x.rec : int(i+1)*x.rec]
			mask := binary.LittleEndian.Uint64(r[x.bands*8:])
			for m := mask; m != 0; m &= m - 1 {
				bd := bits.TrailingZeros64(m)
				fn(first+i, binary.LittleEndian.Uint64(r[bd*8:]))
			}
		}
	}
	return nil
}

// Close releases the spill.
func (x *Index) Close() error { return x.keys.Close() }
