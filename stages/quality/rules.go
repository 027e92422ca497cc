package quality

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"go.yaml.in/yaml/v3"

	"github.com/sieve-data/sieve/pipeline"
)

// Stage kinds.
const (
	KindGopherQuality    = "gopher_quality"
	KindGopherRepetition = "gopher_repetition"
	KindC4Quality        = "c4_quality"
	KindFineWebQuality   = "fineweb_quality"
)

// Kinds lists the quality stage kinds in the order calibration reports them.
func Kinds() []string {
	return []string{KindGopherQuality, KindGopherRepetition, KindC4Quality, KindFineWebQuality}
}

// Bound is one threshold of a rule: the document is rejected when the rule's measured value
// is above a max bound or below a min bound.
type Bound struct {
	Rule  string  // rule (and measured value) name, e.g. "mean_word_length"
	Key   string  // YAML key of the threshold, e.g. "max_mean_word_length"; "" = a yes/no rule
	Max   bool    // value > threshold rejects; otherwise value < threshold rejects
	Int   bool    // the threshold is a whole number
	Lo    float64 // valid thresholds are in [Lo, Hi]
	Hi    float64
	rule  int // index into filterDef.rules
	field int // index of Key's field in the config struct
}

// Violates reports whether value v breaks threshold t. NaN (not measurable) never does.
func (b *Bound) Violates(v, t float64) bool {
	if math.IsNaN(v) {
		return false
	}
	if b.Key == "" {
		return v > 0
	}
	if b.Max {
		return v > t
	}
	return v < t
}

// filterDef describes one stage kind: its rules, thresholds and measurement.
type filterDef struct {
	kind   string
	rules  []string // rule names; index = measured value index
	bounds []Bound
	// defaults returns a pointer to a new config holding the defaults.
	defaults func() any
	// validate checks the kind-specific fields of a (merged) config.
	validate func(cfg any) []pipeline.FieldError
	// prepare fills the kind-specific part of st from a merged config. key is the language
	// key ("" for the top-level settings); set lists the keys the language's overrides gave.
	prepare func(cfg any, key string, set map[string]bool, st *settings) error
	// extraKeys, when set, lists language keys that get their own settings even without
	// overrides (gopher_quality: languages with a builtin stop-word list).
	extraKeys func(cfg any) []string
	// measure computes the values of the rules st needs into vals.
	measure func(w *worker, st *settings, vals []float64)
	// detail, when set, writes the detail of a rejecting bound (else "value op threshold").
	detail func(w *worker, st *settings, b *Bound, v, t float64) string
	// after, when set, runs on a kept document (c4_quality rewrites its text).
	after  func(s *Stage, w *worker, st *settings, d *pipeline.Document)
	fields map[string]int // YAML key -> struct field index of the config type
	typ    reflect.Type
}

func (f *filterDef) init() *filterDef {
	f.typ = reflect.TypeOf(f.defaults()).Elem()
	f.fields = map[string]int{}
	for i := 0; i < f.typ.NumField(); i++ {
		name, _, _ := strings.Cut(f.typ.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			f.fields[name] = i
		}
	}
	for i := range f.bounds {
		b := &f.bounds[i]
		b.rule = -1
		for j, r := range f.rules {
			if r == b.Rule {
				b.rule = j
			}
		}
		if b.rule < 0 {
			panic("quality: bound of unknown rule " + b.Rule)
		}
		b.field = -1
		if b.Key != "" {
			fi, ok := f.fields[b.Key]
			if !ok {
				panic("quality: bound key without a config field: " + b.Key)
			}
			b.field = fi
		}
	}
	return f
}

var defs = map[string]*filterDef{}

func register(f *filterDef) { defs[f.kind] = f.init() }

// Rules returns the rule names of a stage kind, in the order they are checked.
func Rules(kind string) []string { return append([]string(nil), defs[kind].rules...) }

// Bounds returns the thresholds of a stage kind.
func Bounds(kind string) []Bound { return append([]Bound(nil), defs[kind].bounds...) }

// DefaultConfig returns a pointer to a new config of a stage kind holding the defaults
// (*GopherQualityConfig, ...), or nil for an unknown kind.
func DefaultConfig(kind string) any {
	f, ok := defs[kind]
	if !ok {
		return nil
	}
	return f.defaults()
}

// Threshold returns the threshold of b in cfg (a config of b's kind).
func Threshold(cfg any, b Bound) float64 {
	if b.Key == "" {
		return 0
	}
	return numField(reflect.ValueOf(cfg).Elem().Field(b.field))
}

func numField(v reflect.Value) float64 {
	switch v.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return float64(v.Int())
	case reflect.Float64, reflect.Float32:
		return v.Float()
	}
	panic("quality: threshold field is not a number")
}

// settings are the resolved rules of one language (or the top-level ones).
type settings struct {
	key  string    // language key, "" for the top-level settings
	thr  []float64 // per bound
	off  []bool    // per rule: switched off
	gq   *gopherSettings
	c4   *c4Settings
	fw   fineWebSettings
	docs atomic.Int64 // documents checked with these settings
}

// on reports whether rule i is switched on.
func (st *settings) on(i int) bool { return !st.off[i] }

// newSettings resolves a merged config.
func (f *filterDef) newSettings(cfg any, key string, set map[string]bool) (*settings, error) {
	v := reflect.ValueOf(cfg).Elem()
	st := &settings{key: key, thr: make([]float64, len(f.bounds)), off: make([]bool, len(f.rules))}
	for i, b := range f.bounds {
		if b.field >= 0 {
			st.thr[i] = numField(v.Field(b.field))
		}
	}
	for _, r := range stringsField(v, f.fields["disable"]) {
		for j, name := range f.rules {
			if name == r {
				st.off[j] = true
			}
		}
	}
	if f.prepare != nil {
		if err := f.prepare(cfg, key, set, st); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func fieldValue(cfg any, i int) any { return reflect.ValueOf(cfg).Elem().Field(i).Interface() }

func stringsField(v reflect.Value, i int) []string {
	return v.Field(i).Interface().([]string)
}

// validateConfig checks a config of kind f: threshold ranges, rule names, per_language
// entries. top says whether cfg is a stage's top-level config (per_language allowed, enable
// not) rather than a merged per-language one.
func (f *filterDef) validateConfig(cfg any, top bool) []pipeline.FieldError {
	var errs []pipeline.FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	v := reflect.ValueOf(cfg).Elem()
	for _, b := range f.bounds {
		if b.field < 0 {
			continue
		}
		t := numField(v.Field(b.field))
		if math.IsNaN(t) || t < b.Lo || t > b.Hi {
			add(b.Key, "must be in %s..%s, got %s", formatNum(b.Lo, b.Int), formatNum(b.Hi, b.Int), formatNum(t, b.Int))
		}
	}
	// min <= max for rules with both bounds
	for i, b := range f.bounds {
		if b.Max || b.field < 0 {
			continue
		}
		for _, c := range f.bounds[i+1:] {
			if c.Rule == b.Rule && c.Max && c.field >= 0 {
				lo, hi := numField(v.Field(b.field)), numField(v.Field(c.field))
				if hi < lo {
					add(c.Key, "must be >= %s (%s), got %s", b.Key, formatNum(lo, b.Int), formatNum(hi, c.Int))
				}
			}
		}
	}
	for _, key := range []string{"disable", "enable"} {
		for i, r := range stringsField(v, f.fields[key]) {
			if !contains(f.rules, r) {
				add(fmt.Sprintf("%s[%d]", key, i), "unknown rule %q%s; rules: %s", r, suggest(r, f.rules), strings.Join(f.rules, ", "))
			}
		}
	}
	if f.validate != nil {
		errs = append(errs, f.validate(cfg)...)
	}
	if !top {
		return errs
	}
	if len(stringsField(v, f.fields["enable"])) > 0 {
		add("enable", "only per-language entries may enable rules (top-level rules are on unless listed in disable)")
	}
	per := v.Field(f.fields["per_language"]).Interface().(map[string]yaml.Node)
	for _, key := range sortedKeys(per) {
		n := per[key]
		path := "per_language." + key
		if msg := checkLangKey(key); msg != "" {
			add(path, "%s", msg)
			continue
		}
		merged := f.copyConfig(cfg)
		_, ferrs := f.overlay(merged, &n)
		for _, fe := range ferrs {
			add(path+"."+fe.Field, "%s", fe.Msg)
		}
		if len(ferrs) > 0 {
			continue
		}
		for _, fe := range f.validateConfig(merged, false) {
			add(path+"."+fe.Field, "%s", fe.Msg)
		}
	}
	return errs
}

// checkLangKey returns a message when key is not a language label ("yor_Latn"), a language
// code ("yor", "und") or a script ("Thai": documents of any language in that script that
// have no entry of their own, und_Thai included).
func checkLangKey(key string) string {
	if isScriptKey(key) {
		return ""
	}
	code, script, hasScript := strings.Cut(key, "_")
	ok := len(code) >= 2 && len(code) <= 3 && isLower(code)
	if hasScript {
		ok = ok && len(script) == 4 && script[0] >= 'A' && script[0] <= 'Z' && isLower(script[1:])
	}
	if !ok {
		return fmt.Sprintf("%q is not a language label like yor_Latn, a code like yor or a script like Thai", key)
	}
	return ""
}

// isScriptKey reports whether key is an ISO 15924 code ("Thai", "Latn").
func isScriptKey(key string) bool {
	return len(key) == 4 && key[0] >= 'A' && key[0] <= 'Z' && isLower(key[1:])
}

func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return s != ""
}

// copyConfig returns a deep enough copy of cfg that overlaying it leaves cfg alone.
func (f *filterDef) copyConfig(cfg any) any {
	src := reflect.ValueOf(cfg).Elem()
	dst := reflect.New(f.typ)
	dst.Elem().Set(src)
	for i := 0; i < f.typ.NumField(); i++ {
		if fv := dst.Elem().Field(i); fv.Kind() == reflect.Slice && !fv.IsNil() {
			c := reflect.MakeSlice(fv.Type(), fv.Len(), fv.Len())
			reflect.Copy(c, fv)
			fv.Set(c)
		}
	}
	return dst.Interface()
}

// fromScriptKey marks, in the set of keys given to prepare, overrides that came from the
// language's script entry rather than its own.
const fromScriptKey = "\x00script"

// perLanguageForbidden are keys a per-language entry may not hold.
var perLanguageForbidden = map[string]bool{"per_language": true, "thresholds_file": true}

// overlay decodes the mapping n onto cfg: each key replaces that field, except disable,
// which adds rules to the list, and enable, which takes rules out of it. It returns the keys
// given, and field errors (Field relative to n).
func (f *filterDef) overlay(cfg any, n *yaml.Node) (map[string]bool, []pipeline.FieldError) {
	var errs []pipeline.FieldError
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return map[string]bool{}, nil
		}
		return nil, []pipeline.FieldError{{Field: "", Msg: "must be a mapping of overrides, e.g. {min_words: 30}"}}
	}
	v := reflect.ValueOf(cfg).Elem()
	set := map[string]bool{}
	var disable, enable []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		if set[key] {
			errs = append(errs, pipeline.FieldError{Field: key, Msg: "duplicate key"})
			continue
		}
		set[key] = true
		fi, ok := f.fields[key]
		if !ok || perLanguageForbidden[key] {
			valid := f.overlayKeys()
			msg := fmt.Sprintf("unknown field%s; valid: %s", suggest(key, valid), strings.Join(valid, ", "))
			if ok {
				msg = "not allowed in a per-language entry"
			}
			errs = append(errs, pipeline.FieldError{Field: key, Msg: msg})
			continue
		}
		var dst any
		switch key {
		case "disable":
			dst = &disable
		case "enable":
			dst = &enable
		default:
			dst = v.Field(fi).Addr().Interface()
		}
		if err := val.Decode(dst); err != nil {
			errs = append(errs, pipeline.FieldError{Field: key, Msg: cleanYAMLErr(err)})
		}
	}
	dis := v.Field(f.fields["disable"])
	cur := dis.Interface().([]string)
	for _, r := range disable {
		if !contains(cur, r) {
			cur = append(cur, r)
		}
	}
	out := cur[:0:0]
	for _, r := range cur {
		if !contains(enable, r) {
			out = append(out, r)
		}
	}
	for _, r := range enable {
		if !contains(f.rules, r) {
			errs = append(errs, pipeline.FieldError{Field: "enable", Msg: fmt.Sprintf("unknown rule %q%s; rules: %s", r, suggest(r, f.rules), strings.Join(f.rules, ", "))})
		}
	}
	for _, r := range disable {
		if !contains(f.rules, r) {
			errs = append(errs, pipeline.FieldError{Field: "disable", Msg: fmt.Sprintf("unknown rule %q%s; rules: %s", r, suggest(r, f.rules), strings.Join(f.rules, ", "))})
		}
	}
	dis.Set(reflect.ValueOf(out))
	v.Field(f.fields["enable"]).Set(reflect.ValueOf([]string(nil)))
	return set, errs
}

// overlayKeys lists the keys a per-language entry may hold.
func (f *filterDef) overlayKeys() []string {
	var keys []string
	for i := 0; i < f.typ.NumField(); i++ {
		name, _, _ := strings.Cut(f.typ.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" && !perLanguageForbidden[name] {
			keys = append(keys, name)
		}
	}
	return keys
}

// ThresholdsFile is a parsed thresholds file: per stage kind, per language key, a mapping of
// overrides in the form of a per_language entry.
type ThresholdsFile struct {
	Path     string
	sections map[string]*yaml.Node
}

// maxThresholdsBytes bounds a thresholds file.
const maxThresholdsBytes = 16 << 20

// ReadThresholdsFile parses a thresholds file. Its top level maps stage kinds to mappings
// from language keys to overrides; unknown kinds are an error.
func ReadThresholdsFile(path string) (*ThresholdsFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("thresholds file: %w", err)
	}
	if len(data) > maxThresholdsBytes {
		return nil, fmt.Errorf("thresholds file %s: %d bytes is more than the %d allowed", path, len(data), maxThresholdsBytes)
	}
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil {
		return nil, fmt.Errorf("thresholds file %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	tf := &ThresholdsFile{Path: path, sections: map[string]*yaml.Node{}}
	if len(root.Content) == 0 {
		return tf, nil
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("thresholds file %s:%d:%d: must be a mapping from stage kinds (%s) to languages", path, doc.Line, doc.Column, strings.Join(Kinds(), ", "))
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		if _, ok := defs[k.Value]; !ok {
			return nil, fmt.Errorf("thresholds file %s:%d:%d: unknown stage kind %q%s; valid: %s", path, k.Line, k.Column, k.Value, suggest(k.Value, Kinds()), strings.Join(Kinds(), ", "))
		}
		if v.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("thresholds file %s:%d:%d: %s: must be a mapping from language labels to overrides", path, v.Line, v.Column, k.Value)
		}
		tf.sections[k.Value] = v
	}
	return tf, nil
}

// Has reports whether the file has a section for a stage kind.
func (tf *ThresholdsFile) Has(kind string) bool { return tf.sections[kind] != nil }

// layer is one language's override mapping from one source.
type layer struct {
	node   *yaml.Node
	source string // for messages: "file.yaml:12:3: gopher_quality.yor_Latn" or "per_language.yor_Latn"
}

// resolveAll builds the settings of the top level and of every language key named in the
// thresholds file section or in per_language. A language label (yor_Latn) also takes the
// overrides given for its bare code (yor); per_language wins over the file. Script keys
// (Thai) stand alone: they serve documents whose label and code have no entry.
func (f *filterDef) resolveAll(cfg any, tf *ThresholdsFile) (*settings, map[string]*settings, error) {
	base, err := f.newSettings(cfg, "", map[string]bool{})
	if err != nil {
		return nil, nil, err
	}
	fileLayers := map[string]layer{}
	if tf != nil {
		sec := tf.sections[f.kind]
		if sec == nil {
			return nil, nil, fmt.Errorf("thresholds file %s has no %s section (run sieve calibrate with this stage in the pipeline)", tf.Path, f.kind)
		}
		for i := 0; i+1 < len(sec.Content); i += 2 {
			k, v := sec.Content[i], sec.Content[i+1]
			if msg := checkLangKey(k.Value); msg != "" {
				return nil, nil, fmt.Errorf("thresholds file %s:%d:%d: %s: %s", tf.Path, k.Line, k.Column, f.kind, msg)
			}
			fileLayers[k.Value] = layer{v, fmt.Sprintf("thresholds file %s:%d:%d: %s.%s", tf.Path, v.Line, v.Column, f.kind, k.Value)}
		}
	}
	inline := map[string]layer{}
	per := reflect.ValueOf(cfg).Elem().Field(f.fields["per_language"]).Interface().(map[string]yaml.Node)
	for k := range per {
		n := per[k]
		inline[k] = layer{&n, "per_language." + k}
	}
	keys := map[string]bool{}
	if f.extraKeys != nil {
		for _, k := range f.extraKeys(cfg) {
			keys[k] = true
		}
	}
	for k := range fileLayers {
		keys[k] = true
	}
	for k := range inline {
		keys[k] = true
	}
	out := make(map[string]*settings, len(keys))
	for _, key := range sortedKeys(keys) {
		code, script, isLabel := strings.Cut(key, "_")
		var layers []layer
		for _, src := range []map[string]layer{fileLayers, inline} {
			if isLabel {
				if l, ok := src[code]; ok {
					layers = append(layers, l)
				}
			}
			if l, ok := src[key]; ok {
				layers = append(layers, l)
			}
		}
		// a language with no entry of its own (one that has a key only for its builtin
		// stop words) takes its script's entry
		fromScript := false
		if len(layers) == 0 && isLabel && isScriptKey(script) {
			for _, src := range []map[string]layer{fileLayers, inline} {
				if l, ok := src[script]; ok {
					layers = append(layers, l)
					fromScript = true
				}
			}
		}
		merged := f.copyConfig(cfg)
		set := map[string]bool{}
		for _, l := range layers {
			s, errs := f.overlay(merged, l.node)
			if len(errs) > 0 {
				return nil, nil, fmt.Errorf("%s: %s", l.source, fieldErrs(errs))
			}
			for k := range s {
				set[k] = true
			}
		}
		if fromScript {
			set[fromScriptKey] = true
		}
		source := "language " + key
		if len(layers) > 0 {
			source = layers[len(layers)-1].source
		}
		if errs := f.validateConfig(merged, false); len(errs) > 0 {
			return nil, nil, fmt.Errorf("%s: %s", source, fieldErrs(errs))
		}
		st, err := f.newSettings(merged, key, set)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", source, err)
		}
		out[key] = st
	}
	return base, out, nil
}

func fieldErrs(errs []pipeline.FieldError) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		if e.Field == "" {
			parts[i] = e.Msg
		} else {
			parts[i] = e.Field + ": " + e.Msg
		}
	}
	return strings.Join(parts, "; ")
}

func cleanYAMLErr(err error) string {
	msg := strings.TrimSpace(strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n"))
	if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "line ") && i > 0 {
		msg = msg[i+2:]
	}
	return strings.Replace(msg, "cannot unmarshal", "cannot use", 1)
}

// formatNum writes a measured value or threshold for people: whole numbers as such, others
// with four significant digits.
func formatNum(v float64, isInt bool) string {
	if isInt || v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	if math.Abs(v) >= 1000 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// FormatNum is formatNum for other packages (calibration reports).
func FormatNum(v float64, isInt bool) string { return formatNum(v, isInt) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// suggest returns " (did you mean X?)" for the nearest valid name within a small edit
// distance.
func suggest(word string, valid []string) string {
	best, bestD := "", 1<<30
	for _, v := range valid {
		if d := editDistance(word, v); d < bestD {
			best, bestD = v, d
		}
	}
	if best != "" && bestD <= max(2, len(word)/3) {
		return " (did you mean " + best + "?)"
	}
	return ""
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
