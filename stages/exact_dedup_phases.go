package stages

import (
	"bufio"
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"slices"

	"github.com/cespare/xxhash/v2"

	"github.com/sieve-data/sieve/pipeline"
)

// exact_dedup in task mode, as a pipeline.Phased stage:
//
//	hashes  (input pass, N tasks)   per shard, the digest and position of every document,
//	                                sorted by digest, and the shard's ids
//	groups  (min(N, 256) tasks)     task g merges the digests of every shard in its slice of
//	                                the digest space; in each run of equal digests the first
//	                                document in read order stays, the others are removed
//	filter  (input pass, N tasks)   exactDedupFilter rejects the removed documents
//
// The removed set, and each removal's "same text as <id>", are the streaming stage's.
//
// Files (in the stage's work directory) start with an 8-byte magic and a record count and
// end with an xxhash64 of everything before it. Readers check the magic and that the size
// fits the count (tasks read slices of files, so the checksum is for offline checks).

var (
	_ pipeline.PhasedConfig  = (*ExactDedupConfig)(nil)
	_ pipeline.Phased        = (*exactPhased)(nil)
	_ pipeline.ShardPreparer = (*exactPhased)(nil)
	_ pipeline.Stage         = (*exactDedupFilter)(nil)
)

// ExecMode implements pipeline.PhasedConfig.
func (c *ExactDedupConfig) ExecMode() string {
	if c.Mode == "" {
		return pipeline.ModeAuto
	}
	return c.Mode
}

// Phased implements pipeline.PhasedConfig.
func (c *ExactDedupConfig) Phased(_ *pipeline.Env, dir string) (pipeline.Phased, error) {
	return &exactPhased{cfg: *c, dir: dir}, nil
}

type exactPhased struct {
	cfg    ExactDedupConfig
	dir    string
	groups int // tasks of the groups phase, set by Phases
}

const (
	exactHashMagic  = "SVEXHSH1"
	exactIDsMagic   = "SVEXIDS1"
	exactGroupMagic = "SVEXGRP1"
	exactMaxTasks   = 256
)

func (p *exactPhased) hashPath(shard int) string {
	return filepath.Join(p.dir, "hashes", fmt.Sprintf("%05d.bin", shard))
}
func (p *exactPhased) idsPath(shard int) string {
	return filepath.Join(p.dir, "hashes", fmt.Sprintf("%05d.ids", shard))
}
func (p *exactPhased) groupPath(task int) string {
	return filepath.Join(p.dir, "groups", fmt.Sprintf("%05d.bin", task))
}

func (p *exactPhased) ShardPhase() string { return "hashes" }

// exactRec is one document's digest and reference (shard<<32 | position).
type exactRec struct {
	h   digest
	ref uint64
}

func (p *exactPhased) digestOf(d *pipeline.Document) digest {
	h := hashNormalized(d.Text, p.cfg.Normalize)
	if p.cfg.Scope == "per_language" {
		h[0] ^= xxhash.Sum64String(d.Lang)
	}
	return h
}

// PrepareShard implements pipeline.ShardPreparer: texts are hashed on the workers.
func (p *exactPhased) PrepareShard(_ context.Context, d *pipeline.Document) error {
	d.Scratch = p.digestOf(d)
	return nil
}

func (p *exactPhased) WriteShard(ctx context.Context, shard int, run func(emit func(*pipeline.Document) error) error) ([]string, error) {
	if shard < 0 || shard > math.MaxInt32 {
		return nil, fmt.Errorf("exact_dedup: shard %d out of range", shard)
	}
	var recs []exactRec
	ids := &exactFile{magic: exactIDsMagic}
	var idBytes []byte
	var offsets []uint64
	err := run(func(d *pipeline.Document) error {
		pos := uint64(len(recs))
		if pos > math.MaxUint32 {
			return fmt.Errorf("exact_dedup: shard %d has more than %d documents", shard, uint64(math.MaxUint32))
		}
		h, ok := d.Scratch.(digest)
		if !ok {
			h = p.digestOf(d)
		}
		d.Scratch = nil
		recs = append(recs, exactRec{h, uint64(shard)<<32 | pos})
		offsets = append(offsets, uint64(len(idBytes)))
		idBytes = append(idBytes, d.ID...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(recs, func(a, b exactRec) int {
		if c := cmp.Compare(a.h[0], b.h[0]); c != 0 {
			return c
		}
		if c := cmp.Compare(a.h[1], b.h[1]); c != 0 {
			return c
		}
		return cmp.Compare(a.ref, b.ref)
	})
	hf := &exactFile{magic: exactHashMagic}
	if err := hf.write(p.hashPath(shard), uint64(len(recs)), func(w *exactWriter) {
		for _, r := range recs {
			w.u64(r.h[0])
			w.u64(r.h[1])
			w.u64(r.ref)
		}
	}); err != nil {
		return nil, err
	}
	offsets = append(offsets, uint64(len(idBytes)))
	if err := ids.write(p.idsPath(shard), uint64(len(offsets)-1), func(w *exactWriter) {
		for _, o := range offsets {
			w.u64(o)
		}
		w.bytes(idBytes)
	}); err != nil {
		return nil, err
	}
	return []string{p.hashPath(shard), p.idsPath(shard)}, nil
}

func (p *exactPhased) Phases(shards, tasks int) []pipeline.GlobalPhase {
	g := max(1, min(tasks, exactMaxTasks))
	p.groups = g
	return []pipeline.GlobalPhase{{Name: "groups", Tasks: g, Run: func(ctx context.Context, task int) ([]string, error) {
		if err := p.groupTask(ctx, shards, task, g); err != nil {
			return nil, err
		}
		return []string{p.groupPath(task)}, nil
	}}}
}

// groupSlice is the task of the groups phase that owns a digest.
func groupSlice(h0 uint64, tasks int) int {
	hi, _ := bits.Mul64(h0, uint64(tasks))
	return int(hi)
}

// exactCursor streams the records of one shard that fall in a task's slice.
type exactCursor struct {
	r    *bufio.Reader
	left int64
	rec  exactRec
	buf  [24]byte
}

func (c *exactCursor) next() (bool, error) {
	if c.left == 0 {
		return false, nil
	}
	if _, err := io.ReadFull(c.r, c.buf[:]); err != nil {
		return false, err
	}
	c.left--
	c.rec = exactRec{digest{binary.LittleEndian.Uint64(c.buf[:8]), binary.LittleEndian.Uint64(c.buf[8:16])}, binary.LittleEndian.Uint64(c.buf[16:])}
	return true, nil
}

type exactHeap []*exactCursor

func (h exactHeap) Len() int { return len(h) }
func (h exactHeap) Less(i, j int) bool {
	a, b := h[i].rec, h[j].rec
	if a.h != b.h {
		return a.h[0] < b.h[0] || a.h[0] == b.h[0] && a.h[1] < b.h[1]
	}
	return a.ref < b.ref
}
func (h exactHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *exactHeap) Push(x any)   { *h = append(*h, x.(*exactCursor)) }
func (h *exactHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// groupTask merges the digests of task's slice over every shard and writes the removed
// documents (ref, ref of the first document with the same text), sorted by ref.
func (p *exactPhased) groupTask(ctx context.Context, shards, task, tasks int) error {
	var h exactHeap
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for s := 0; s < shards; s++ {
		f, n, err := openExact(p.hashPath(s), exactHashMagic, 24)
		if err != nil {
			return err
		}
		files = append(files, f)
		// First record of the slice: the slice is monotone in the digest's first word.
		lo, hi := int64(0), n
		var kb [8]byte
		for lo < hi {
			mid := (lo + hi) / 2
			if _, err := f.ReadAt(kb[:], exactHeader+mid*24); err != nil {
				return fmt.Errorf("exact_dedup: %s: %w", f.Name(), err)
			}
			if groupSlice(binary.LittleEndian.Uint64(kb[:]), tasks) < task {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		end, hiEnd := lo, n
		for end < hiEnd {
			mid := (end + hiEnd) / 2
			if _, err := f.ReadAt(kb[:], exactHeader+mid*24); err != nil {
				return fmt.Errorf("exact_dedup: %s: %w", f.Name(), err)
			}
			if groupSlice(binary.LittleEndian.Uint64(kb[:]), tasks) <= task {
				end = mid + 1
			} else {
				hiEnd = mid
			}
		}
		c := &exactCursor{r: bufio.NewReaderSize(io.NewSectionReader(f, exactHeader+lo*24, (end-lo)*24), 64<<10), left: end - lo}
		ok, err := c.next()
		if err != nil {
			return fmt.Errorf("exact_dedup: %s: %w", f.Name(), err)
		}
		if ok {
			h = append(h, c)
		}
	}
	heap.Init(&h)
	type removal struct{ ref, of uint64 }
	var removed []removal
	var cur digest
	var first uint64
	have := false
	for n := 0; h.Len() > 0; n++ {
		if n&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		c := h[0]
		r := c.rec
		ok, err := c.next()
		if err != nil {
			return fmt.Errorf("exact_dedup: shard file: %w", err)
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
		if !have || r.h != cur {
			cur, first, have = r.h, r.ref, true
			continue
		}
		removed = append(removed, removal{r.ref, first})
	}
	slices.SortFunc(removed, func(a, b removal) int { return cmp.Compare(a.ref, b.ref) })
	gf := &exactFile{magic: exactGroupMagic}
	return gf.write(p.groupPath(task), uint64(len(removed)), func(w *exactWriter) {
		for _, r := range removed {
			w.u64(r.ref)
			w.u64(r.of)
		}
	})
}

func (p *exactPhased) Filter(shard int) (pipeline.Stage, error) {
	f := &exactDedupFilter{p: p, removed: map[uint32]uint64{}, ids: map[int]*exactIDs{}}
	tasks := p.groups
	if tasks == 0 {
		return nil, errors.New("exact_dedup: internal: Filter before Phases")
	}
	lo, hi := uint64(shard)<<32, uint64(shard+1)<<32
	for t := 0; t < tasks; t++ {
		fh, n, err := openExact(p.groupPath(t), exactGroupMagic, 16)
		if err != nil {
			return nil, err
		}
		first := int64(sort64(n, func(i int64) uint64 { return readU64(fh, exactHeader+i*16) }, lo))
		r := bufio.NewReaderSize(io.NewSectionReader(fh, exactHeader+first*16, (n-first)*16), 64<<10)
		var b [16]byte
		for i := first; i < n; i++ {
			if _, err := io.ReadFull(r, b[:]); err != nil {
				fh.Close()
				return nil, fmt.Errorf("exact_dedup: %s: %w", fh.Name(), err)
			}
			ref := binary.LittleEndian.Uint64(b[:8])
			if ref >= hi {
				break
			}
			f.removed[uint32(ref)] = binary.LittleEndian.Uint64(b[8:])
		}
		fh.Close()
	}
	return f, nil
}

// sort64 returns the first index in [0, n) whose key is >= v (keys ascending).
func sort64(n int64, key func(int64) uint64, v uint64) int64 {
	lo, hi := int64(0), n
	for lo < hi {
		mid := (lo + hi) / 2
		if key(mid) < v {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

func readU64(f *os.File, off int64) uint64 {
	var b [8]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		return math.MaxUint64 // treated as past the end; the sequential read reports the error
	}
	return binary.LittleEndian.Uint64(b[:])
}

// exactDedupFilter rejects the documents the groups phase removed; it sees the shard's
// documents in the order the hashes pass did.
type exactDedupFilter struct {
	p       *exactPhased
	removed map[uint32]uint64 // position -> ref of the first document with the same text
	ids     map[int]*exactIDs
	pos     uint32
}

func (f *exactDedupFilter) Process(_ context.Context, d *pipeline.Document) (pipeline.Verdict, error) {
	of, ok := f.removed[f.pos]
	f.pos++
	if !ok {
		return pipeline.Keep, nil
	}
	id, err := f.id(of)
	if err != nil {
		return pipeline.Keep, err
	}
	return pipeline.Rejectf("exact_dedup.duplicate", "same text as %s", id), nil
}

func (f *exactDedupFilter) id(ref uint64) (string, error) {
	s := int(ref >> 32)
	r, ok := f.ids[s]
	if !ok {
		var err error
		if r, err = openExactIDs(f.p.idsPath(s)); err != nil {
			return "", err
		}
		f.ids[s] = r
	}
	return r.get(uint32(ref))
}

func (f *exactDedupFilter) Close(context.Context) error {
	for _, r := range f.ids {
		r.f.Close()
	}
	return nil
}

// exactIDs reads ids by position: n+1 offsets, then the bytes.
type exactIDs struct {
	f *os.File
	n int64
}

func openExactIDs(path string) (*exactIDs, error) {
	f, n, err := openExact(path, exactIDsMagic, 0)
	if err != nil {
		return nil, err
	}
	return &exactIDs{f: f, n: n}, nil
}

func (r *exactIDs) get(pos uint32) (string, error) {
	if int64(pos) >= r.n {
		return "", fmt.Errorf("exact_dedup: %s: no document %d", r.f.Name(), pos)
	}
	var b [16]byte
	if _, err := r.f.ReadAt(b[:], exactHeader+int64(pos)*8); err != nil {
		return "", fmt.Errorf("exact_dedup: %s: %w", r.f.Name(), err)
	}
	lo, hi := binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
	if hi < lo || hi-lo > 1<<20 {
		return "", fmt.Errorf("exact_dedup: %s: bad id offsets", r.f.Name())
	}
	s := make([]byte, hi-lo)
	if _, err := r.f.ReadAt(s, exactHeader+(r.n+1)*8+int64(lo)); err != nil {
		return "", fmt.Errorf("exact_dedup: %s: %w", r.f.Name(), err)
	}
	return string(s), nil
}

// The files: magic (8 bytes), record count (8), payload, xxhash64 of magic+count+payload (8).
const exactHeader = 16

type exactFile struct{ magic string }

type exactWriter struct {
	w *bufio.Writer
	h *xxhash.Digest
	b [8]byte
}

func (w *exactWriter) u64(v uint64) {
	binary.LittleEndian.PutUint64(w.b[:], v)
	w.w.Write(w.b[:])
	w.h.Write(w.b[:])
}

func (w *exactWriter) bytes(p []byte) {
	w.w.Write(p)
	w.h.Write(p)
}

// write writes the file under a temporary name, syncs it and renames it.
func (ef *exactFile) write(path string, n uint64, payload func(*exactWriter)) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	w := &exactWriter{w: bufio.NewWriterSize(f, 1<<20), h: xxhash.New()}
	w.bytes([]byte(ef.magic))
	w.u64(n)
	payload(w)
	binary.LittleEndian.PutUint64(w.b[:], w.h.Sum64())
	w.w.Write(w.b[:])
	err = w.w.Flush()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("exact_dedup: write %s: %w", path, err)
	}
	return nil
}

// openExact opens a file, checks its magic and that its size fits recSize-byte records
// (recSize 0: no check), and returns the record count.
func openExact(path, magic string, recSize int64) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("exact_dedup: %w", err)
	}
	fail := func(msg string) (*os.File, int64, error) {
		f.Close()
		return nil, 0, fmt.Errorf("exact_dedup: %s: %s", path, msg)
	}
	st, err := f.Stat()
	if err != nil {
		return fail(err.Error())
	}
	var hdr [exactHeader]byte
	if st.Size() < exactHeader+8 {
		return fail("truncated")
	}
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return fail(err.Error())
	}
	if string(hdr[:8]) != magic {
		return fail("not a file of this phase (bad magic)")
	}
	n := binary.LittleEndian.Uint64(hdr[8:])
	if n > uint64(st.Size()) {
		return fail("bad record count")
	}
	if recSize > 0 && int64(n)*recSize != st.Size()-exactHeader-8 {
		return fail(fmt.Sprintf("%d bytes for %d records: truncated or corrupt", st.Size(), n))
	}
	return f, int64(n), nil
}
