package pipeline

import (
	"errors"
	"sync"

	"go.yaml.in/yaml/v3"
)

// TokenizerInfo identifies the tokenizer a run counted tokens with; stats.json records it
// as "tokenizer".
type TokenizerInfo struct {
	File   string `json:"file"`   // the tokenizer.json as configured (resolved path)
	SHA256 string `json:"sha256"` // of the file's bytes
	Family string `json:"family"` // "byte-level BPE" or "SentencePiece-style BPE"
}

// Tokenizer is a loaded coverage.tokenizer. NewCounter returns a token counter for one
// goroutine (counters keep caches and buffers, so workers do not share one).
type Tokenizer struct {
	Info       TokenizerInfo
	NewCounter func() func(text string) int
}

var (
	tokenizerMu     sync.Mutex
	tokenizerLoader func(path string) (*Tokenizer, error)
)

// RegisterTokenizerLoader sets how coverage.tokenizer files are loaded (the CLI registers
// lang/tokenizer), so that this package depends on no tokenizer implementation.
func RegisterTokenizerLoader(load func(path string) (*Tokenizer, error)) {
	tokenizerMu.Lock()
	defer tokenizerMu.Unlock()
	tokenizerLoader = load
}

// LoadTokenizer loads the tokenizer of coverage.tokenizer, once: the loader keeps it in
// c.Loaded, so validation at start-up and the run share one copy. nil when the key is unset.
func (c *Coverage) LoadTokenizer() (*Tokenizer, error) {
	if c.Tokenizer == "" {
		return nil, nil
	}
	if c.Loaded != nil {
		return c.Loaded, nil
	}
	tokenizerMu.Lock()
	load := tokenizerLoader
	tokenizerMu.Unlock()
	if load == nil {
		return nil, errors.New("this build of sieve cannot load tokenizers (no loader registered)")
	}
	t, err := load(c.Tokenizer)
	if err != nil {
		return nil, err
	}
	c.Loaded = t
	return t, nil
}

// checkTokenizer resolves coverage.tokenizer against the config file's directory and loads
// it, so that a missing or unsupported file is a start-up error at its line. n is the
// coverage mapping.
func (l *loader) checkTokenizer(n *yaml.Node, cov *Coverage, base string) {
	if cov.Tokenizer == "" {
		return
	}
	cov.Tokenizer = resolvePath(base, cov.Tokenizer)
	if _, err := cov.LoadTokenizer(); err != nil {
		l.add(fieldNode(n, "tokenizer"), "coverage.tokenizer", "%v", err)
	}
}

// tokenCounters hands each worker a token counter and takes it back: at most one per
// worker is ever made, and they are kept for the whole run with their caches warm.
type tokenCounters struct {
	free chan func(string) int
	make func() func(string) int
}

func newTokenCounters(t *Tokenizer, workers int) *tokenCounters {
	if t == nil {
		return nil
	}
	return &tokenCounters{free: make(chan func(string) int, max(workers, 1)+1), make: t.NewCounter}
}

func (tc *tokenCounters) count(text string) int {
	var c func(string) int
	select {
	case c = <-tc.free:
	default:
		c = tc.make()
	}
	n := c(text)
	select {
	case tc.free <- c:
	default:
	}
	return n
}
