package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// decStep is one decoder of the chain: it rewrites the list of token strings.
type decStep interface {
	decode(tokens []string) []string
}

func (p *parser) decSteps(path string, raw json.RawMessage) ([]decStep, error) {
	c, typ, err := p.component(path, raw)
	if err != nil || c == nil {
		return nil, err
	}
	switch typ {
	case "Sequence":
		return sequence(p, c, path, "decoders", p.decSteps)
	case "ByteLevel":
		return []decStep{byteLevelDec{}}, nil
	case "ByteFallback":
		return []decStep{byteFallbackDec{}}, nil
	case "Fuse":
		return []decStep{fuseDec{}}, nil
	case "Replace":
		lit, err := p.stringPattern(c, path)
		if err != nil {
			return nil, err
		}
		var content string
		if err := p.field(c, path, "content", &content); err != nil {
			return nil, err
		}
		return []decStep{replaceDec{lit, content}}, nil
	case "Strip":
		var d stripDec
		if err := p.field(c, path, "content", &d.content); err != nil {
			return nil, err
		}
		if err := p.field(c, path, "start", &d.start); err != nil {
			return nil, err
		}
		if err := p.field(c, path, "stop", &d.stop); err != nil {
			return nil, err
		}
		return []decStep{d}, nil
	case "Metaspace":
		var rep, scheme string
		if err := p.field(c, path, "replacement", &rep); err != nil {
			return nil, err
		}
		if err := p.field(c, path, "prepend_scheme", &scheme); err != nil {
			return nil, err
		}
		strip := scheme != "never"
		if scheme == "" {
			var legacy *bool
			if err := p.field(c, path, "add_prefix_space", &legacy); err != nil {
				return nil, err
			}
			strip = legacy == nil || *legacy
		}
		return []decStep{metaspaceDec{rep, strip}}, nil
	}
	return nil, p.unsupported(path+".type", "decoder %q (supported: ByteLevel, ByteFallback, Fuse, Replace, Strip, Metaspace, Sequence)", typ)
}

// byteLevelDec maps byte-level characters back to bytes and joins everything into one
// string (invalid UTF-8 becomes U+FFFD); a token with characters outside the alphabet is
// taken as it is.
type byteLevelDec struct{}

func (byteLevelDec) decode(tokens []string) []string {
	var b []byte
	for _, t := range tokens {
		if raw, ok := byteLevelDecode(t); ok {
			b = append(b, raw...)
		} else {
			b = append(b, t...)
		}
	}
	return []string{strings.ToValidUTF8(string(b), "\uFFFD")}
}

// byteFallbackDec turns runs of <0xNN> tokens into the characters their bytes spell, or
// one U+FFFD per byte when they are not valid UTF-8.
type byteFallbackDec struct{}

func (byteFallbackDec) decode(tokens []string) []string {
	var out []string
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\uFFFD")
			}
		}
		pending = pending[:0]
	}
	for _, t := range tokens {
		if b, ok := byteToken(t); ok {
			pending = append(pending, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

func byteToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	var v byte
	for _, c := range []byte(t[3:5]) {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		case c >= 'a' && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}

type fuseDec struct{}

func (fuseDec) decode(tokens []string) []string { return []string{strings.Join(tokens, "")} }

type replaceDec struct{ old, new string }

func (d replaceDec) decode(tokens []string) []string {
	for i, t := range tokens {
		tokens[i] = strings.ReplaceAll(t, d.old, d.new)
	}
	return tokens
}

// stripDec removes up to start leading and stop trailing occurrences of content from each
// token.
type stripDec struct {
	content     string
	start, stop int
}

func (d stripDec) decode(tokens []string) []string {
	for i, t := range tokens {
		for n := 0; n < d.start && d.content != "" && strings.HasPrefix(t, d.content); n++ {
			t = t[len(d.content):]
		}
		for n := 0; n < d.stop && d.content != "" && strings.HasSuffix(t, d.content); n++ {
			t = t[:len(t)-len(d.content)]
		}
		tokens[i] = t
	}
	return tokens
}

// metaspaceDec turns the replacement character back into spaces, dropping those of the
// first token when the encoder prepends one.
type metaspaceDec struct {
	rep   string
	strip bool
}

func (d metaspaceDec) decode(tokens []string) []string {
	for i, t := range tokens {
		var b strings.Builder
		for _, r := range t {
			if string(r) == d.rep {
				if i == 0 && d.strip {
					continue
				}
				b.WriteByte(' ')
			} else {
				b.WriteRune(r)
			}
		}
		tokens[i] = b.String()
	}
	return tokens
}

// Decode turns token ids back into text as HF's decode(ids, skip_special_tokens=False)
// does, following the file's decoder (added tokens decode to their content). Without a
// decoder the token strings are joined.
func (t *Tokenizer) Decode(ids []int) (string, error) {
	if t.decodeErr != nil {
		return "", t.decodeErr
	}
	tokens := make([]string, 0, len(ids))
	for _, id := range ids {
		if a, ok := t.addedByID[int32(id)]; ok {
			tokens = append(tokens, a.Content)
			continue
		}
		if id < 0 || id >= len(t.idToken) || !t.idSet[id] {
			return "", fmt.Errorf("%s: token id %d is not in the vocabulary", t.name, id)
		}
		tokens = append(tokens, t.idToken[id])
	}
	for _, d := range t.decoders {
		tokens = d.decode(tokens)
	}
	var b bytes.Buffer
	for _, s := range tokens {
		b.WriteString(s)
	}
	return b.String(), nil
}
