package formats

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/sieve-data/sieve/pipeline"
)

// fileBlock is a block of a columnar file that a task-mode unit cannot cut: a Parquet row
// group or an Arrow IPC record batch.
type fileBlock struct {
	off  int64 // where it starts in the file
	rows int64
}

// splitBlocks cuts a Parquet or Arrow IPC file into at most parts units of whole blocks
// (see cutBlocks). It returns no unit, and the file stays whole, when the file cannot be
// split: compressed whole, without a valid footer, with a single block, or with blocks not
// in file order. The reader then reports whatever is wrong with it, as in a run that does
// not split.
func splitBlocks(ctx context.Context, f pipeline.InputFileInfo, parts int64) ([]pipeline.InputUnit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var (
		blocks []fileBlock
		err    error
	)
	switch f.Format {
	case "parquet":
		blocks, err = recoverCorrupt(f.Path, func() ([]fileBlock, error) { return parquetBlocks(f.Path) })
	case "arrow":
		blocks, err = recoverCorrupt(f.Path, func() ([]fileBlock, error) { return arrowBlocks(f.Path, f.Size) })
	}
	if err != nil {
		return nil, nil
	}
	return cutBlocks(blocks, f.Size, parts), nil
}

// cutBlocks groups the blocks of a file of size bytes into at most parts contiguous runs,
// each cut at the block boundary nearest to a multiple of size/parts, so the units are
// about equal in bytes but never split a block. The units cover the file: the first
// starts at byte 0, the last ends at size, and each other boundary is a block's offset. It
// returns nil when the file makes one unit, or when the offsets do not increase within
// the file (a writer that put row groups out of order: the file is read whole).
func cutBlocks(blocks []fileBlock, size, parts int64) []pipeline.InputUnit {
	n := len(blocks)
	if n < 2 || parts < 2 || !blocksInOrder(blocks, size) {
		return nil
	}
	cuts := []int{0}
	for k := int64(1); k < parts; k++ {
		p := k * (size / parts) // no overflow; the last cut is what is left
		i := sort.Search(n, func(i int) bool { return blocks[i].off >= p })
		// Block boundaries are the offsets of blocks 1..n-1: take the nearest to p of
		// the ones on either side of it (the earlier on a tie).
		lo, hi := min(max(i-1, 1), n-1), min(max(i, 1), n-1)
		c := lo
		if p-blocks[lo].off > blocks[hi].off-p {
			c = hi
		}
		if c > cuts[len(cuts)-1] {
			cuts = append(cuts, c)
		}
	}
	if len(cuts) < 2 {
		return nil
	}
	cuts = append(cuts, n)
	units := make([]pipeline.InputUnit, 0, len(cuts)-1)
	var rows int64
	next := 0
	for j := 0; j+1 < len(cuts); j++ {
		for ; next < cuts[j]; next++ {
			rows += blocks[next].rows
		}
		start, end := blockExtent(blocks, cuts[j], cuts[j+1]-cuts[j], size)
		units = append(units, pipeline.InputUnit{Start: start, End: end, Line: rows, Block: cuts[j], Blocks: cuts[j+1] - cuts[j]})
	}
	return units
}

// blocksInOrder reports whether the blocks start inside the file, after its first byte,
// each after the one before, and count no negative rows.
func blocksInOrder(blocks []fileBlock, size int64) bool {
	for i, b := range blocks {
		if b.off <= 0 || b.off >= size || b.rows < 0 || i > 0 && b.off <= blocks[i-1].off {
			return false
		}
	}
	return true
}

// blockExtent returns the bytes of the unit of blocks first..first+count-1: from the first
// block's offset (0 for the file's first block, so the header counts) to the next block's
// (the file's size after its last block, so the footer counts).
func blockExtent(blocks []fileBlock, first, count int, size int64) (start, end int64) {
	if first > 0 {
		start = blocks[first].off
	}
	end = size
	if first+count < len(blocks) {
		end = blocks[first+count].off
	}
	return start, end
}

// checkUnitBlocks checks a unit of a task-mode plan against the blocks of the file it is
// about to read: a file that changed since the run was planned is an error, not another
// split of rows. The rows before the unit are checked when countRows (the blocks hold
// their row counts).
func checkUnitBlocks(path, what string, blocks []fileBlock, size int64, u pipeline.InputUnit, countRows bool) error {
	if u.Block < 0 || u.Blocks < 1 || u.Block+u.Blocks > len(blocks) {
		return fmt.Errorf("%s: the run was planned with %s %d to %d, the file has %d (it changed since)", path, what, u.Block, u.Block+u.Blocks-1, len(blocks))
	}
	rows := u.Line
	if countRows {
		rows = 0
		for _, b := range blocks[:u.Block] {
			rows += b.rows
		}
	}
	start, end := blockExtent(blocks, u.Block, u.Blocks, size)
	if !blocksInOrder(blocks, size) || rows != u.Line || start != u.Start || end != u.End {
		return fmt.Errorf("%s: %s %d to %d are rows after %d at bytes %d-%d, the run was planned with rows after %d at bytes %d-%d (the file changed since)",
			path, what, u.Block, u.Block+u.Blocks-1, rows, start, end, u.Line, u.Start, u.End)
	}
	return nil
}

// openBlocks opens a unit of whole blocks of a Parquet or Arrow IPC file.
func openBlocks(path, format string, in *pipeline.Input, u pipeline.InputUnit) (pipeline.Source, error) {
	switch format {
	case "parquet":
		return openParquetBlocks(path, in, u, memory.DefaultAllocator)
	case "arrow":
		return openArrowBlocks(path, in, u, memory.DefaultAllocator)
	}
	return nil, fmt.Errorf("%s: format %s has no blocks to read", path, format)
}

// parquetBlocks lists the row groups of a Parquet file from its footer.
func parquetBlocks(path string) ([]fileBlock, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer osf.Close()
	var magic [4]byte
	if _, err := osf.ReadAt(magic[:], 0); err != nil || !bytes.Equal(magic[:], []byte("PAR1")) {
		return nil, errors.New("not an uncompressed Parquet file")
	}
	pf, err := file.NewParquetReader(osf)
	if err != nil {
		return nil, err
	}
	return parquetFileBlocks(pf), nil
}

func parquetFileBlocks(pf *file.Reader) []fileBlock {
	blocks := make([]fileBlock, pf.NumRowGroups())
	for i := range blocks {
		md := pf.MetaData().RowGroup(i)
		blocks[i] = fileBlock{off: rowGroupOffset(md), rows: md.NumRows()}
	}
	return blocks
}

// openParquetBlocks opens the row groups u.Block.. of a Parquet file.
func openParquetBlocks(path string, in *pipeline.Input, u pipeline.InputUnit, mem memory.Allocator) (*ParquetReader, error) {
	r, err := openParquetFile(path, in, mem, false)
	if err != nil {
		return nil, err
	}
	if _, err := recoverCorrupt(path, func() (struct{}, error) {
		return struct{}{}, checkUnitBlocks(path, "row groups", parquetFileBlocks(r.pf), r.size, u, true)
	}); err != nil {
		r.Close()
		return nil, err
	}
	r.first, r.last, r.rg, r.rowNo, r.start, r.end = u.Block, u.Block+u.Blocks, u.Block-1, u.Line, u.Start, u.End
	return r, nil
}

// Arrow IPC file layout: "ARROW1\0\0", the IPC stream, the footer (a flatbuffer Footer
// table), its length as int32, "ARROW1".
const (
	arrowTailLen  = 10 // int32 footer length + "ARROW1"
	arrowBlockLen = 24 // struct Block {offset: long; metaDataLength: int; bodyLength: long}
	// maxArrowFooter bounds the footer read to plan a split (a million batches take 24 MB):
	// a corrupt length does not make planning allocate the file's size.
	maxArrowFooter = 256 << 20
	// Footer table slots.
	fbFooterSchema        = 6
	fbFooterRecordBatches = 10
	// Message table slots and the header type of a record batch.
	fbMessageHeaderType = 6
	fbMessageHeader     = 8
	fbHeaderRecordBatch = 3
	fbRecordBatchLength = 4
)

// arrowBlock is a record batch of an Arrow IPC file as its footer lists it.
type arrowBlock struct {
	off  int64 // the message's first byte (its continuation marker)
	meta int32 // length of the message's prefix and metadata
	body int64
}

// arrowFooter reads the record batch blocks listed in the footer of the Arrow IPC file r
// of size bytes. It fails for anything but an uncompressed IPC file whose blocks lie, in
// order, between its magic and its footer.
func arrowFooter(r io.ReaderAt, size int64) ([]arrowBlock, error) {
	if size < int64(len(arrowFileMagic))+arrowTailLen {
		return nil, errors.New("too small for an Arrow IPC file")
	}
	head := make([]byte, len(arrowFileMagic))
	tail := make([]byte, arrowTailLen)
	if _, err := r.ReadAt(head, 0); err != nil {
		return nil, err
	}
	if _, err := r.ReadAt(tail, size-arrowTailLen); err != nil {
		return nil, err
	}
	if !bytes.Equal(head, arrowFileMagic) || !bytes.Equal(tail[4:], arrowFileMagic[:6]) {
		return nil, errors.New("not an Arrow IPC file (no ARROW1 magic at both ends)")
	}
	n := int64(int32(binary.LittleEndian.Uint32(tail)))
	footerStart := size - arrowTailLen - n
	if n < 4 || n > maxArrowFooter || footerStart < int64(len(arrowFileMagic)) {
		return nil, fmt.Errorf("footer of %d bytes in a file of %d", n, size)
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, footerStart); err != nil {
		return nil, err
	}
	ft := flatbuffers.Table{Bytes: buf, Pos: flatbuffers.GetUOffsetT(buf)}
	// ipc.FileReader decodes the footer's schema: check its counts first, as
	// checkArrowSchemaMessage does for the stream's.
	if o := ft.Offset(fbFooterSchema); o != 0 {
		schema := flatbuffers.Table{Bytes: buf, Pos: ft.Indirect(flatbuffers.UOffsetT(o) + ft.Pos)}
		c := fbCheck{buf: buf, limit: len(buf) / 4}
		if err := c.vector(&schema, 8); err != nil { // Schema.custom_metadata
			return nil, err
		}
		if err := c.fields(&schema, 6, 0); err != nil { // Schema.fields
			return nil, err
		}
	}
	o := flatbuffers.UOffsetT(ft.Offset(fbFooterRecordBatches))
	if o == 0 {
		return nil, nil
	}
	count, vec := ft.VectorLen(o), int64(ft.Vector(o))
	if count < 0 || vec+int64(count)*arrowBlockLen > int64(len(buf)) {
		return nil, fmt.Errorf("footer lists %d record batches in %d bytes", count, len(buf))
	}
	blocks := make([]arrowBlock, count)
	prevEnd := int64(len(arrowFileMagic))
	for i := range blocks {
		b := buf[vec+int64(i)*arrowBlockLen:]
		blk := arrowBlock{off: int64(binary.LittleEndian.Uint64(b)), meta: int32(binary.LittleEndian.Uint32(b[8:])), body: int64(binary.LittleEndian.Uint64(b[16:]))}
		if blk.off < prevEnd || blk.meta < 8 || blk.meta > maxSchemaMessage || blk.body < 0 || blk.body > footerStart || blk.off+int64(blk.meta)+blk.body > footerStart {
			return nil, fmt.Errorf("record batch %d at bytes %d+%d+%d out of place", i, blk.off, blk.meta, blk.body)
		}
		prevEnd = blk.off + int64(blk.meta) + blk.body
		blocks[i] = blk
	}
	return blocks, nil
}

// arrowBatchRows reads the row count of a record batch from its message's metadata (the
// footer does not list it).
func arrowBatchRows(r io.ReaderAt, blk arrowBlock) (int64, error) {
	buf := make([]byte, blk.meta)
	if _, err := r.ReadAt(buf, blk.off); err != nil {
		return 0, err
	}
	skip := 4
	if binary.LittleEndian.Uint32(buf) == 0xFFFFFFFF {
		skip = 8
	}
	buf = buf[skip:]
	msg := flatbuffers.Table{Bytes: buf, Pos: flatbuffers.GetUOffsetT(buf)}
	if msg.GetByteSlot(fbMessageHeaderType, 0) != fbHeaderRecordBatch {
		return 0, errors.New("a block listed as a record batch holds another message")
	}
	o := msg.Offset(fbMessageHeader)
	if o == 0 {
		return 0, errors.New("record batch message without its header")
	}
	var rb flatbuffers.Table
	msg.Union(&rb, flatbuffers.UOffsetT(o))
	rows := rb.GetInt64Slot(fbRecordBatchLength, 0)
	if rows < 0 {
		return 0, fmt.Errorf("record batch of %d rows", rows)
	}
	return rows, nil
}

// arrowBlocks lists the record batches of an uncompressed Arrow IPC file with their rows.
// A file that the units could read otherwise than ArrowReader reads the whole file is not
// split: one whose dictionaries ipc.FileReader cannot read (a dictionary replaced within
// the file), or whose footer holds another schema than its stream.
func arrowBlocks(path string, size int64) ([]fileBlock, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer osf.Close()
	blocks, err := arrowFooter(osf, size)
	if err != nil || len(blocks) < 2 {
		return nil, err
	}
	fr, err := ipc.NewFileReader(osf)
	if err != nil {
		return nil, err
	}
	defer fr.Close()
	br := bufio.NewReaderSize(io.NewSectionReader(osf, int64(len(arrowFileMagic)), size), 64<<10)
	if err := checkArrowSchemaMessage(br); err != nil {
		return nil, err
	}
	sr, err := ipc.NewReader(br)
	if err != nil {
		return nil, err
	}
	defer sr.Release()
	if !sr.Schema().Equal(fr.Schema()) {
		return nil, errors.New("the footer's schema is not the stream's")
	}
	out := make([]fileBlock, len(blocks))
	for i, blk := range blocks {
		rows, err := arrowBatchRows(osf, blk)
		if err != nil {
			return nil, fmt.Errorf("record batch %d: %w", i, err)
		}
		out[i] = fileBlock{off: blk.off, rows: rows}
	}
	return out, nil
}

// openArrowBlocks opens the record batches u.Block.. of an Arrow IPC file. The batches
// are read by random access through ipc.FileReader (which reads the file's dictionaries
// first), and decoded as ArrowReader decodes the stream.
func openArrowBlocks(path string, in *pipeline.Input, u pipeline.InputUnit, mem memory.Allocator) (*ArrowReader, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := recoverCorrupt(path, func() (*ArrowReader, error) { return openArrowRange(osf, path, in, u, mem) })
	if err != nil {
		osf.Close()
		return nil, err
	}
	return r, nil
}

func openArrowRange(osf *os.File, path string, in *pipeline.Input, u pipeline.InputUnit, mem memory.Allocator) (*ArrowReader, error) {
	cfg := withDefaults(in)
	fi, err := osf.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	blocks, err := arrowFooter(osf, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// The rows before u.Block are taken from the plan: counting them again would read the
	// metadata of every earlier batch; a changed file shows in the offsets.
	fb := make([]fileBlock, len(blocks))
	for i, b := range blocks {
		fb[i] = fileBlock{off: b.off}
	}
	if err := checkUnitBlocks(path, "record batches", fb, fi.Size(), u, false); err != nil {
		return nil, err
	}
	fr, err := ipc.NewFileReader(osf, ipc.WithAllocator(mem))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if fr.NumRecords() != len(blocks) {
		fr.Close()
		return nil, fmt.Errorf("%s: footer lists %d record batches, arrow-go reads %d", path, len(blocks), fr.NumRecords())
	}
	dec, err := newRecordDecoder(fr.Schema(), &cfg, path)
	if err != nil {
		fr.Close()
		return nil, err
	}
	offs := make([]int64, len(blocks))
	for i, b := range blocks {
		offs[i] = b.off
	}
	return &ArrowReader{dec: dec, name: path, fail: cfg.OnError == "fail", rowNo: u.Line,
		blocks: &arrowRange{osf: osf, fr: fr, offs: offs, next: u.Block, last: u.Block + u.Blocks, start: u.Start, end: u.End}}, nil
}
