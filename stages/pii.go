package stages

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/sieve-data/sieve/pipeline"
)

// PIIConfig configures the pii formatter.
type PIIConfig struct {
	Kinds            []string `yaml:"kinds" doc:"what to replace: email, ipv4, ipv6, phone"`
	EmailPlaceholder string   `yaml:"email_placeholder" doc:"replaces an e-mail address"`
	IPv4Placeholder  string   `yaml:"ipv4_placeholder" doc:"replaces an IPv4 address"`
	IPv6Placeholder  string   `yaml:"ipv6_placeholder" doc:"replaces an IPv6 address"`
	PhonePlaceholder string   `yaml:"phone_placeholder" doc:"replaces a phone number"`
	KeepPrivateIPs   bool     `yaml:"keep_private_ips" doc:"leave loopback, private, link-local, multicast and documentation addresses (127.0.0.1, 10.0.0.0/8, 192.168.0.0/16, 192.0.2.0/24, fe80::/10, 2001:db8::/32, ...) as they are: they identify no one"`
}

// DefaultPIIConfig returns the defaults: every kind, placeholders <EMAIL>, <IPV4>, <IPV6>,
// <PHONE>, private addresses kept.
func DefaultPIIConfig() PIIConfig {
	return PIIConfig{
		Kinds:            []string{"email", "ipv4", "ipv6", "phone"},
		EmailPlaceholder: "<EMAIL>", IPv4Placeholder: "<IPV4>", IPv6Placeholder: "<IPV6>", PhonePlaceholder: "<PHONE>",
		KeepPrivateIPs: true,
	}
}

// piiKind is a kind of personal information.
type piiKind uint8

const (
	piiEmail piiKind = iota
	piiIPv4
	piiIPv6
	piiPhone
	numPIIKinds
)

var piiKindNames = [numPIIKinds]string{"email", "ipv4", "ipv6", "phone"}

// Validate implements pipeline.Validator.
func (c *PIIConfig) Validate() []pipeline.FieldError {
	var errs []pipeline.FieldError
	if len(c.Kinds) == 0 {
		errs = append(errs, pipeline.FieldError{Field: "kinds", Msg: "must name at least one of email, ipv4, ipv6, phone"})
	}
	for i, k := range c.Kinds {
		if !contains(piiKindNames[:], k) {
			errs = append(errs, pipeline.FieldError{Field: fmt.Sprintf("kinds[%d]", i), Msg: fmt.Sprintf("must be one of email, ipv4, ipv6, phone; got %q", k)})
		}
	}
	for _, f := range []struct{ name, v string }{{"email_placeholder", c.EmailPlaceholder}, {"ipv4_placeholder", c.IPv4Placeholder}, {"ipv6_placeholder", c.IPv6Placeholder}, {"phone_placeholder", c.PhonePlaceholder}} {
		if !utf8.ValidString(f.v) {
			errs = append(errs, pipeline.FieldError{Field: f.name, Msg: "must be valid UTF-8"})
		}
	}
	return errs
}

// PII replaces e-mail addresses, IP addresses and phone numbers with placeholders. It never
// rejects a document.
//
// What it leaves alone, on purpose: text inside code (fenced ``` or ~~~ blocks and `inline`
// spans), where dotted numbers are versions and digit runs are constants, except e-mail
// addresses, which are replaced there too; dotted quads that read as versions (after "v",
// "version", "release", "build", "firmware" and similar words, or attached to other
// characters: lib-1.2.3.4, 1.2.3.4-rc1, 1.2.3.4.5, ==1.2.3.4); private and documentation
// addresses (keep_private_ips); numbers that read as dates (2024-01-15, 15.01.2024), year
// ranges, decimals, amounts with thousands groups (12 345 678), ISBNs and digit runs without
// a phone cue ("tel", "phone", "call", "simu", ...) or a leading "+".
type PII struct {
	cfg     PIIConfig
	enabled [numPIIKinds]bool
	repl    [numPIIKinds]string
	counts  [numPIIKinds]atomic.Int64
	docs    atomic.Int64
	pool    sync.Pool
}

var (
	_ pipeline.Stage    = (*PII)(nil)
	_ pipeline.Reporter = (*PII)(nil)
)

func init() {
	pipeline.MustRegister("pii", pipeline.Spec{
		Summary: "Replaces e-mail addresses, IP addresses and phone numbers with placeholders (a formatter: rejects nothing); leaves versions, dates, amounts and code alone.",
		Example: "{kinds: [email, ipv4, ipv6, phone], email_placeholder: \"<EMAIL>\"}",
		Mode:    pipeline.Parallel,
		Config:  func() any { c := DefaultPIIConfig(); return &c },
		New:     func(cfg any, _ *pipeline.Env) (pipeline.Stage, error) { return NewPII(*cfg.(*PIIConfig)) },
	})
}

// NewPII builds the formatter.
func NewPII(cfg PIIConfig) (*PII, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("pii: %s: %s", errs[0].Field, errs[0].Msg)
	}
	p := &PII{cfg: cfg}
	for _, k := range cfg.Kinds {
		for i, n := range piiKindNames {
			if n == k {
				p.enabled[i] = true
			}
		}
	}
	p.repl = [numPIIKinds]string{cfg.EmailPlaceholder, cfg.IPv4Placeholder, cfg.IPv6Placeholder, cfg.PhonePlaceholder}
	p.pool.New = func() any { return &piiScratch{} }
	return p, nil
}

type piiSpan struct {
	start, end int
	kind       piiKind
}

type piiScratch struct {
	spans []piiSpan
	code  []piiSpan // code regions (kind unused)
}

// Process implements pipeline.Stage: it rewrites d.Text when it finds something, and for an
// instruction record every turn (and its Input), which is what the instruction writers
// write; replacements are counted once, in the turns.
func (p *PII) Process(_ context.Context, d *pipeline.Document) (pipeline.Verdict, error) {
	sc := p.pool.Get().(*piiScratch)
	defer p.pool.Put(sc)
	in := d.Instruction
	text, n := p.redact(d.Text, sc, in == nil)
	d.Text = text
	if in != nil {
		n = 0
		in.Rewrite(func(s string) (string, bool) {
			r, k := p.redact(s, sc, true)
			n += k
			return r, k > 0
		})
	}
	if n > 0 {
		p.docs.Add(1)
	}
	return pipeline.Keep, nil
}

// redact replaces what p finds in text, counting the replacements by kind when count.
func (p *PII) redact(text string, sc *piiScratch, count bool) (string, int) {
	spans := p.find(text, sc)
	if len(spans) == 0 {
		return text, 0
	}
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for _, s := range spans {
		b.WriteString(text[last:s.start])
		b.WriteString(p.repl[s.kind])
		last = s.end
		if count {
			p.counts[s.kind].Add(1)
		}
	}
	b.WriteString(text[last:])
	return b.String(), len(spans)
}

// Report implements pipeline.Reporter: replacements by kind and documents changed.
func (p *PII) Report() map[string]any {
	by := map[string]int64{}
	for i, n := range piiKindNames {
		if p.enabled[i] {
			by[n] = p.counts[i].Load()
		}
	}
	return map[string]any{"replaced": by, "docs_changed": p.docs.Load()}
}

// Close implements pipeline.Stage.
func (p *PII) Close(context.Context) error { return nil }

// Find returns the spans of text that would be replaced, in order, for tests and tools.
func (p *PII) Find(text string) []struct {
	Kind, Text string
} {
	var out []struct{ Kind, Text string }
	for _, s := range p.find(text, &piiScratch{}) {
		out = append(out, struct{ Kind, Text string }{piiKindNames[s.kind], text[s.start:s.end]})
	}
	return out
}

// find returns the non-overlapping spans to replace, sorted.
func (p *PII) find(text string, sc *piiScratch) []piiSpan {
	spans := sc.spans[:0]
	defer func() { sc.spans = spans[:0] }()
	if p.enabled[piiEmail] && strings.IndexByte(text, '@') >= 0 {
		for i := 0; i < len(text); {
			j := strings.IndexByte(text[i:], '@')
			if j < 0 {
				break
			}
			at := i + j
			if s, e, ok := scanEmail(text, at); ok {
				spans = append(spans, piiSpan{s, e, piiEmail})
				i = e
				continue
			}
			i = at + 1
		}
	}
	if !p.enabled[piiIPv4] && !p.enabled[piiIPv6] && !p.enabled[piiPhone] {
		return spans
	}
	code := codeRegions(text, sc.code[:0])
	sc.code = code
	emails := len(spans)
	ei, ci := 0, 0
	for i := 0; i < len(text); {
		c := text[i]
		// skip e-mail addresses and code
		for ei < emails && spans[ei].end <= i {
			ei++
		}
		if ei < emails && spans[ei].start <= i {
			i = spans[ei].end
			continue
		}
		for ci < len(code) && code[ci].end <= i {
			ci++
		}
		if ci < len(code) && code[ci].start <= i {
			i = code[ci].end
			continue
		}
		if !(isDigitB(c) || isHexB(c) || c == ':' || c == '+' || c == '(') || blockedBefore(text, i) {
			i++
			continue
		}
		if p.enabled[piiIPv6] {
			if e, ok := scanIPv6(text, i, p.cfg.KeepPrivateIPs); ok {
				spans = append(spans, piiSpan{i, e, piiIPv6})
				i = e
				continue
			}
		}
		if isDigitB(c) {
			if e, ok, isIP := scanIPv4(text, i, p.cfg.KeepPrivateIPs); isIP {
				if ok && p.enabled[piiIPv4] {
					spans = append(spans, piiSpan{i, e, piiIPv4})
				}
				i = e
				continue
			}
		}
		if p.enabled[piiPhone] && (isDigitB(c) || c == '+' || c == '(') {
			e, ok, long := scanPhone(text, i)
			if ok {
				spans = append(spans, piiSpan{i, e, piiPhone})
				i = e
				continue
			}
			if long {
				i = e
				continue
			}
		}
		// move past the rest of this token so that its inner digits do not start a match
		i++
		for i < len(text) && (isAlnumB(text[i]) || text[i] == '.' || text[i] == ':') {
			i++
		}
	}
	if len(spans) > emails && emails > 0 {
		sortSpans(spans)
	}
	return spans
}

func sortSpans(s []piiSpan) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].start < s[j-1].start; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func isDigitB(c byte) bool { return '0' <= c && c <= '9' }
func isHexB(c byte) bool {
	return isDigitB(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}
func isAlnumB(c byte) bool {
	return isDigitB(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c >= 0x80
}

// startBlocked reports whether a match may not start right after byte c: inside a word or a
// number, or after a joiner that makes it part of something else (v1.2.3.4, lib-1.2, a_1,
// ==1.2, @1.2, $100).
func startBlocked(c byte) bool {
	return isAlnumB(c) || strings.IndexByte("._-@=~^<>$€£#:/\\&%*", c) >= 0
}

// blockedBefore reports whether a match may not start at text[i] because of what precedes
// it. "//" (a URL host) and a label colon ("Tel:", "IP:") do not block; "+" and "(" are only
// blocked inside a word.
func blockedBefore(text string, i int) bool {
	if i == 0 {
		return false
	}
	c := text[i-1]
	if text[i] == '+' || text[i] == '(' {
		return isAlnumB(c)
	}
	switch c {
	case '/':
		return !(i >= 2 && text[i-2] == '/')
	case ':':
		if i >= 2 {
			r, _ := utf8.DecodeLastRuneInString(text[:i-1])
			return !unicode.IsLetter(r)
		}
	}
	return startBlocked(c)
}

// codeRegions returns the byte ranges of fenced code blocks (``` or ~~~ lines) and inline
// `code` spans.
func codeRegions(text string, out []piiSpan) []piiSpan {
	if strings.IndexByte(text, '`') < 0 && !strings.Contains(text, "~~~") {
		return out
	}
	fenceStart := -1
	var fence string
	for ls := 0; ls < len(text); {
		le := strings.IndexByte(text[ls:], '\n')
		if le < 0 {
			le = len(text)
		} else {
			le += ls
		}
		line := strings.TrimLeft(text[ls:le], " \t")
		switch {
		case fenceStart < 0 && (strings.HasPrefix(line, "```") || strings.HasPrefix(line, "~~~")):
			fenceStart, fence = ls, line[:3]
		case fenceStart >= 0 && strings.HasPrefix(line, fence):
			out = append(out, piiSpan{start: fenceStart, end: le})
			fenceStart = -1
		case fenceStart < 0:
			// inline spans: pairs of backticks on the line
			for i := ls; i < le; {
				j := strings.IndexByte(text[i:le], '`')
				if j < 0 {
					break
				}
				open := i + j
				k := strings.IndexByte(text[open+1:le], '`')
				if k < 0 {
					break
				}
				out = append(out, piiSpan{start: open, end: open + 1 + k + 1})
				i = open + k + 2
			}
		}
		ls = le + 1
	}
	if fenceStart >= 0 { // unclosed fence: code to the end
		out = append(out, piiSpan{start: fenceStart, end: len(text)})
	}
	return out
}

// scanEmail finds an address around the "@" at text[at].
func scanEmail(text string, at int) (start, end int, ok bool) {
	s := at
	for s > 0 {
		r, size := utf8.DecodeLastRuneInString(text[:s])
		if !(isLocalRune(r)) {
			break
		}
		s -= size
	}
	for s < at && (text[s] == '.' || text[s] == '-') {
		s++
	}
	if s == at || text[at-1] == '.' || strings.Contains(text[s:at], "..") {
		return 0, 0, false
	}
	e := at + 1
	for e < len(text) {
		r, size := utf8.DecodeRuneInString(text[e:])
		if !(r == '.' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			break
		}
		e += size
	}
	for e > at+1 && (text[e-1] == '.' || text[e-1] == '-') {
		e--
	}
	domain := text[at+1 : e]
	dot := strings.LastIndexByte(domain, '.')
	if dot <= 0 || strings.Contains(domain, "..") {
		return 0, 0, false
	}
	tld := domain[dot+1:]
	if utf8.RuneCountInString(tld) < 2 || strings.IndexFunc(tld, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 {
		return 0, 0, false
	}
	if fileExtensions[strings.ToLower(tld)] {
		return 0, 0, false // icon@2x.png
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return 0, 0, false
		}
	}
	return s, e, true
}

var fileExtensions = map[string]bool{"png": true, "jpg": true, "jpeg": true, "gif": true, "svg": true, "webp": true, "css": true, "js": true, "ts": true, "py": true, "go": true, "md": true, "txt": true, "pdf": true}

func isLocalRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isAlnumB(byte(r)) || strings.IndexRune("._%+-", r) >= 0
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// versionWords are words after which a dotted quad is a version, not an address.
var versionWords = map[string]bool{"v": true, "ver": true, "version": true, "versions": true, "release": true, "build": true,
	"firmware": true, "patch": true, "rev": true, "revision": true, "update": true, "upgrade": true, "toleo": true, "toleo la": true}

// prevWord returns the word before text[i] (skipping spaces and ":"), lower-cased ASCII,
// and where it starts.
func prevWord(text string, i int) (string, int) {
	j := i
	for j > 0 && (text[j-1] == ' ' || text[j-1] == '\t' || text[j-1] == ':' || text[j-1] == '.') {
		j--
	}
	k := j
	for k > 0 && j-k < 16 {
		r, size := utf8.DecodeLastRuneInString(text[:k])
		if !unicode.IsLetter(r) {
			break
		}
		k -= size
	}
	return strings.ToLower(text[k:j]), k
}

// scanIPv4 reads a dotted quad at text[i]. isIP says whether one is there (valid octets);
// ok whether to replace it: not a version, not attached to other characters, and public
// unless keepPrivate is false. end is where the quad ends.
func scanIPv4(text string, i int, keepPrivate bool) (end int, ok, isIP bool) {
	j := i
	for part := 0; part < 4; part++ {
		if part > 0 {
			if j >= len(text) || text[j] != '.' {
				return i, false, false
			}
			j++
		}
		k := j
		for k < len(text) && k-j < 4 && isDigitB(text[k]) {
			k++
		}
		if k == j || k-j > 3 || (text[j] == '0' && k-j > 1) {
			return i, false, false
		}
		if v := atoiSmall(text[j:k]); v > 255 {
			return i, false, false
		}
		j = k
	}
	end = j
	// attached after: 1.2.3.4.5, 1.2.3.4-rc1, 1.2.3.4b
	if j < len(text) {
		c := text[j]
		if isAlnumB(c) || c == '_' || c == '-' || c == '+' {
			return end, false, true
		}
		if (c == '.' || c == ':') && j+1 < len(text) && isDigitB(text[j+1]) && c == '.' {
			return end, false, true
		}
	}
	if w, _ := prevWord(text, i); versionWords[w] {
		return end, false, true
	}
	addr, err := netip.ParseAddr(text[i:end])
	if err != nil {
		return end, false, true
	}
	if keepPrivate && nonPersonal(addr) {
		return end, false, true
	}
	return end, true, true
}

func atoiSmall(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// nonPersonal reports whether an address identifies no one: loopback, private, link-local,
// multicast, unspecified, shared (100.64/10), benchmarking and documentation ranges.
func nonPersonal(a netip.Addr) bool {
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || a.IsInterfaceLocalMulticast() {
		return true
	}
	for _, p := range nonPersonalPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

var nonPersonalPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "2001:db8::/32"} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// scanIPv6 reads an IPv6 address at text[i]: eight groups, or fewer with "::", at least four
// hex digits, optionally ending in a dotted quad; not attached to other characters.
func scanIPv6(text string, i int, keepPrivate bool) (int, bool) {
	j := i
	colons, hex := 0, 0
	for j < len(text) {
		c := text[j]
		if isHexB(c) {
			hex++
		} else if c == ':' {
			colons++
		} else if c != '.' {
			break
		}
		j++
	}
	// trailing punctuation of the sentence
	for j > i && (text[j-1] == '.' || (text[j-1] == ':' && (j-2 < i || text[j-2] != ':'))) {
		if text[j-1] == ':' {
			colons--
		}
		j--
	}
	cand := text[i:j]
	if colons < 2 || hex < 4 {
		return i, false
	}
	if !strings.Contains(cand, "::") && colons != 7 && !(colons == 6 && strings.Count(cand, ".") == 3) {
		return i, false
	}
	if j < len(text) && (isAlnumB(text[j]) || text[j] == '_' || text[j] == ':') {
		return i, false
	}
	addr, err := netip.ParseAddr(cand)
	if err != nil || !addr.Is6() {
		return i, false
	}
	if keepPrivate && (nonPersonal(addr) || (addr.Is4In6() && nonPersonal(addr.Unmap()))) {
		return j, false
	}
	return j, true
}

// phoneCues are words after which a digit run is a phone number (English, French, Swahili,
// Hausa, Yoruba, Portuguese, Spanish, German).
var phoneCues = map[string]bool{
	"tel": true, "tél": true, "telephone": true, "téléphone": true, "phone": true, "phones": true, "mobile": true,
	"mob": true, "cell": true, "call": true, "fax": true, "whatsapp": true, "sms": true, "contact": true,
	"simu": true, "piga": true, "lambar": true, "waya": true, "nọ́mbà": true, "telefone": true, "teléfono": true,
	"telefon": true, "handy": true, "portable": true, "appelez": true, "number": true, "no": true, "nr": true,
}

// scanPhone reads a phone number at text[i]: an optional "+country", then groups of digits
// (one may be in parentheses) separated by single spaces, hyphens or dots, 7 to 15 digits in
// all. Without a "+" or a cue word before it, it needs at least 9 digits in three groups of
// two or more digits, one kind of separator, and must not read as a date or an amount with
// thousands groups. long reports a run of more than 15 digits (a card or account number),
// which the caller skips whole.
func scanPhone(text string, i int) (end int, ok, long bool) {
	j := i
	plus := false
	if text[j] == '+' {
		plus = true
		j++
	}
	var groups [8]int
	ng, digits := 0, 0
	var seps [8]byte
	paren, parenGroup := false, -1
	var sep0 byte
	for ng < len(groups) {
		p := j < len(text) && text[j] == '('
		if p {
			j++
		}
		k := j
		for k < len(text) && isDigitB(text[k]) {
			k++
		}
		if k == j {
			if p {
				j--
			}
			break
		}
		if p {
			if k >= len(text) || text[k] != ')' {
				return i, false, false
			}
			k++
			paren, parenGroup = true, ng
		}
		groups[ng] = k - j - boolInt(p)
		ng++
		digits += k - j - boolInt(p)
		j = k
		// separator, then another group? Without a "+", one kind of separator (the one after
		// a parenthesised area code aside): "2024-01-15 0803 123 4567" is a date, then a number.
		if j < len(text) && (text[j] == ' ' || text[j] == '-' || text[j] == '.') && j+1 < len(text) && (isDigitB(text[j+1]) || text[j+1] == '(') {
			if !plus && parenGroup != ng-1 {
				if sep0 == 0 {
					sep0 = text[j]
				} else if text[j] != sep0 {
					break
				}
			}
			seps[ng-1] = text[j]
			j++
			continue
		}
		break
	}
	if ng == 0 {
		return i, false, false
	}
	end = j
	// attached after: 2024-01-15T, 12.5%, 1.234,56, 12/03
	if end < len(text) {
		c := text[end]
		if isAlnumB(c) || c == '%' || c == '_' {
			return i, false, false
		}
		if (c == '.' || c == ',' || c == '/' || c == '-' || c == ':') && end+1 < len(text) && isDigitB(text[end+1]) {
			return i, false, false
		}
	}
	if digits > 15 {
		return end, false, true // a card or account number: skip all of it
	}
	if digits < 7 {
		return i, false, false
	}
	w, ws := prevWord(text, i)
	if w == "isbn" || strings.HasPrefix(w, "isbn") {
		return i, false, false
	}
	cue := phoneCues[w]
	if !cue && ws > 0 {
		// one more word back: "phone number 0803 ..."
		w2, _ := prevWord(text, ws)
		cue = phoneCues[w2]
	}
	if plus {
		return end, digits >= 8, false
	}
	if cue {
		return end, true, false
	}
	if digits < 9 || (ng < 3 && !(paren && ng >= 2)) {
		return i, false, false
	}
	sep := byte(0)
	for g := 0; g < ng; g++ {
		if groups[g] < 2 {
			return i, false, false
		}
		if g < ng-1 && g != parenGroup { // "(555) 123-4567": the space after the area code is free
			s := seps[g]
			if sep == 0 {
				sep = s
			} else if s != sep {
				return i, false, false
			}
		}
	}
	if looksLikeDate(groups[:ng], text[i:end]) {
		return i, false, false
	}
	// amounts: 12 345 678, 1.234.567 (a first group of 1-3 digits, then groups of three)
	if sep == ' ' || sep == '.' {
		thousands := groups[0] <= 3
		for g := 1; g < ng; g++ {
			thousands = thousands && groups[g] == 3
		}
		if thousands {
			return i, false, false
		}
	}
	return end, true, false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// looksLikeDate reports whether three groups read as a date: yyyy-mm-dd or dd-mm-yyyy
// (either order of day and month).
func looksLikeDate(groups []int, s string) bool {
	if len(groups) != 3 {
		return false
	}
	var nums [3]int
	n, g := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isDigitB(s[i]) {
			n = n*10 + int(s[i]-'0')
			continue
		}
		if i > 0 && isDigitB(s[i-1]) && g < 3 {
			nums[g] = n
			g++
		}
		n = 0
	}
	year := func(v int) bool { return v >= 1800 && v <= 2199 }
	dm := func(a, b int) bool { return a >= 1 && b >= 1 && ((a <= 12 && b <= 31) || (a <= 31 && b <= 12)) }
	switch {
	case groups[0] == 4 && groups[1] <= 2 && groups[2] <= 2:
		return year(nums[0]) && dm(nums[1], nums[2])
	case groups[0] <= 2 && groups[1] <= 2 && groups[2] == 4:
		return year(nums[2]) && dm(nums[0], nums[1])
	}
	return false
}
