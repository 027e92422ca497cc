package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
)

// Source yields documents. Next fills doc (which the caller resets between calls) with the
// next record and returns io.EOF after the last one. A record that cannot be parsed is not an
// error when the input's on_error is "reject": Next returns it pre-rejected (doc.Reject with
// stage "read"). Any returned error other than io.EOF is fatal and names the file and
// line or byte offset.
type Source interface {
	Next(ctx context.Context, doc *Document) error
	Close() error
}

// Progresser is implemented by sources that know how far they are: bytes consumed of the
// (compressed) input and the total, or total < 0 when unknown.
type Progresser interface {
	Progress() (done, total int64)
}

// Sink receives documents in Seq order from one goroutine. Nothing it writes is visible under
// its final name before Commit returns; Abort removes whatever it wrote.
type Sink interface {
	Write(ctx context.Context, doc *Document) error
	Commit(ctx context.Context) error
	Abort() error
}

// SinkFiles is implemented by sinks that can list the files they committed (relative to the
// run directory), for the manifest.
type SinkFiles interface {
	Files() []string
}

// ReaderFactory opens one input file according to its input config.
type ReaderFactory func(path string, in *Input) (Source, error)

// WriterFactory creates the sink for kept documents (or rejects) under dir.
type WriterFactory func(dir string, out *Output) (Sink, error)

var (
	ioMu    sync.RWMutex
	readers = map[string]ReaderFactory{}
	writers = map[string]WriterFactory{}
)

// RegisterReader makes an input format available under name (called from init in formats).
func RegisterReader(name string, f ReaderFactory) {
	ioMu.Lock()
	defer ioMu.Unlock()
	if _, dup := readers[name]; dup {
		panic(fmt.Sprintf("reader %q registered twice", name))
	}
	readers[name] = f
}

// RegisterWriter makes an output format available under name (called from init in formats).
func RegisterWriter(name string, f WriterFactory) {
	ioMu.Lock()
	defer ioMu.Unlock()
	if _, dup := writers[name]; dup {
		panic(fmt.Sprintf("writer %q registered twice", name))
	}
	writers[name] = f
}

// LookupReader returns the reader for a format name.
func LookupReader(name string) (ReaderFactory, bool) {
	ioMu.RLock()
	defer ioMu.RUnlock()
	f, ok := readers[name]
	return f, ok
}

// LookupWriter returns the writer for a format name.
func LookupWriter(name string) (WriterFactory, bool) {
	ioMu.RLock()
	defer ioMu.RUnlock()
	f, ok := writers[name]
	return f, ok
}

// ReaderNames and WriterNames list the registered formats, sorted.
func ReaderNames() []string { return sortedKeys(readers) }
func WriterNames() []string { return sortedKeys(writers) }

func sortedKeys[V any](m map[string]V) []string {
	ioMu.RLock()
	defer ioMu.RUnlock()
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func resolvePath(base, p string) string {
	if p == "" || filepath.IsAbs(p) || base == "" {
		return p
	}
	return filepath.Join(base, p)
}
