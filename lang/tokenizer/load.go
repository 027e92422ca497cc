package tokenizer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Error is a problem with a tokenizer.json file: the JSON path of the offending value (as
// "pre_tokenizer.pretokenizers[0].pattern.Regex") and what is wrong with it.
type Error struct {
	File string // the file, or "tokenizer.json" when parsed from memory
	Path string // JSON path; empty for the file as a whole
	Msg  string

	unsupported bool
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.File + ": " + e.Msg
	}
	return e.File + ": " + e.Path + ": " + e.Msg
}

// ErrUnsupported is wrapped by errors about valid tokenizer.json files that use a component
// this package does not implement.
var ErrUnsupported = errors.New("not supported")

// Is lets errors.Is(err, ErrUnsupported) hold for errors about unsupported components.
func (e *Error) Is(target error) bool { return target == ErrUnsupported && e.unsupported }

// maxFileBytes bounds what Load reads: the largest tokenizer.json files in use (Gemma 3:
// 262k tokens, 515k merges) are about 33 MB.
const maxFileBytes = 512 << 20

// Load reads and parses a tokenizer.json file.
func Load(path string) (*Tokenizer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, &Error{File: path, Msg: "is a directory; want a tokenizer.json file"}
	}
	if fi.Size() > maxFileBytes {
		return nil, &Error{File: path, Msg: fmt.Sprintf("%d bytes; a tokenizer.json may be at most %d", fi.Size(), maxFileBytes)}
	}
	data := make([]byte, fi.Size())
	if _, err := readFull(f, data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t, err := parse(path, data)
	if err != nil {
		return nil, err
	}
	t.name = filepath.Base(path)
	return t, nil
}

func readFull(f *os.File, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := f.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Parse parses the contents of a tokenizer.json file.
func Parse(data []byte) (*Tokenizer, error) {
	return parse("tokenizer.json", data)
}

type fileJSON struct {
	Version      string          `json:"version"`
	AddedTokens  []addedJSON     `json:"added_tokens"`
	Normalizer   json.RawMessage `json:"normalizer"`
	PreTokenizer json.RawMessage `json:"pre_tokenizer"`
	Decoder      json.RawMessage `json:"decoder"`
	Model        json.RawMessage `json:"model"`
}

type addedJSON struct {
	ID         *int64 `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized *bool  `json:"normalized"`
	Special    bool   `json:"special"`
}

type modelJSON struct {
	Type                    string          `json:"type"`
	Dropout                 *float64        `json:"dropout"`
	UnkToken                *string         `json:"unk_token"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	FuseUnk                 bool            `json:"fuse_unk"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Vocab                   json.RawMessage `json:"vocab"` // decoded once the type is known to be BPE
	vocab                   map[string]int64
	Merges                  json.RawMessage `json:"merges"`
}

type parser struct {
	file string
	m    modelJSON // decoded once by model, used by vocab
}

func (p *parser) errf(path, format string, args ...any) error {
	return &Error{File: p.file, Path: path, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) unsupported(path, format string, args ...any) error {
	return &Error{File: p.file, Path: path, Msg: fmt.Sprintf(format, args...) + ": " + ErrUnsupported.Error(), unsupported: true}
}

// component is a normalizer, pre-tokenizer or decoder object: its type and fields.
type component map[string]json.RawMessage

func (p *parser) component(path string, raw json.RawMessage) (component, string, error) {
	if isNull(raw) {
		return nil, "", nil
	}
	var c component
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, "", p.errf(path, "want an object: %v", err)
	}
	var typ string
	if err := json.Unmarshal(c["type"], &typ); err != nil || typ == "" {
		return nil, "", p.errf(path+".type", "missing or not a string")
	}
	return c, typ, nil
}

func isNull(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// sequence parses the list c[key] of a Sequence component, each element with parse.
func sequence[T any](p *parser, c component, path, key string, parse func(path string, raw json.RawMessage) ([]T, error)) ([]T, error) {
	var list []json.RawMessage
	if err := p.field(c, path, key, &list); err != nil {
		return nil, err
	}
	var out []T
	for i, r := range list {
		s, err := parse(fmt.Sprintf("%s.%s[%d]", path, key, i), r)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	return out, nil
}

// field decodes c[key] into v; absent keys leave v as it is.
func (p *parser) field(c component, path, key string, v any) error {
	raw, ok := c[key]
	if !ok || isNull(raw) {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return p.errf(path+"."+key, "%v", err)
	}
	return nil
}

func parse(file string, data []byte) (*Tokenizer, error) {
	initClasses()
	p := &parser{file: file}
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, p.errf("", "not a tokenizer.json: %v", err)
	}
	sum := sha256.Sum256(data)
	t := &Tokenizer{name: file, sha256: hex.EncodeToString(sum[:]), unkID: -1, addedByID: map[int32]*AddedToken{}}
	if err := p.model(t, f.Model); err != nil {
		return nil, err
	}
	if err := p.preTokenizer(t, f.PreTokenizer); err != nil {
		return nil, err
	}
	if err := p.vocab(t); err != nil {
		return nil, err
	}
	if err := p.normalizer(t, f.Normalizer); err != nil {
		return nil, err
	}
	if err := p.added(t, f.AddedTokens); err != nil {
		return nil, err
	}
	if err := p.decoder(t, f.Decoder); err != nil {
		return nil, err
	}
	t.setupChunking()
	t.setupLookups()
	return t, nil
}

func (p *parser) model(t *Tokenizer, raw json.RawMessage) error {
	if isNull(raw) {
		return p.errf("model", "missing")
	}
	if err := json.Unmarshal(raw, &p.m); err != nil {
		return p.errf("model", "%v", err)
	}
	m := &p.m
	switch {
	case m.Type == "":
		return p.errf("model.type", "missing; want \"BPE\"")
	case m.Type != "BPE":
		return p.unsupported("model.type", "%q (only BPE models are supported: WordPiece, Unigram and WordLevel are not)", m.Type)
	case m.Dropout != nil && *m.Dropout != 0:
		return p.unsupported("model.dropout", "%v (BPE dropout makes counts random; want null or 0)", *m.Dropout)
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "":
		return p.unsupported("model.continuing_subword_prefix", "%q", *m.ContinuingSubwordPrefix)
	case m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "":
		return p.unsupported("model.end_of_word_suffix", "%q", *m.EndOfWordSuffix)
	case isNull(m.Vocab):
		return p.errf("model.vocab", "missing")
	}
	if err := json.Unmarshal(m.Vocab, &m.vocab); err != nil {
		return p.errf("model.vocab", "want an object of token: id: %v", err)
	}
	t.byteFallback = m.ByteFallback
	t.fuseUnk = m.FuseUnk
	t.ignoreMerges = m.IgnoreMerges
	if m.UnkToken != nil {
		t.unkToken = *m.UnkToken
	}
	return nil
}

// vocab builds the vocabulary and merges. It runs after the pre-tokenizer is known, since a
// byte-level vocabulary is stored as the raw bytes its strings stand for.
func (p *parser) vocab(t *Tokenizer) error {
	m := &p.m
	t.vocab = make(map[string]int32, len(m.vocab))
	maxID := int64(-1)
	keys := make([]string, 0, len(m.vocab))
	for k := range m.vocab {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic errors
	// Ids are dense in real files; a bound keeps a hostile file from making Load allocate
	// gigabytes for a vocabulary of a few entries.
	limit := int64(4*len(m.vocab) + 1<<16)
	for _, k := range keys {
		id := m.vocab[k]
		if id < 0 || id >= limit {
			return p.errf("model.vocab", "token %q has id %d; want 0..%d for a vocabulary of %d entries", k, id, limit-1, len(m.vocab))
		}
		maxID = max(maxID, id)
	}
	t.modelSize = len(m.vocab)
	t.idToken = make([]string, maxID+1)
	t.idSet = make([]bool, maxID+1)
	for _, k := range keys {
		id := m.vocab[k]
		t.idToken[id] = k
		t.idSet[id] = true
		key := k
		if t.byteLevel {
			b, ok := byteLevelDecode(k)
			if !ok {
				// Cannot come out of byte-level text; kept for decoding and added tokens.
				if t.otherKeys == nil {
					t.otherKeys = map[string]int32{}
				}
				t.otherKeys[k] = int32(id)
				continue
			}
			key = string(b)
		}
		t.vocab[key] = int32(id)
	}
	for i := range t.byteID {
		t.byteID[i], t.byteTok[i] = -1, -1
		if id, ok := t.vocab[string([]byte{byte(i)})]; ok && t.byteLevel {
			t.byteID[i] = id
		}
		if id, ok := t.vocab[fmt.Sprintf("<0x%02X>", i)]; ok && !t.byteLevel {
			t.byteTok[i] = id
		}
	}
	if t.unkToken != "" {
		id, ok := m.vocab[t.unkToken]
		if !ok {
			return p.errf("model.unk_token", "%q is not in model.vocab", t.unkToken)
		}
		t.unkID = int32(id)
	}
	return p.merges(t, m.Merges)
}

func (p *parser) merges(t *Tokenizer, raw json.RawMessage) error {
	if isNull(raw) {
		t.merges = newMergeTable(0)
		return nil
	}
	var pairs [][2]string
	// "a b" strings (older files) or [a, b] pairs: the first element tells.
	body := bytes.TrimSpace(raw)
	pairForm := false
	if len(body) > 0 && body[0] == '[' {
		rest := bytes.TrimSpace(body[1:])
		pairForm = len(rest) > 0 && rest[0] == '['
	}
	if !pairForm {
		var lines []string
		if err := json.Unmarshal(raw, &lines); err != nil {
			return p.errf("model.merges", "want a list of \"a b\" strings or of [a, b] pairs: %v", err)
		}
		pairs = make([][2]string, len(lines))
		for i, l := range lines {
			a, b, ok := strings.Cut(l, " ")
			if !ok || strings.Contains(b, " ") {
				return p.errf(fmt.Sprintf("model.merges[%d]", i), "%q: want two tokens separated by one space", l)
			}
			pairs[i] = [2]string{a, b}
		}
	}
	if pairForm {
		var arr [][]string
		if err := json.Unmarshal(raw, &arr); err != nil {
			return p.errf("model.merges", "want a list of \"a b\" strings or of [a, b] pairs: %v", err)
		}
		pairs = make([][2]string, len(arr))
		for i, pr := range arr {
			if len(pr) != 2 {
				return p.errf(fmt.Sprintf("model.merges[%d]", i), "want 2 tokens, got %d", len(pr))
			}
			pairs[i] = [2]string{pr[0], pr[1]}
		}
	}
	t.merges = newMergeTable(len(pairs))
	id := func(s string) (int32, bool, error) {
		if !t.byteLevel {
			v, ok := t.vocab[s]
			return v, ok, nil
		}
		b, ok := byteLevelDecode(s)
		if !ok {
			return 0, false, nil
		}
		v, ok := t.vocab[string(b)]
		return v, ok, nil
	}
	for i, pr := range pairs {
		path := fmt.Sprintf("model.merges[%d]", i)
		a, okA, _ := id(pr[0])
		b, okB, _ := id(pr[1])
		c, okC, _ := id(pr[0] + pr[1])
		if t.byteLevel {
			if _, enc := byteLevelDecode(pr[0] + pr[1]); !enc {
				continue // outside the byte alphabet: can never apply to byte-level text
			}
		}
		switch {
		case !okA:
			return p.errf(path, "%q is not in model.vocab", pr[0])
		case !okB:
			return p.errf(path, "%q is not in model.vocab", pr[1])
		case !okC:
			return p.errf(path, "the merged token %q is not in model.vocab", pr[0]+pr[1])
		}
		t.merges.put(a, b, merge{rank: int32(i), id: c})
	}
	return nil
}

func (p *parser) normalizer(t *Tokenizer, raw json.RawMessage) error {
	steps, err := p.normSteps("normalizer", raw)
	if err != nil {
		return err
	}
	t.norms = steps
	return nil
}

func (p *parser) normSteps(path string, raw json.RawMessage) ([]normalizer, error) {
	c, typ, err := p.component(path, raw)
	if err != nil || c == nil {
		return nil, err
	}
	switch typ {
	case "Sequence":
		return sequence(p, c, path, "normalizers", p.normSteps)
	case "NFC":
		return []normalizer{unicodeNorm{norm.NFC}}, nil
	case "NFD":
		return []normalizer{unicodeNorm{norm.NFD}}, nil
	case "NFKC":
		return []normalizer{unicodeNorm{norm.NFKC}}, nil
	case "NFKD":
		return []normalizer{unicodeNorm{norm.NFKD}}, nil
	case "Prepend":
		var s string
		if err := p.field(c, path, "prepend", &s); err != nil {
			return nil, err
		}
		return []normalizer{prependNorm{[]byte(s)}}, nil
	case "Replace":
		lit, err := p.stringPattern(c, path)
		if err != nil {
			return nil, err
		}
		var content string
		if err := p.field(c, path, "content", &content); err != nil {
			return nil, err
		}
		return []normalizer{replaceNorm{[]byte(lit), []byte(content)}}, nil
	}
	return nil, p.unsupported(path+".type", "normalizer %q (supported: NFC, NFD, NFKC, NFKD, Replace, Prepend, Sequence)", typ)
}

// stringPattern reads {"pattern": {"String": s}}; a Regex pattern is refused.
func (p *parser) stringPattern(c component, path string) (string, error) {
	var pat map[string]string
	if err := p.field(c, path, "pattern", &pat); err != nil {
		return "", err
	}
	if re, ok := pat["Regex"]; ok {
		return "", p.unsupported(path+".pattern.Regex", "%q (Replace supports string patterns only)", re)
	}
	s, ok := pat["String"]
	if !ok || s == "" {
		return "", p.errf(path+".pattern", "want {\"String\": \"...\"} with a non-empty string")
	}
	return s, nil
}

func (p *parser) preTokenizer(t *Tokenizer, raw json.RawMessage) error {
	steps, err := p.preSteps(t, "pre_tokenizer", raw)
	if err != nil {
		return err
	}
	for i, s := range steps {
		if _, ok := s.(byteLevelStep); ok && i != len(steps)-1 {
			return p.unsupported("pre_tokenizer", "a ByteLevel pre-tokenizer followed by another one")
		}
	}
	t.pre = steps
	return nil
}

func (p *parser) preSteps(t *Tokenizer, path string, raw json.RawMessage) ([]preStep, error) {
	c, typ, err := p.component(path, raw)
	if err != nil || c == nil {
		return nil, err
	}
	switch typ {
	case "Sequence":
		return sequence(p, c, path, "pretokenizers", func(path string, raw json.RawMessage) ([]preStep, error) {
			return p.preSteps(t, path, raw)
		})
	case "ByteLevel":
		st := byteLevelStep{prefixSpace: true, useRegex: true}
		if err := p.field(c, path, "add_prefix_space", &st.prefixSpace); err != nil {
			return nil, err
		}
		if err := p.field(c, path, "use_regex", &st.useRegex); err != nil {
			return nil, err
		}
		t.byteLevel = true
		return []preStep{st}, nil
	case "Metaspace":
		var rep string
		if err := p.field(c, path, "replacement", &rep); err != nil {
			return nil, err
		}
		if utf8.RuneCountInString(rep) != 1 {
			return nil, p.errf(path+".replacement", "%q: want one character", rep)
		}
		st := metaspaceStep{rep: []byte(rep), prepend: prependAlways, split: true}
		var scheme string
		if err := p.field(c, path, "prepend_scheme", &scheme); err != nil {
			return nil, err
		}
		switch scheme {
		case "", "always":
			var legacy *bool // add_prefix_space of older files
			if err := p.field(c, path, "add_prefix_space", &legacy); err != nil {
				return nil, err
			}
			if scheme == "" && legacy != nil && !*legacy {
				st.prepend = prependNever
			}
		case "first":
			st.prepend = prependFirst
		case "never":
			st.prepend = prependNever
		default:
			return nil, p.errf(path+".prepend_scheme", "%q: want always, first or never", scheme)
		}
		if err := p.field(c, path, "split", &st.split); err != nil {
			return nil, err
		}
		return []preStep{st}, nil
	case "Split":
		var behavior string
		var invert bool
		if err := p.field(c, path, "behavior", &behavior); err != nil {
			return nil, err
		}
		if err := p.field(c, path, "invert", &invert); err != nil {
			return nil, err
		}
		beh, ok := behaviors[behavior]
		if !ok {
			return nil, p.errf(path+".behavior", "%q: want Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous", behavior)
		}
		var pat map[string]string
		if err := p.field(c, path, "pattern", &pat); err != nil {
			return nil, err
		}
		if re, ok := pat["Regex"]; ok {
			known, ok := knownPatterns[re]
			if !ok {
				return nil, p.unsupported(path+".pattern.Regex", "%q: Go has no lookahead, so split regexes are written by hand, and this one is not among them (GPT-2, Llama 3/cl100k, Qwen 2)", re)
			}
			if beh == behIsolated && !invert {
				return []preStep{regexStep{known}}, nil
			}
			return []preStep{splitStep{pat: known, behavior: beh, invert: invert}}, nil
		}
		s, ok := pat["String"]
		if !ok || s == "" {
			return nil, p.errf(path+".pattern", "want {\"String\": \"...\"} or {\"Regex\": \"...\"}")
		}
		return []preStep{splitStep{lit: []byte(s), behavior: beh, invert: invert}}, nil
	}
	return nil, p.unsupported(path+".type", "pre-tokenizer %q (supported: ByteLevel, Metaspace, Split, Sequence)", typ)
}

func (p *parser) added(t *Tokenizer, list []addedJSON) error {
	var special, plain []*AddedToken
	addedIDs := map[string]int{}
	maxAdded := -1
	for i, a := range list {
		path := fmt.Sprintf("added_tokens[%d]", i)
		if a.ID == nil {
			return p.errf(path+".id", "missing")
		}
		if a.Content == "" {
			return p.errf(path+".content", "empty")
		}
		// HF does not take the id written in the file: a token already in the vocabulary
		// keeps its id, others are numbered after the vocabulary in file order. In files
		// HF wrote the two agree.
		id, seen := addedIDs[a.Content]
		if !seen {
			if v, ok := t.modelID(a.Content); ok {
				id = int(v)
			} else if maxAdded >= 0 && (maxAdded >= t.modelSize || t.modelSize == 0) {
				id = maxAdded + 1
			} else {
				id = t.modelSize
			}
			addedIDs[a.Content] = id
			maxAdded = max(maxAdded, id)
		}
		if id >= t.modelSize+len(list)+1<<16 {
			return p.errf(path, "id %d out of range", id)
		}
		if seen {
			continue // the first entry of a content stands
		}
		tok := &AddedToken{ID: id, Content: a.Content, Special: a.Special, SingleWord: a.SingleWord,
			LStrip: a.LStrip, RStrip: a.RStrip, Normalized: !a.Special}
		if a.Normalized != nil {
			tok.Normalized = *a.Normalized
		}
		t.added = append(t.added, tok)
		if tok.Special {
			special = append(special, tok)
		} else {
			plain = append(plain, tok)
		}
		if id >= len(t.idToken) {
			t.idToken = append(t.idToken, make([]string, id+1-len(t.idToken))...)
			t.idSet = append(t.idSet, make([]bool, id+1-len(t.idSet))...)
		}
		if !t.idSet[id] {
			t.idToken[id], t.idSet[id] = a.Content, true
		}
	}
	// HF matches special tokens first, then the others, each in file order; with two
	// tokens of the same content the first wins. Normalized tokens are looked for only in
	// the pieces between the others, even without a normalizer.
	for _, tok := range append(special, plain...) {
		t.addedByID[int32(tok.ID)] = tok
		if tok.Normalized {
			if t.normMatch == nil {
				t.normMatch = newAddedMatcher()
			}
			var nb normBufs
			t.normMatch.add(runNormalizers(t.norms, &nb, []byte(tok.Content)), tok)
			continue
		}
		if t.rawMatch == nil {
			t.rawMatch = newAddedMatcher()
		}
		t.rawMatch.add([]byte(tok.Content), tok)
	}
	return nil
}

// modelID looks a vocabulary string up as written in the file.
func (t *Tokenizer) modelID(s string) (int32, bool) {
	if !t.byteLevel {
		id, ok := t.vocab[s]
		return id, ok
	}
	if b, ok := byteLevelDecode(s); ok {
		id, ok := t.vocab[string(b)]
		return id, ok
	}
	id, ok := t.otherKeys[s]
	return id, ok
}

func (p *parser) decoder(t *Tokenizer, raw json.RawMessage) error {
	steps, err := p.decSteps("decoder", raw)
	if err != nil {
		// Decoding is not needed to count: keep the reason for Decode.
		t.decodeErr = err
		return nil
	}
	t.decoders = steps
	return nil
}
