package tokenizer

import (
	"bytes"
	"hash/maphash"
	"unicode/utf8"
)

// Counter counts and encodes text with one Tokenizer. It caches the tokens of the pieces it
// has seen and reuses its buffers, so it must be used by one goroutine at a time; make one
// per worker. In steady state (pieces found in the cache) counting allocates nothing.
type Counter struct {
	t       *Tokenizer
	seed    maphash.Seed
	cache   *wordCache // current generation
	old     *wordCache // previous generation
	work    bpeWork
	text    []byte
	nb      normBufs
	scratch [][]byte // per pre-tokenizer step
	spans   [][]span
	ids     []int32 // Encode's output
	word    []int32 // one piece's ids
	n       int     // tokens counted
	emit    bool    // collect ids, not only count
}

// NewCounter returns a Counter with an empty cache (two generations of 32k pieces, about
// 7 MB).
func (t *Tokenizer) NewCounter() *Counter {
	return &Counter{t: t, seed: maphash.MakeSeed(), cache: newWordCache(), old: newWordCache(),
		scratch: make([][]byte, len(t.pre)), spans: make([][]span, len(t.pre))}
}

// Count returns the number of tokens of text (len of Encode's result).
func (c *Counter) Count(text string) int {
	c.run(text, false)
	c.shed()
	return c.n
}

// Encode appends the token ids of text to dst and returns it.
func (c *Counter) Encode(dst []int, text string) []int {
	c.run(text, true)
	for _, id := range c.ids {
		dst = append(dst, int(id))
	}
	c.shed()
	return dst
}

// maxKeptBuffer bounds, in bytes, each buffer a Counter keeps from one text to the next.
// Buffers grow with the text (a CJK piece with no space in it can be a whole document), and
// workers keep their counters for a whole run: a huge document would otherwise leave
// buffers several times its size behind in every worker that met one.
const maxKeptBuffer = 1 << 20

func shed[T any](s []T, elemSize int) []T {
	if cap(s)*elemSize > maxKeptBuffer {
		return nil
	}
	return s
}

// shed drops the buffers a huge text grew.
func (c *Counter) shed() {
	c.text, c.nb.a, c.nb.b = shed(c.text, 1), shed(c.nb.a, 1), shed(c.nb.b, 1)
	c.ids, c.word = shed(c.ids, 4), shed(c.word, 4)
	for i := range c.scratch {
		c.scratch[i], c.spans[i] = shed(c.scratch[i], 1), shed(c.spans[i], 24)
	}
	w := &c.work
	w.ids, w.ranks, w.mids, w.next, w.prev = shed(w.ids, 4), shed(w.ranks, 4), shed(w.mids, 4), shed(w.next, 4), shed(w.prev, 4)
	w.heap = shed(w.heap, 12)
}

// Encode returns the token ids of text with a fresh Counter; for repeated use keep a Counter.
func (t *Tokenizer) Encode(text string) []int {
	return t.NewCounter().Encode(nil, text)
}

// Tokenizer returns the counter's tokenizer.
func (c *Counter) Tokenizer() *Tokenizer { return c.t }

func (c *Counter) run(text string, emit bool) {
	c.n = 0
	c.emit = emit
	c.ids = c.ids[:0]
	c.text = append(c.text[:0], text...)
	s := c.text
	c.splitAdded(c.t.rawMatch, s, true, false)
}

// splitAdded cuts the added tokens m finds out of s, counts them, and passes the text
// between them on: to segment (raw text), or with normalized to the pre-tokenizers.
func (c *Counter) splitAdded(m *addedMatcher, s []byte, atStart, normalized bool) {
	pass := func(seg []byte, atStart bool) {
		if normalized {
			c.pre(0, seg, atStart)
		} else {
			c.segment(seg, atStart)
		}
	}
	if m == nil {
		pass(s, atStart)
		return
	}
	pos, floor := 0, 0
	for pos < len(s) {
		start, stop, id, resume, ok := m.next(s, pos, floor)
		if !ok {
			break
		}
		pass(s[floor:start], atStart && floor == 0)
		c.add(id)
		floor, pos = stop, resume
	}
	pass(s[floor:], atStart && floor == 0)
}

func (c *Counter) add(id int32) {
	c.n++
	if c.emit {
		c.ids = append(c.ids, id)
	}
}

// segment normalizes a piece of text between raw added tokens, cuts out the normalized
// added tokens and pre-tokenizes the rest.
func (c *Counter) segment(s []byte, atStart bool) {
	if len(s) == 0 {
		return
	}
	t := c.t
	if len(t.norms) > 0 {
		s = runNormalizers(t.norms, &c.nb, s)
	}
	c.splitAdded(t.normMatch, s, atStart, true)
}

// pre runs pre-tokenizer step depth on s, and the model after the last step. Empty pieces
// are dropped, as HF does.
func (c *Counter) pre(depth int, s []byte, atStart bool) {
	if len(s) == 0 {
		return
	}
	if depth < len(c.t.pre) {
		c.t.pre[depth].run(c, depth, s, atStart)
		return
	}
	if !c.t.chunk {
		c.piece(s)
		return
	}
	// Cut SentencePiece-style text before "▁" where no token can span the cut.
	from := 0
	for i := 0; ; {
		k := bytes.Index(s[i:], metaspaceBytes)
		if k < 0 {
			break
		}
		at := i + k
		if at > from {
			p, w := utf8.DecodeLastRune(s[:at])
			if c.t.cutAfter(p, s[at-w:at]) {
				c.piece(s[from:at])
				from = at
			}
		}
		i = at + len(metaspaceBytes)
	}
	c.piece(s[from:])
}

var metaspaceBytes = []byte(metaspace)

// cutAfter reports whether SentencePiece-style text may be cut between the character p
// (bytes pb) and a following "▁".
func (t *Tokenizer) cutAfter(p rune, pb []byte) bool {
	if p < utf8.RuneSelf {
		return t.cutAfterASCII[p]
	}
	if t.chunkAfter[p] {
		return true
	}
	if !t.chunkOnBytes {
		return false
	}
	_, inVocab := t.vocab[string(pb)]
	return !inVocab && t.hasByteTokens(pb)
}

// piece adds the tokens of one pre-tokenized piece, through the cache. The cache has two
// generations: pieces are stored in the current one; when it is full the previous one is
// emptied and becomes current, and a piece found only in the previous one is copied into
// the current one. Frequent pieces thus outlive a reset, and a worker moving on to text in
// another language stops paying for the words of the first after two generations.
func (c *Counter) piece(s []byte) {
	if len(s) > maxCachedWord {
		c.word = c.t.encodeWord(&c.work, s, c.word[:0])
		c.addAll(c.word)
		return
	}
	h := cacheHash(c.seed, s)
	if ids, ok := c.cache.get(h, s); ok {
		c.addAll(ids)
		return
	}
	ids, ok := c.old.get(h, s)
	if !ok {
		c.word = c.t.encodeWord(&c.work, s, c.word[:0])
		ids = c.word
	}
	if c.cache.full(len(s), len(ids)) {
		if ok { // ids live in c.old, which is about to be emptied
			c.word = append(c.word[:0], ids...)
			ids = c.word
		}
		c.cache, c.old = c.old, c.cache
		c.cache.reset()
	}
	c.cache.put(h, s, ids)
	c.addAll(ids)
}

func (c *Counter) addAll(ids []int32) {
	c.n += len(ids)
	if c.emit {
		c.ids = append(c.ids, ids...)
	}
}
