package quality

// u64Table is an open-addressing hash table from 64-bit keys (already well mixed) to a count
// and a position. Reset empties it in O(1) by bumping a generation stamp, so one table serves
// every document of a worker without clearing or allocating.
type u64Table struct {
	keys  []uint64
	count []int32
	pos   []int32
	gens  []uint32
	gen   uint32
	mask  uint64
}

// reset empties the table and makes room for n keys.
func (t *u64Table) reset(n int) {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	if size > len(t.keys) {
		t.keys = make([]uint64, size)
		t.count = make([]int32, size)
		t.pos = make([]int32, size)
		t.gens = make([]uint32, size)
		t.gen = 0
	}
	t.mask = uint64(len(t.keys) - 1)
	t.gen++
	if t.gen == 0 { // wrapped: clear the stamps once every 2^32 resets
		clear(t.gens)
		t.gen = 1
	}
}

// add counts key at position p and returns its slot and whether it was there before. A new
// key remembers p as its first position.
func (t *u64Table) add(key uint64, p int32) (slot int, seen bool) {
	i := key & t.mask
	for {
		if t.gens[i] != t.gen {
			t.gens[i] = t.gen
			t.keys[i] = key
			t.count[i] = 1
			t.pos[i] = p
			return int(i), false
		}
		if t.keys[i] == key {
			t.count[i]++
			return int(i), true
		}
		i = (i + 1) & t.mask
	}
}
