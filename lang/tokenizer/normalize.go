package tokenizer

import (
	"bytes"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites a piece of text: it appends the result to dst and reports true, or
// reports false when the piece stays as it is (dst is then unused).
type normalizer interface {
	apply(nb *normBufs, dst, src []byte) ([]byte, bool)
}

type unicodeNorm struct{ form norm.Form }

func (n unicodeNorm) apply(nb *normBufs, dst, src []byte) ([]byte, bool) {
	q := n.form.QuickSpan(src)
	if q == len(src) {
		return nil, false
	}
	// Text is copied as far as the quick check says it is normal, and only the segment
	// that stopped it goes through the normalizer (an Iter kept in the buffers, which
	// unlike Form.Append allocates nothing): Yoruba's combining tone marks stop the quick
	// check often, and most of the text around them is already normal.
	dst = append(dst, src[:q]...)
	rest := src[q:]
	for len(rest) > 0 {
		m := n.form.NextBoundary(rest, true)
		if m <= 0 {
			m = len(rest)
		}
		nb.it.Init(n.form, rest[:m])
		for !nb.it.Done() {
			dst = append(dst, nb.it.Next()...)
		}
		rest = rest[m:]
		q = n.form.QuickSpan(rest)
		dst = append(dst, rest[:q]...)
		rest = rest[q:]
	}
	return dst, true
}

// replaceNorm is Replace with a string pattern: every occurrence of old becomes new.
type replaceNorm struct{ old, new []byte }

func (n replaceNorm) apply(_ *normBufs, dst, src []byte) ([]byte, bool) {
	i := bytes.Index(src, n.old)
	if i < 0 {
		return nil, false
	}
	for i >= 0 {
		dst = append(dst, src[:i]...)
		dst = append(dst, n.new...)
		src = src[i+len(n.old):]
		i = bytes.Index(src, n.old)
	}
	return append(dst, src...), true
}

// prependNorm is Prepend: a non-empty piece gets the prefix.
type prependNorm struct{ prefix []byte }

func (n prependNorm) apply(_ *normBufs, dst, src []byte) ([]byte, bool) {
	if len(src) == 0 {
		return nil, false
	}
	dst = append(dst, n.prefix...)
	return append(dst, src...), true
}

// normBufs are the two buffers a chain of normalizers alternates between, and the state of
// Unicode normalization.
type normBufs struct {
	a, b []byte
	it   norm.Iter
}

// runNormalizers applies steps in order to src and returns the result, which is src itself
// or lives in one of nb's buffers.
func runNormalizers(steps []normalizer, nb *normBufs, src []byte) []byte {
	cur := src
	intoA := true
	for _, s := range steps {
		dst := nb.b[:0]
		if intoA {
			dst = nb.a[:0]
		}
		out, changed := s.apply(nb, dst, cur)
		if !changed {
			continue
		}
		if intoA {
			nb.a = out
		} else {
			nb.b = out
		}
		cur = out
		intoA = !intoA
	}
	return cur
}
