package formats

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"

	"github.com/klauspost/compress/zstd"

	"github.com/sieve-data/sieve/pipeline"
)

func init() {
	for _, format := range []string{"parquet", "jsonl", "arrow"} {
		pipeline.RegisterWriter(format, func(dir string, out *pipeline.Output) (pipeline.Sink, error) {
			o := *out
			o.Format = format
			return NewDatasetSink(dir, &o)
		})
	}
}

const (
	// DefaultSplit is the split documents go to when output.splits is empty.
	DefaultSplit = "train"
	// sinkBufferBudget bounds the memory that the Parquet and Arrow writers of all languages
	// and splits of a DatasetSink retain for their row groups (record batches): past it, the
	// writer holding the most writes its row group out early and lets its buffers go. One
	// row group per language would otherwise multiply memory by the number of languages.
	sinkBufferBudget = 64 << 20
)

// shardWriter is what a sink needs of a ParquetWriter, ArrowWriter or JSONLWriter.
type shardWriter interface {
	Write(doc *pipeline.Document) error
	Close() error
	Discard()
	// DataBytes returns the bytes of row data written so far (see Output.MaxShardBytes).
	DataBytes() int64
}

// batchWriter is a shardWriter that holds a row group or record batch in reusable column
// buffers: ParquetWriter and ArrowWriter.
type batchWriter interface {
	shardWriter
	Retained() int
	FlushAndRelease() error
	takeColumns() *columns
}

// DatasetSink writes kept documents as a dataset laid out per language and split in the
// Hugging Face Hub convention:
//
//	<dir>/data/<lang>/<split>-00000-of-00003.parquet   (or .arrow, .jsonl, .jsonl.zst)
//
// where <lang> is DatasetLang(doc) ("und" for documents without a language) and <split> is
// Output.SplitOf(doc.ID): train, validation or test. Rows have Output.Shape's columns
// (TextShape or InstructionShape). The documents of a language and split go to shard 0
// until it holds Output.MaxShardRows rows or Output.MaxShardBytes bytes of row data (0: no
// limit; the row that reaches the limit is the shard's last), then to shard 1, and so on,
// in Seq order. Every shard is written under a hidden temporary name (.tmp-...) in its
// final directory, fsynced when it is closed, and renamed to its final name only in Commit,
// once the number of shards is known. Commit also removes dataset files of an earlier run
// in <dir>/data (files named <split>-NNNNN-of-NNNNN.<ext>) that this run did not write, so
// the directory holds exactly this run's dataset. Abort removes everything the sink wrote.
// A language with no document has no directory, a split with no document no file; a run
// that keeps nothing writes no dataset file.
//
// Write must be called from one goroutine, in Seq order; the output then depends only on
// the documents and the Output config.
type DatasetSink struct {
	dir    string // run directory
	format string // parquet | jsonl | arrow
	ext    string // .parquet | .jsonl | .jsonl.zst | .arrow
	out    pipeline.Output
	shape  Shape
	budget int // see sinkBufferBudget

	langs    map[string]*[numSplits]*langShards // by language, then split index
	retained int                                // bytes retained by the batch writers of all open shards
	spareZ   *zstd.Encoder                      // of the last JSONL shard closed, for the next one
	spareC   *columns                           // of the last batch shard closed, for the next one (in retained)

	state     sinkState
	created   []string // directories the sink created, in creation order
	committed []string // final paths renamed so far (absolute)
	files     []string // Files(): committed paths relative to dir, sorted
}

// numSplits is len(pipeline.SplitNames).
const numSplits = 3

type sinkState int

const (
	sinkOpen sinkState = iota
	sinkCommitted
	sinkFailed // Commit failed: only Abort remains
	sinkAborted
)

// langShards holds the shards of one language and split.
type langShards struct {
	lang  string
	split string
	dir   string   // <dir>/data/<lang>
	temps []string // temporary paths of every shard, in order; the last is open when cur != nil
	cur   *shard
}

type shard struct {
	f    *os.File
	w    shardWriter
	bw   batchWriter // w as a batchWriter, nil for JSONL
	rows int
}

// NewDatasetSink returns the sink for kept documents under the run directory dir, in
// out.Format ("parquet", "arrow" or "jsonl") with out.Compression (parquet: zstd, snappy,
// gzip, none; arrow: none, zstd, lz4; jsonl: zstd, none), out.Shape's columns,
// out.RowGroupSize rows per Parquet row group (Arrow record batch), at most out.MaxShardRows
// rows and out.MaxShardBytes bytes per file, and out.Splits. It creates dir, so a path that
// cannot be written fails here rather than after the run. Its errors do not repeat
// "output:"; callers add it.
func NewDatasetSink(dir string, out *pipeline.Output) (*DatasetSink, error) {
	s := &DatasetSink{
		dir:    dir,
		format: out.Format,
		out:    *out,
		budget: sinkBufferBudget,
		langs:  make(map[string]*[numSplits]*langShards),
	}
	var err error
	if s.ext, err = outputExt(out.Format, out.Compression); err != nil {
		return nil, err
	}
	if s.shape, err = ShapeByName(out.Shape); err != nil {
		return nil, err
	}
	if out.RowGroupSize < 0 || out.MaxShardRows < 0 || out.MaxShardBytes < 0 {
		return nil, fmt.Errorf("row_group_size (%d), max_shard_rows (%d) and max_shard_bytes (%d) must be >= 0", out.RowGroupSize, out.MaxShardRows, out.MaxShardBytes)
	}
	for name := range out.Splits {
		if splitIndex(name) < 0 {
			return nil, fmt.Errorf("splits: unknown split %q", name)
		}
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	return s, nil
}

// splitIndex returns the index of a split name in pipeline.SplitNames, or -1.
func splitIndex(name string) int {
	for i, n := range pipeline.SplitNames[:numSplits] {
		if n == name {
			return i
		}
	}
	return -1
}

// outputExt returns the file extension for a format and compression, or an error naming
// the valid values.
func outputExt(format, compression string) (string, error) {
	switch format {
	case "parquet":
		if _, err := ParquetCodec(compression); err != nil {
			return "", err
		}
		return ".parquet", nil
	case "arrow":
		if _, err := arrowCodec(compression); err != nil {
			return "", err
		}
		return ".arrow", nil
	case "jsonl":
		return JSONLExt(compression)
	}
	return "", fmt.Errorf("format must be parquet, arrow or jsonl, got %q", format)
}

// Write adds a kept document to the current shard of its language and split.
func (s *DatasetSink) Write(_ context.Context, doc *pipeline.Document) error {
	if s.state != sinkOpen {
		return fmt.Errorf("output: Write after Commit or Abort")
	}
	if doc.IsRejected() {
		return fmt.Errorf("output: document %q was rejected (%s); it belongs in the rejects", doc.ID, doc.Rejected.Reason)
	}
	lang := DatasetLang(doc)
	splits := s.langs[lang]
	if splits == nil {
		if err := s.newLang(lang, doc); err != nil {
			return err
		}
		splits = s.langs[lang]
	}
	si := 0
	if len(s.out.Splits) > 0 {
		si = splitIndex(s.out.SplitOf(doc.ID))
	}
	ls := splits[si]
	if ls == nil {
		ls = &langShards{lang: lang, split: pipeline.SplitNames[si], dir: filepath.Join(s.dir, "data", lang)}
		splits[si] = ls
	}
	if ls.cur == nil {
		if err := s.openShard(ls); err != nil {
			return err
		}
	}
	cur := ls.cur
	before := 0
	if cur.bw != nil {
		before = cur.bw.Retained()
	}
	if err := cur.w.Write(doc); err != nil {
		return fmt.Errorf("output %s: %w", s.shardLabel(ls, len(ls.temps)-1), err)
	}
	cur.rows++
	if cur.bw != nil {
		s.retained += cur.bw.Retained() - before
	}
	if s.out.MaxShardRows > 0 && cur.rows >= s.out.MaxShardRows || s.out.MaxShardBytes > 0 && cur.w.DataBytes() >= s.out.MaxShardBytes {
		if err := s.closeShard(ls); err != nil {
			return err
		}
	}
	for s.retained > s.budget {
		if released, err := s.releaseLargest(); err != nil || !released {
			return err
		}
	}
	return nil
}

// newLang creates the directory of a language (and data/ before it) when missing.
func (s *DatasetSink) newLang(lang string, doc *pipeline.Document) error {
	if !validLangDir(lang) {
		return fmt.Errorf("output: document %q: language %q cannot name a directory (want letters, digits, '_' and '-')", doc.ID, lang)
	}
	data := filepath.Join(s.dir, "data")
	for _, d := range []string{data, filepath.Join(data, lang)} {
		if _, err := os.Stat(d); errors.Is(err, os.ErrNotExist) {
			if err := os.Mkdir(d, 0o777); err != nil {
				return fmt.Errorf("output: %w", err)
			}
			s.created = append(s.created, d)
		} else if err != nil {
			return fmt.Errorf("output: %w", err)
		}
	}
	s.langs[lang] = new([numSplits]*langShards)
	return nil
}

// shards returns every language's shards of every split used, in language then split
// order.
func (s *DatasetSink) shards() []*langShards {
	var out []*langShards
	for _, lang := range slices.Sorted(maps.Keys(s.langs)) {
		for _, ls := range s.langs[lang] {
			if ls != nil {
				out = append(out, ls)
			}
		}
	}
	return out
}

// validLangDir reports whether lang is safe as one path element on every system.
func validLangDir(lang string) bool {
	if lang == "" || len(lang) > 64 {
		return false
	}
	for i := 0; i < len(lang); i++ {
		c := lang[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' && i > 0) {
			return false
		}
	}
	return true
}

func (s *DatasetSink) openShard(ls *langShards) error {
	idx := len(ls.temps)
	f, err := createTemp(ls.dir, fmt.Sprintf(".tmp-%s-%05d-", ls.split, idx), s.ext)
	if err != nil {
		return fmt.Errorf("output %s: %w", s.shardLabel(ls, idx), err)
	}
	ls.temps = append(ls.temps, f.Name())
	sh := &shard{f: f}
	switch s.format {
	case "parquet", "arrow":
		if s.spareC != nil {
			s.retained -= s.spareC.capBytes() // counted again below, as the writer's
		}
		if s.format == "parquet" {
			var pw *ParquetWriter
			pw, err = newParquetWriter(f, s.shape, ParquetOptions{Compression: s.out.Compression, RowGroupSize: s.out.RowGroupSize}, s.spareC)
			if err == nil {
				sh.bw = pw
			}
		} else {
			var aw *ArrowWriter
			aw, err = newArrowWriter(f, s.shape, ArrowOptions{Compression: s.out.Compression, BatchRows: s.out.RowGroupSize}, s.spareC)
			if err == nil {
				sh.bw = aw
			}
		}
		s.spareC = nil
		sh.w = sh.bw
	default:
		sh.w, err = newJSONLWriter(f, s.shape, s.out.Compression, s.spareZ)
		s.spareZ = nil
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("output %s: %w", s.shardLabel(ls, idx), err)
	}
	if sh.bw != nil {
		s.retained += sh.bw.Retained()
	}
	ls.cur = sh
	return nil
}

// closeShard completes the open shard of ls and makes it durable under its temporary name.
func (s *DatasetSink) closeShard(ls *langShards) error {
	sh := ls.cur
	ls.cur = nil
	if sh.bw != nil {
		s.retained -= sh.bw.Retained()
	}
	label := s.shardLabel(ls, len(ls.temps)-1)
	if err := sh.w.Close(); err != nil {
		sh.f.Close()
		return fmt.Errorf("output %s: %w", label, err)
	}
	if jw, ok := sh.w.(*JSONLWriter); ok {
		if zw := jw.takeEncoder(); zw != nil {
			s.spareZ = zw
		}
	}
	if sh.bw != nil {
		if cols := sh.bw.takeColumns(); cols != nil {
			if s.spareC != nil {
				s.retained -= s.spareC.capBytes()
			}
			s.spareC = cols
			s.retained += cols.capBytes()
		}
	}
	if err := sh.f.Sync(); err != nil {
		sh.f.Close()
		return fmt.Errorf("output %s: %w", label, err)
	}
	if err := sh.f.Close(); err != nil {
		return fmt.Errorf("output %s: %w", label, err)
	}
	return nil
}

// releaseLargest makes the batch writer that retains the most memory (ties: the first
// language in name order, then the first split) write its row group out and let its
// buffers go, which keeps the output a function of the documents alone. It reports false
// when no writer retains enough to be worth it.
func (s *DatasetSink) releaseLargest() (bool, error) {
	if s.spareC != nil { // idle: the first to go
		s.retained -= s.spareC.capBytes()
		s.spareC = nil
		return true, nil
	}
	var best *langShards
	for _, ls := range s.shards() {
		if ls.cur == nil || ls.cur.bw == nil {
			continue
		}
		if best == nil || ls.cur.bw.Retained() > best.cur.bw.Retained() {
			best = ls
		}
	}
	if best == nil || best.cur.bw.Retained() <= 4<<10 {
		return false, nil
	}
	bw := best.cur.bw
	s.retained -= bw.Retained()
	err := bw.FlushAndRelease()
	s.retained += bw.Retained()
	if err != nil {
		return false, fmt.Errorf("output %s: %w", s.shardLabel(best, len(best.temps)-1), err)
	}
	return true, nil
}

// shardLabel names shard idx of ls in messages, relative to the run directory.
func (s *DatasetSink) shardLabel(ls *langShards, idx int) string {
	return path.Join("data", ls.lang, fmt.Sprintf("%s-%05d%s", ls.split, idx, s.ext))
}

// shardName is the Hub file name of shard i of n.
func shardName(split string, i, n int, ext string) string {
	return fmt.Sprintf("%s-%05d-of-%05d%s", split, i, n, ext)
}

// datasetFile matches the names shardName produces, for every split and extension.
var datasetFile = regexp.MustCompile(`^(train|validation|test)-[0-9]{5}-of-[0-9]{5}\.(parquet|jsonl|jsonl\.zst|arrow)$`)

// Commit completes every open shard, renames each shard to its final name now that the
// shard count per language and split is known, and removes an earlier run's dataset files
// that this run did not replace. If Commit fails, call Abort to remove what the sink wrote.
func (s *DatasetSink) Commit(ctx context.Context) error {
	if s.state != sinkOpen {
		return fmt.Errorf("output: Commit after Commit or Abort")
	}
	s.state = sinkFailed // until the end
	all := s.shards()
	for _, ls := range all {
		if ls.cur != nil {
			if err := s.closeShard(ls); err != nil {
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	keep := make(map[string]bool)
	for i, ls := range all {
		for j, tmp := range ls.temps {
			final := filepath.Join(ls.dir, shardName(ls.split, j, len(ls.temps), s.ext))
			if err := os.Rename(tmp, final); err != nil {
				return fmt.Errorf("output: %w", err)
			}
			s.committed = append(s.committed, final)
			keep[final] = true
		}
		if i+1 == len(all) || all[i+1].lang != ls.lang {
			if err := syncDir(ls.dir); err != nil {
				return fmt.Errorf("output: %w", err)
			}
		}
	}
	if err := s.removeStale(keep); err != nil {
		return err
	}
	if len(all) > 0 {
		if err := syncDir(filepath.Join(s.dir, "data")); err != nil {
			return fmt.Errorf("output: %w", err)
		}
	}
	for _, p := range s.committed {
		rel, err := filepath.Rel(s.dir, p)
		if err != nil {
			return fmt.Errorf("output: %w", err)
		}
		s.files = append(s.files, filepath.ToSlash(rel))
	}
	slices.Sort(s.files)
	s.spareC, s.spareZ, s.retained = nil, nil, 0
	s.state = sinkCommitted
	return nil
}

// removeStale deletes dataset files in <dir>/data/*/ that are not in keep, and the
// directories that this leaves empty.
func (s *DatasetSink) removeStale(keep map[string]bool) error {
	data := filepath.Join(s.dir, "data")
	subdirs, err := os.ReadDir(data)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	for _, sd := range subdirs {
		if !sd.IsDir() {
			continue
		}
		langDir := filepath.Join(data, sd.Name())
		entries, err := os.ReadDir(langDir)
		if err != nil {
			return fmt.Errorf("output: %w", err)
		}
		removed := false
		for _, e := range entries {
			p := filepath.Join(langDir, e.Name())
			if e.Type().IsRegular() && datasetFile.MatchString(e.Name()) && !keep[p] {
				if err := os.Remove(p); err != nil {
					return fmt.Errorf("output: removing a previous run's file: %w", err)
				}
				removed = true
			}
		}
		if removed {
			_ = os.Remove(langDir) // only succeeds when now empty
		}
	}
	return nil
}

// Abort removes every file the sink wrote (temporary ones, and final ones of a Commit that
// failed half-way) and the directories it created that are then empty. After a successful
// Commit it does nothing. It returns the first removal error.
func (s *DatasetSink) Abort() error {
	if s.state == sinkCommitted || s.state == sinkAborted {
		return nil
	}
	s.state = sinkAborted
	var first error
	note := func(err error) {
		if err != nil && !errors.Is(err, os.ErrNotExist) && first == nil {
			first = fmt.Errorf("output: abort: %w", err)
		}
	}
	for _, ls := range s.shards() {
		if sh := ls.cur; sh != nil {
			ls.cur = nil
			sh.w.Discard()
			sh.f.Close()
		}
		for _, tmp := range ls.temps {
			note(os.Remove(tmp))
		}
	}
	for _, p := range s.committed {
		note(os.Remove(p))
	}
	s.spareC, s.spareZ, s.retained = nil, nil, 0
	for i := len(s.created) - 1; i >= 0; i-- {
		_ = os.Remove(s.created[i]) // only succeeds when empty
	}
	return first
}

// Files returns the committed files relative to the run directory, with '/' separators,
// sorted; nil before Commit.
func (s *DatasetSink) Files() []string { return slices.Clone(s.files) }

var (
	_ pipeline.Sink      = (*DatasetSink)(nil)
	_ pipeline.SinkFiles = (*DatasetSink)(nil)
	_ pipeline.Sink      = (*RejectsSink)(nil)
	_ pipeline.SinkFiles = (*RejectsSink)(nil)
)

// RejectsSink writes rejected documents (see RejectSchema) to one file in the run
// directory: rejects.jsonl, rejects.jsonl.zst or rejects.parquet. The file is written under
// a hidden temporary name and renamed in Commit; it exists after Commit even when nothing
// was rejected. Write must be called from one goroutine, in Seq order.
type RejectsSink struct {
	dir, name string // run directory, final file name
	f         *os.File
	w         shardWriter
	state     sinkState
	committed bool // the rename happened
}

// NewRejectsSink creates the rejects sink under the run directory dir, with r.Format
// ("jsonl", the default when empty, or "parquet") and r.Compression (as for output). It
// opens its temporary file at once, so an unwritable directory fails before the run. It
// does not look at r.Enabled: the caller creates it only when rejects are enabled. Its
// errors do not repeat "rejects:"; callers add it.
func NewRejectsSink(dir string, r *pipeline.Rejects) (pipeline.Sink, error) {
	format := r.Format
	if format == "" {
		format = "jsonl"
	}
	ext, err := outputExt(format, r.Compression)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	s := &RejectsSink{dir: dir, name: "rejects" + ext}
	if s.f, err = createTemp(dir, ".tmp-rejects-", ext); err != nil {
		return nil, err
	}
	if format == "parquet" {
		s.w, err = NewParquetWriter(s.f, RejectShape(), ParquetOptions{Compression: r.Compression})
	} else {
		s.w, err = NewJSONLWriter(s.f, RejectShape(), r.Compression)
	}
	if err != nil {
		s.f.Close()
		os.Remove(s.f.Name())
		return nil, err
	}
	return s, nil
}

// Write appends a rejected document.
func (s *RejectsSink) Write(_ context.Context, doc *pipeline.Document) error {
	if s.state != sinkOpen {
		return fmt.Errorf("rejects: Write after Commit or Abort")
	}
	if !doc.IsRejected() {
		return fmt.Errorf("rejects: document %q is not rejected", doc.ID)
	}
	if err := s.w.Write(doc); err != nil {
		return fmt.Errorf("rejects %s: %w", s.name, err)
	}
	return nil
}

// Commit completes the file, makes it durable and renames it to its final name, removing a
// rejects file of another format left by an earlier run. If Commit fails, call Abort.
func (s *RejectsSink) Commit(ctx context.Context) error {
	if s.state != sinkOpen {
		return fmt.Errorf("rejects: Commit after Commit or Abort")
	}
	s.state = sinkFailed
	if err := s.w.Close(); err != nil {
		return fmt.Errorf("rejects %s: %w", s.name, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("rejects %s: %w", s.name, err)
	}
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("rejects %s: %w", s.name, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("rejects: %w", err)
	}
	if err := os.Rename(s.f.Name(), filepath.Join(s.dir, s.name)); err != nil {
		return fmt.Errorf("rejects: %w", err)
	}
	s.committed = true
	for _, other := range []string{"rejects.jsonl", "rejects.jsonl.zst", "rejects.parquet"} {
		if other != s.name {
			if err := os.Remove(filepath.Join(s.dir, other)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("rejects: removing a previous run's file: %w", err)
			}
		}
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("rejects: %w", err)
	}
	s.state = sinkCommitted
	return nil
}

// Abort removes the file (also after a Commit that failed). After a successful Commit it
// does nothing.
func (s *RejectsSink) Abort() error {
	if s.state == sinkCommitted || s.state == sinkAborted {
		return nil
	}
	wasOpen := s.state == sinkOpen
	s.state = sinkAborted
	if wasOpen {
		s.w.Discard()
	}
	s.f.Close()
	p := s.f.Name()
	if s.committed {
		p = filepath.Join(s.dir, s.name)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rejects: abort: %w", err)
	}
	return nil
}

// Files returns the committed file name (relative to the run directory); nil before Commit.
func (s *RejectsSink) Files() []string {
	if s.state != sinkCommitted {
		return nil
	}
	return []string{s.name}
}

var tempSeq atomic.Uint64

// createTemp creates a new file dir/prefix<pid>-<n>ext for writing, with the permissions
// os.Create gives (0666 less umask; os.CreateTemp would give 0600 to the final file).
func createTemp(dir, prefix, ext string) (*os.File, error) {
	for {
		name := filepath.Join(dir, prefix+strconv.Itoa(os.Getpid())+"-"+strconv.FormatUint(tempSeq.Add(1), 10)+ext)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		return f, err
	}
}

// syncDir makes renames in dir durable. File systems that cannot sync a directory are
// not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}
