package tokenizer

import "bytes"

// preStep is one pre-tokenizer: it cuts (and may rewrite) a piece and hands each resulting
// piece to the next step with c.pre(depth+1, ...). atStart says whether the piece begins at
// offset 0 of the original text (Metaspace's prepend_scheme "first" depends on it).
type preStep interface {
	run(c *Counter, depth int, s []byte, atStart bool)
}

// Split behaviours, as HF's SplitDelimiterBehavior.
const (
	behRemoved = iota
	behIsolated
	behMergedWithPrevious
	behMergedWithNext
	behContiguous
)

var behaviors = map[string]int{
	"Removed": behRemoved, "Isolated": behIsolated, "MergedWithPrevious": behMergedWithPrevious,
	"MergedWithNext": behMergedWithNext, "Contiguous": behContiguous,
}

// regexStep is Split with one of the known regexes, behaviour Isolated: every match is a
// piece (the patterns leave no gaps).
type regexStep struct{ pat *splitPattern }

func (r regexStep) run(c *Counter, depth int, s []byte, atStart bool) {
	for i := 0; i < len(s); {
		e := r.pat.end(s, i)
		c.pre(depth+1, s[i:e], atStart && i == 0)
		i = e
	}
}

// span is a part of a piece; match says whether it is a delimiter.
type span struct {
	start, end int
	match      bool
}

// splitStep is Split with a string pattern (or a known regex with another behaviour than
// Isolated, or inverted).
type splitStep struct {
	lit      []byte        // string pattern, or
	pat      *splitPattern // known regex
	behavior int
	invert   bool
}

func (st splitStep) run(c *Counter, depth int, s []byte, atStart bool) {
	spans := c.spans[depth][:0]
	add := func(a, b int, m bool) {
		if a < b {
			spans = append(spans, span{a, b, m != st.invert})
		}
	}
	prev := 0
	if st.pat != nil {
		for i := 0; i < len(s); {
			e := st.pat.end(s, i)
			add(i, e, true)
			i = e
		}
		prev = len(s)
	} else {
		for i := 0; i < len(s); {
			k := bytes.Index(s[i:], st.lit)
			if k < 0 {
				break
			}
			add(prev, i+k, false)
			add(i+k, i+k+len(st.lit), true)
			i += k + len(st.lit)
			prev = i
		}
	}
	add(prev, len(s), false)
	spans = applyBehavior(spans, st.behavior)
	c.spans[depth] = spans
	for _, sp := range spans {
		c.pre(depth+1, s[sp.start:sp.end], atStart && sp.start == 0)
	}
}

// applyBehavior turns delimiter and non-delimiter spans into pieces, in place, following
// HF's rules for each behaviour.
func applyBehavior(spans []span, behavior int) []span {
	out := spans[:0]
	switch behavior {
	case behIsolated:
		return spans
	case behRemoved:
		for _, sp := range spans {
			if !sp.match {
				out = append(out, sp)
			}
		}
	case behMergedWithPrevious:
		prevMatch := false
		for _, sp := range spans {
			if sp.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, sp)
			}
			prevMatch = sp.match
		}
	case behMergedWithNext:
		// From the right: a delimiter joins the piece after it, unless that is a delimiter.
		n := len(spans)
		w := n
		prevMatch := false
		for i := n - 1; i >= 0; i-- {
			sp := spans[i]
			if sp.match && !prevMatch && w < n {
				spans[w].start = sp.start
			} else {
				w--
				spans[w] = sp
			}
			prevMatch = sp.match
		}
		out = append(out, spans[w:]...)
	case behContiguous:
		prevMatch := false
		for _, sp := range spans {
			if sp.match == prevMatch && len(out) > 0 {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, sp)
			}
			prevMatch = sp.match
		}
	}
	return out
}

// metaspaceStep is the Metaspace pre-tokenizer: spaces become the replacement character, a
// piece gets one in front (prepend_scheme always, or first: only the piece at the start of
// the text), and with split the piece is cut before each replacement character.
type metaspaceStep struct {
	rep     []byte
	prepend int // prependAlways, prependFirst, prependNever
	split   bool
}

const (
	prependAlways = iota
	prependFirst
	prependNever
)

func (m metaspaceStep) run(c *Counter, depth int, s []byte, atStart bool) {
	buf := c.scratch[depth][:0]
	// HF replaces spaces first, so a piece starting with a space gets no extra one.
	if s[0] != ' ' && !bytes.HasPrefix(s, m.rep) && (m.prepend == prependAlways || (m.prepend == prependFirst && atStart)) {
		buf = append(buf, m.rep...)
	}
	for _, b := range s {
		if b == ' ' {
			buf = append(buf, m.rep...)
		} else {
			buf = append(buf, b)
		}
	}
	c.scratch[depth] = buf
	if !m.split {
		c.pre(depth+1, buf, atStart)
		return
	}
	splitStep{lit: m.rep, behavior: behMergedWithNext}.run(c, depth, buf, atStart)
}

// byteLevelStep is the ByteLevel pre-tokenizer: an optional leading space, an optional
// GPT-2 split, and the mapping of bytes to the byte-level alphabet, which is implicit here
// because byte-level vocabularies are held as raw bytes.
type byteLevelStep struct {
	prefixSpace bool
	useRegex    bool
}

func (b byteLevelStep) run(c *Counter, depth int, s []byte, atStart bool) {
	if b.prefixSpace && s[0] != ' ' {
		buf := append(c.scratch[depth][:0], ' ')
		buf = append(buf, s...)
		c.scratch[depth] = buf
		s = buf
	}
	if !b.useRegex {
		c.pre(depth+1, s, atStart)
		return
	}
	for i := 0; i < len(s); {
		e := patGPT2.end(s, i)
		c.pre(depth+1, s[i:e], atStart && i == 0)
		i = e
	}
}
