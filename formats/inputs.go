package formats

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sieve-data/sieve/pipeline"
)

// Stage is the stage name readers put on the documents they pre-reject.
const Stage = "read"

// Reject reasons given by the readers. Each one is a per-record problem: with on_error: reject
// the record becomes a pre-rejected document, with on_error: fail the run stops with a
// *ReadError carrying the reason.
const (
	ReasonInvalidJSON    = "read.invalid_json"        // the line is not a JSON object
	ReasonMissingText    = "read.missing_text"        // text field absent or not a string
	ReasonInvalidUTF8    = "read.invalid_utf8"        // the record's bytes are not valid UTF-8
	ReasonEmptyText      = "read.empty_text"          // text empty or only white space
	ReasonRecordTooLarge = "read.record_too_large"    // longer than max_record_bytes (not held in memory)
	ReasonTruncated      = "read.truncated"           // compressed stream ended early or is corrupt; rest of the file lost
	ReasonInvalidCSV     = "read.invalid_csv"         // csv/tsv: bad quoting or a field count other than the header's
	ReasonInvalidWARC    = "read.invalid_warc"        // warc: bad version line or header, or bytes between records
	ReasonInvalidHTTP    = "read.invalid_http"        // warc: a response record whose HTTP message cannot be parsed or decoded
	ReasonHTTPStatus     = "read.http_status"         // warc: a response other than 2xx (redirect, error page)
	ReasonUnsupported    = "read.unsupported_content" // warc: a payload that is not text or HTML (PDF, image, ...)
)

// ReadReasons lists every reason a reader can give, for docs and tests.
var ReadReasons = []string{ReasonInvalidJSON, ReasonMissingText, ReasonInvalidUTF8, ReasonEmptyText,
	ReasonRecordTooLarge, ReasonTruncated, ReasonInvalidCSV, ReasonInvalidWARC, ReasonInvalidHTTP,
	ReasonHTTPStatus, ReasonUnsupported}

// FormatAuto picks the reader from the file extension.
const FormatAuto = "auto"

// FormatFor returns the reader name for path. A format other than "auto" (or empty) is
// returned as it is when a reader of that name is registered. "auto" looks at the extension
// after removing .gz, .zst or .zstd: .jsonl, .json and .ndjson are jsonl, .txt is text, .csv is
// csv, .tsv and .tab are tsv, .parquet and .pq are parquet, .arrow, .arrows, .feather and .ipc
// are arrow (Arrow IPC, file or stream format), .warc and .wet (Common Crawl's .warc.wet.gz)
// are warc.
// (Compression itself is detected from the file's bytes, not its name.)
func FormatFor(path, format string) (string, error) {
	if format != "" && format != FormatAuto {
		if _, ok := pipeline.LookupReader(format); !ok {
			return "", fmt.Errorf("format %q: must be one of %s", format, validFormats())
		}
		return format, nil
	}
	name := strings.ToLower(filepath.Base(path))
	for _, ext := range []string{".gz", ".zst", ".zstd"} {
		if s, ok := strings.CutSuffix(name, ext); ok {
			name = s
			break
		}
	}
	switch filepath.Ext(name) {
	case ".jsonl", ".json", ".ndjson":
		return "jsonl", nil
	case ".txt":
		return "text", nil
	case ".csv":
		return "csv", nil
	case ".tsv", ".tab":
		return "tsv", nil
	case ".parquet", ".pq":
		return "parquet", nil
	case ".arrow", ".arrows", ".feather", ".ipc":
		return "arrow", nil
	case ".warc", ".wet":
		return "warc", nil
	}
	return "", fmt.Errorf("%s: cannot tell the format from the file name (auto knows .jsonl, .json, .ndjson, .txt, .csv, .tsv, .tab, .parquet, .pq, .arrow, .arrows, .feather, .ipc, .warc, .wet, optionally + .gz/.zst); set format to one of %s",
		path, strings.Join(pipeline.ReaderNames(), ", "))
}

func validFormats() string {
	return strings.Join(append([]string{FormatAuto}, pipeline.ReaderNames()...), ", ")
}

// ExpandInputs returns the files named by in.Path, resolved against baseDir when relative:
// a file; a directory, read recursively; or a glob (filepath.Match syntax, plus "**" for any
// number of directories). Directories matched by a glob are read recursively too. Hidden files
// and directories (name starting with ".") are skipped inside directories and under "**"; a
// one-level wildcard skips them unless the pattern spells the leading dot (".*.jsonl").
// Symbolic links to files are read; links to directories are not followed inside a walk. The result is sorted and free of duplicates. A path that does not
// exist, a glob that matches no file and a directory holding no file are errors naming the
// path; with format auto, so is a file whose format cannot be told from its name.
func ExpandInputs(in *pipeline.Input, baseDir string) ([]string, error) {
	p := in.Path
	if p == "" {
		return nil, errors.New("path: required")
	}
	if !filepath.IsAbs(p) && baseDir != "" {
		p = filepath.Join(baseDir, p)
	}
	p = filepath.Clean(p)
	var files []string
	fi, statErr := os.Stat(p)
	switch {
	case statErr == nil && fi.IsDir():
		var err error
		if files, err = walkDir(p, nil); err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: directory holds no input file (hidden files are skipped)", p)
		}
	case statErr == nil:
		files = []string{p}
	case hasMeta(p):
		var err error
		if files, err = expandGlob(p); err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: no file matches the pattern", p)
		}
	default:
		return nil, statError(p, statErr)
	}
	slices.Sort(files)
	files = slices.Compact(files)
	if in.Format == "" || in.Format == FormatAuto {
		var errs []error
		for _, f := range files {
			if _, err := FormatFor(f, FormatAuto); err != nil {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// statError words a failed stat as "PATH: no such file or directory" (errors.Is still sees
// fs.ErrNotExist).
func statError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", path, pe.Err)
	}
	return err
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[`) }

func isHidden(name string) bool { return len(name) > 1 && name[0] == '.' && name != ".." }

// walkDir appends the regular files under root (and symbolic links to regular files), skipping
// hidden entries below root. keep, when not nil, filters by path.
func walkDir(root string, keep func(string) bool) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != root && isHidden(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			fi, err := os.Stat(path)
			if err != nil {
				return err
			}
			if !fi.Mode().IsRegular() {
				return nil // a link to a directory or device: not followed
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		if keep == nil || keep(path) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", root, err)
	}
	return files, nil
}

// The files stages read besides the inputs (pipeline.ListUsedFiles) are globbed as inputs.
func init() { pipeline.GlobUsedFiles = expandGlob }

// expandGlob expands a pattern; "**" as a whole path element matches any number of
// directories (zero included).
func expandGlob(pattern string) ([]string, error) {
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("%s: bad pattern: %w", pattern, err)
	}
	parts := strings.Split(filepath.ToSlash(pattern), "/")
	if !slices.Contains(parts, "**") {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("%s: bad pattern: %w", pattern, err)
		}
		var files []string
		for _, m := range matches {
			if hiddenByWildcard(parts, strings.Split(filepath.ToSlash(m), "/")) {
				continue
			}
			fs, err := expandMatch(m)
			if err != nil {
				return nil, err
			}
			files = append(files, fs...)
		}
		return files, nil
	}
	// Walk from the longest prefix without wildcards.
	i := 0
	for i < len(parts) && !hasMeta(parts[i]) && parts[i] != "**" {
		i++
	}
	root := filepath.FromSlash(strings.Join(parts[:i], "/"))
	if root == "" {
		if pattern[0] == '/' {
			root = "/"
		} else {
			root = "."
		}
	}
	rest := parts[i:]
	if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	// A file matches when the path below root matches rest; a directory that matches is taken
	// whole (the walk already visits everything below it).
	return walkDir(root, func(path string) bool {
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return false
		}
		elems := strings.Split(filepath.ToSlash(rel), "/")
		for n := len(elems); n >= 1; n-- {
			if matchParts(rest, elems[:n]) {
				return true
			}
		}
		return false
	})
}

// expandMatch turns one glob match into files: itself, or the files under it when it is a
// directory.
func expandMatch(m string) ([]string, error) {
	fi, err := os.Stat(m)
	if err != nil {
		return nil, statError(m, err)
	}
	if fi.IsDir() {
		return walkDir(m, nil)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil
	}
	return []string{m}, nil
}

// hiddenByWildcard reports whether a glob match has a hidden element that the pattern matched
// with a wildcard rather than spelling out the leading dot.
func hiddenByWildcard(pattern, match []string) bool {
	if len(pattern) != len(match) {
		return false
	}
	for i, m := range match {
		if isHidden(m) && !strings.HasPrefix(pattern[i], ".") {
			return true
		}
	}
	return false
}

// matchParts matches path elements against pattern elements where "**" matches zero or more
// elements.
func matchParts(pat, elems []string) bool {
	if len(pat) == 0 {
		return len(elems) == 0
	}
	if pat[0] == "**" {
		for k := 0; k <= len(elems); k++ {
			if matchParts(pat[1:], elems[k:]) {
				return true
			}
		}
		return false
	}
	if len(elems) == 0 {
		return false
	}
	ok, err := filepath.Match(pat[0], elems[0])
	return err == nil && ok && matchParts(pat[1:], elems[1:])
}

// InputFile is one file to read with the input entry it came from.
type InputFile struct {
	Path   string          // path to open (baseDir already applied)
	Format string          // reader name, resolved from "auto"
	Input  *pipeline.Input // the entry whose path matched it
	Index  int             // index of that entry in the config's inputs
	Size   int64           // size on disk when planned; -1 when not a regular file
}

// PlanInputs expands every input entry in order and resolves each file's format. It reports
// every problem at once (errors.Join), each prefixed with "inputs[i]: ", so that a bad path
// fails before any work. A file matched by two entries is an error.
func PlanInputs(ins []pipeline.Input, baseDir string) ([]InputFile, error) {
	var (
		files []InputFile
		errs  []error
		seen  = map[string]int{}
	)
	for i := range ins {
		in := &ins[i]
		paths, err := ExpandInputs(in, baseDir)
		if err != nil {
			errs = append(errs, fmt.Errorf("inputs[%d]: %w", i, err))
			continue
		}
		for _, p := range paths {
			format, err := FormatFor(p, in.Format)
			if err != nil {
				errs = append(errs, fmt.Errorf("inputs[%d]: %w", i, err))
				break
			}
			if in.Adapter != "" && !adapterFormats[format] {
				errs = append(errs, fmt.Errorf("inputs[%d]: %s: adapter %s needs records with fields (jsonl, parquet, arrow, csv, tsv), not %s", i, p, in.Adapter, format))
				break
			}
			if j, dup := seen[p]; dup {
				errs = append(errs, fmt.Errorf("inputs[%d]: %s is also matched by inputs[%d]; list each file once", i, p, j))
				continue
			}
			seen[p] = i
			size := int64(-1)
			if fi, err := os.Stat(p); err != nil {
				errs = append(errs, fmt.Errorf("inputs[%d]: %w", i, err))
				continue
			} else if fi.Mode().IsRegular() {
				size = fi.Size()
			}
			files = append(files, InputFile{Path: p, Format: format, Input: in, Index: i, Size: size})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return files, nil
}

// FileSummary describes an input file after it has been read, for the run manifest.
type FileSummary struct {
	Path    string `json:"path"`
	Format  string `json:"format"`
	Codec   Codec  `json:"compression"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"` // of the bytes on disk; "" when the file was not read to the end
	Records int64  `json:"records"`
}

// fileSource is implemented by this package's readers.
type fileSource interface {
	pipeline.Source
	file() *File
}

// Inputs is a pipeline.Source that reads a list of whole files one after the other, opening
// each one when the previous one is done, so at most one file is open at a time. It is a
// UnitSource with one whole-file unit per file; Files adds the per-file summary.
type Inputs struct {
	*UnitSource
}

var (
	_ pipeline.Source        = (*Inputs)(nil)
	_ pipeline.Progresser    = (*Inputs)(nil)
	_ pipeline.InputRecorder = (*Inputs)(nil)
)

// OpenInputs returns a Source over files in order. Files are opened lazily by Next; a file
// that cannot be opened then (deleted since PlanInputs) is a fatal error naming it. Its
// Progress total is -1 when some input is not a regular file.
func OpenInputs(files []InputFile) *Inputs {
	infos := make([]pipeline.InputFileInfo, len(files))
	units := make([]pipeline.InputUnit, len(files))
	var ins []pipeline.Input
	entry := map[*pipeline.Input]int{}
	unknownSize := false
	for i, f := range files {
		j, ok := entry[f.Input]
		if !ok {
			j = len(ins)
			ins = append(ins, *f.Input)
			entry[f.Input] = j
		}
		infos[i] = pipeline.InputFileInfo{Path: f.Path, Input: j, Format: f.Format, Size: f.Size}
		units[i] = pipeline.InputUnit{File: i, End: -1}
		unknownSize = unknownSize || f.Size < 0
	}
	s := &Inputs{OpenUnits(infos, units, ins)}
	if unknownSize {
		s.total = -1
	}
	return s
}

// Files returns a summary of every file read to its end so far, in read order.
func (s *Inputs) Files() []FileSummary {
	files := s.InputFiles()
	out := make([]FileSummary, len(files))
	for i, f := range files {
		out[i] = FileSummary{Path: f.Path, Format: f.Format, Codec: Codec(f.Compression), Size: f.Size, SHA256: f.SHA256, Records: f.Records}
	}
	return out
}

// lineReader splits a decompressed stream into lines with bounded memory: a line that fits
// the read buffer is returned in place, a longer one is gathered in a buffer of at most max
// bytes, and a line longer than max is skipped to its newline without being stored.
type lineReader struct {
	f      *File
	br     *bufio.Reader
	long   []byte
	max    int
	lineNo int64 // number of the last line returned
	off    int64 // decompressed offset of the next line
}

// readBufSize is the read buffer of a lineReader: lines shorter than this cost no copy.
const readBufSize = 256 << 10

func newLineReader(f *File, max, bufSize int) *lineReader {
	return &lineReader{f: f, br: bufio.NewReaderSize(f, bufSize), max: max}
}

// line is one line of input. b excludes the "\n" and is valid until the next call.
type line struct {
	b       []byte
	no      int64 // 1-based line number
	off     int64 // decompressed offset of its first byte
	size    int64 // length without "\n", also when tooLong
	tooLong bool  // size > max; b is nil
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// next reads the next line into l. It returns io.EOF at the end of the stream, or the
// *ReadError of the stream (with Line set to the line being read) when it fails; the partial
// line is then lost and reported by the error.
func (lr *lineReader) next(l *line) error {
	if cap(lr.long) > 4<<20 {
		lr.long = nil // do not keep a huge buffer after one huge line
	}
	l.no, l.off, l.tooLong, l.b = lr.lineNo+1, lr.off, false, nil
	frag, err := lr.br.ReadSlice('\n')
	if err == nil {
		l.size = int64(len(frag) - 1)
		lr.lineNo++
		lr.off += int64(len(frag))
		if l.size > int64(lr.max) {
			l.tooLong = true
		} else {
			l.b = frag[:len(frag)-1]
		}
		lr.stripBOM(l)
		return nil
	}
	lr.long = lr.long[:0]
	var n int64
	for {
		n += int64(len(frag))
		if !l.tooLong {
			if n-nlLen(frag, err) > int64(lr.max) {
				l.tooLong = true
				lr.long = lr.long[:0]
			} else {
				lr.long = append(lr.long, frag...)
			}
		}
		if err == nil || err == io.EOF && n > 0 {
			break
		}
		if err == io.EOF {
			return io.EOF
		}
		if err != bufio.ErrBufferFull {
			var re *ReadError
			if errors.As(err, &re) {
				re.Line = l.no
				return re
			}
			return &ReadError{File: lr.f.name, Line: l.no, Offset: lr.off + n, Err: err}
		}
		frag, err = lr.br.ReadSlice('\n')
	}
	nl := nlLen(frag, err)
	l.size = n - nl
	lr.lineNo++
	lr.off += n
	if !l.tooLong {
		l.b = lr.long[:len(lr.long)-int(nl)]
	}
	lr.stripBOM(l)
	return nil
}

// nlLen is 1 when frag, returned by ReadSlice with err, ends a line with "\n".
func nlLen(frag []byte, err error) int64 {
	if err == nil && len(frag) > 0 && frag[len(frag)-1] == '\n' {
		return 1
	}
	return 0
}

func (lr *lineReader) stripBOM(l *line) {
	if l.no == 1 && len(l.b) >= 3 && l.b[0] == utf8BOM[0] && l.b[1] == utf8BOM[1] && l.b[2] == utf8BOM[2] {
		l.b = l.b[3:]
	}
}
