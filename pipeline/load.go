package pipeline

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ConfigError is one problem in a configuration file, reported compiler-style.
type ConfigError struct {
	File string
	Line int
	Col  int
	Path string // e.g. "stages[2].quality.min_words"
	Msg  string
}

func (e ConfigError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col)
	}
	if e.Path != "" {
		return loc + ": " + e.Path + ": " + e.Msg
	}
	return loc + ": " + e.Msg
}

// ConfigErrors is every problem found in a configuration, in file order.
type ConfigErrors []ConfigError

func (es ConfigErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// maxConfigBytes bounds the size of a configuration file; pipelines are small.
const maxConfigBytes = 4 << 20

// LoadFile reads, checks and decodes a pipeline configuration. Relative input and stage
// paths are resolved against the file's directory. The error, if any, is ConfigErrors
// listing every problem found.
func LoadFile(path string, reg *Registry) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, ConfigErrors{{File: path, Msg: err.Error()}}
	}
	return Load(path, data, reg)
}

// Load checks and decodes a pipeline configuration held in data; name is used in messages
// and its directory as the base for relative paths.
func Load(name string, data []byte, reg *Registry) (*Config, error) {
	l := &loader{file: name}
	if len(data) > maxConfigBytes {
		return nil, ConfigErrors{{File: name, Msg: fmt.Sprintf("file is %d bytes; a pipeline config may be at most %d", len(data), maxConfigBytes)}}
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, ConfigErrors{l.yamlError(err)}
	}
	cfg := Default()
	cfg.BaseDir = filepath.Dir(name)
	if len(root.Content) == 0 {
		return nil, ConfigErrors{{File: name, Msg: "empty configuration"}}
	}
	doc := root.Content[0]
	if countAliases(doc, 0) > maxAliases {
		return nil, ConfigErrors{{File: name, Line: doc.Line, Col: doc.Column, Msg: "too many YAML aliases (alias bomb?)"}}
	}
	l.decodeTop(doc, &cfg, reg)
	if len(l.errs) > 0 {
		sort.SliceStable(l.errs, func(i, j int) bool {
			if l.errs[i].Line != l.errs[j].Line {
				return l.errs[i].Line < l.errs[j].Line
			}
			return l.errs[i].Col < l.errs[j].Col
		})
		return nil, l.errs
	}
	return &cfg, nil
}

const maxAliases = 1000

func countAliases(n *yaml.Node, depth int) int {
	if n == nil || depth > 200 {
		return maxAliases + 1
	}
	c := 0
	if n.Kind == yaml.AliasNode {
		c++
	}
	for _, ch := range n.Content {
		c += countAliases(ch, depth+1)
		if c > maxAliases {
			return c
		}
	}
	return c
}

type loader struct {
	file string
	errs ConfigErrors
}

func (l *loader) add(n *yaml.Node, path, format string, args ...any) {
	e := ConfigError{File: l.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	l.errs = append(l.errs, e)
}

func (l *loader) yamlError(err error) ConfigError {
	// yaml.v3 messages look like "yaml: line 3: mapping values are not allowed".
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := ConfigError{File: l.file, Msg: msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				e.Line, e.Col, e.Msg = n, 1, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return e
}

func (l *loader) decodeTop(doc *yaml.Node, cfg *Config, reg *Registry) {
	if doc.Kind != yaml.MappingNode {
		l.add(doc, "", "the configuration must be a mapping with keys %s", strings.Join(yamlKeys(reflect.TypeOf(*cfg)), ", "))
		return
	}
	l.decodeStruct(doc, reflect.ValueOf(cfg).Elem(), "", func(key string, val *yaml.Node) bool {
		switch key {
		case "inputs":
			l.decodeInputs(val, cfg)
		case "stages":
			l.decodeStages(val, cfg, reg)
		default:
			return false
		}
		return true
	})
	// Inputs may also come from the command line: the runner checks that there are some.
	if cfg.Workers < 0 || cfg.Workers > 1024 {
		l.add(valueOr(doc, "workers"), "workers", "must be in 0..1024 (0 = number of CPUs), got %d", cfg.Workers)
	}
	if cfg.BatchSize < 1 || cfg.BatchSize > 1<<16 {
		l.add(valueOr(doc, "batch_size"), "batch_size", "must be in 1..65536, got %d", cfg.BatchSize)
	}
	out := valueOr(doc, "output")
	l.validate(out, "output", &cfg.Output)
	if _, ok := LookupWriter(cfg.Output.Format); !ok {
		l.add(fieldNode(out, "format"), "output.format", "unknown format %q; valid: %s", cfg.Output.Format, strings.Join(WriterNames(), ", "))
	}
	l.validate(valueOr(doc, "coverage"), "coverage", &cfg.Coverage)
	l.checkTokenizer(valueOr(doc, "coverage"), &cfg.Coverage, cfg.BaseDir)
	l.validate(valueOr(doc, "rejects"), "rejects", &cfg.Rejects)
}

func (l *loader) decodeInputs(val *yaml.Node, cfg *Config) {
	if val.Kind != yaml.SequenceNode {
		l.add(val, "inputs", "must be a list of {path: ..., format: ...}")
		return
	}
	for i, item := range val.Content {
		path := fmt.Sprintf("inputs[%d]", i)
		in := DefaultInput()
		if item.Kind == yaml.ScalarNode { // shorthand: a bare path
			in.Path = item.Value
		} else if item.Kind != yaml.MappingNode {
			l.add(item, path, "must be a path or a mapping {path: ..., format: ...}")
			continue
		} else {
			l.decodeStruct(item, reflect.ValueOf(&in).Elem(), path, nil)
		}
		l.validate(item, path, &in)
		if in.Format != "auto" {
			if _, ok := LookupReader(in.Format); !ok {
				l.add(fieldNode(item, "format"), path+".format", "unknown format %q; valid: auto, %s", in.Format, strings.Join(ReaderNames(), ", "))
			}
		}
		in.Path = resolvePath(cfg.BaseDir, in.Path)
		in.Line = item.Line
		cfg.Inputs = append(cfg.Inputs, in)
	}
}

func (l *loader) decodeStages(val *yaml.Node, cfg *Config, reg *Registry) {
	if val.Kind != yaml.SequenceNode {
		l.add(val, "stages", "must be a list of {kind: params}")
		return
	}
	seen := map[string]int{}
	for i, item := range val.Content {
		path := fmt.Sprintf("stages[%d]", i)
		var kindNode, params *yaml.Node
		switch {
		case item.Kind == yaml.ScalarNode:
			kindNode = item
		case item.Kind == yaml.MappingNode && len(item.Content) == 2:
			kindNode, params = item.Content[0], item.Content[1]
		default:
			l.add(item, path, "must be a mapping with one key, the stage kind, e.g. `- length: {min_chars: 50}`")
			continue
		}
		kind := kindNode.Value
		spec, ok := reg.Lookup(kind)
		if !ok {
			l.add(kindNode, path, "unknown stage kind %q%s; valid: %s", kind, suggest(kind, reg.Kinds()), strings.Join(reg.Kinds(), ", "))
			continue
		}
		seen[kind]++
		name := kind
		if seen[kind] > 1 {
			name = kind + "#" + strconv.Itoa(seen[kind])
		}
		sc := StageConfig{Kind: kind, Name: name, Line: kindNode.Line, Column: kindNode.Column}
		c := spec.Config()
		sp := path + "." + kind
		if params != nil && !(params.Kind == yaml.ScalarNode && params.Tag == "!!null") {
			if params.Kind != yaml.MappingNode {
				l.add(params, sp, "parameters must be a mapping, e.g. %s", spec.Example)
				continue
			}
			l.decodeStruct(params, reflect.ValueOf(c).Elem(), sp, nil)
			sc.Params = *params
		}
		l.validate(orNode(params, kindNode), sp, c)
		sc.Config = c
		cfg.Stages = append(cfg.Stages, sc)
	}
}

func orNode(a, b *yaml.Node) *yaml.Node {
	if a != nil {
		return a
	}
	return b
}

// decodeStruct decodes a mapping into the struct v field by field, reporting unknown keys
// (with the nearest valid name) and bad values with their positions. special, when not nil,
// handles keys itself by returning true.
func (l *loader) decodeStruct(n *yaml.Node, v reflect.Value, path string, special func(key string, val *yaml.Node) bool) {
	if n.Kind != yaml.MappingNode {
		l.add(n, path, "must be a mapping with keys %s", strings.Join(yamlKeys(v.Type()), ", "))
		return
	}
	t := v.Type()
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		kp := joinPath(path, key)
		if seen[key] {
			l.add(k, kp, "duplicate key")
			continue
		}
		seen[key] = true
		if special != nil && special(key, val) {
			continue
		}
		fi := fieldIndex(t, key)
		if fi < 0 {
			keys := yamlKeys(t)
			l.add(k, kp, "unknown field%s; valid: %s", suggest(key, keys), strings.Join(keys, ", "))
			continue
		}
		f := v.Field(fi)
		l.decodeValue(val, f, kp)
	}
}

var nodeType = reflect.TypeOf(yaml.Node{})

func (l *loader) decodeValue(val *yaml.Node, f reflect.Value, path string) {
	switch {
	case f.Kind() == reflect.Struct && f.Type() != nodeType:
		l.decodeStruct(val, f, path, nil)
	case f.Kind() == reflect.Slice && elemStruct(f.Type().Elem()):
		if val.Kind != yaml.SequenceNode {
			l.add(val, path, "must be a list")
			return
		}
		s := reflect.MakeSlice(f.Type(), len(val.Content), len(val.Content))
		for i, item := range val.Content {
			l.decodeValue(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		f.Set(s)
	case f.Kind() == reflect.Map && elemStruct(f.Type().Elem()):
		if val.Kind != yaml.MappingNode {
			l.add(val, path, "must be a mapping")
			return
		}
		m := reflect.MakeMapWithSize(f.Type(), len(val.Content)/2)
		for i := 0; i+1 < len(val.Content); i += 2 {
			kv := reflect.New(f.Type().Key()).Elem()
			if err := val.Content[i].Decode(kv.Addr().Interface()); err != nil {
				l.add(val.Content[i], path, "bad key: %s", cleanDecodeErr(err))
				continue
			}
			ev := reflect.New(f.Type().Elem()).Elem()
			l.decodeValue(val.Content[i+1], ev, joinPath(path, val.Content[i].Value))
			m.SetMapIndex(kv, ev)
		}
		f.Set(m)
	default:
		if err := val.Decode(f.Addr().Interface()); err != nil {
			l.add(val, path, "%s", cleanDecodeErr(err))
		}
	}
}

func elemStruct(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && t != nodeType
}

func cleanDecodeErr(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n")
	msg = strings.TrimSpace(msg)
	if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "line ") && i > 0 {
		msg = msg[i+2:]
	}
	msg = strings.Replace(msg, "cannot unmarshal", "cannot use", 1)
	return msg
}

// validate calls Validate on v if it implements Validator and maps each FieldError to the
// node of its key inside n (or n itself when the key was not written).
func (l *loader) validate(n *yaml.Node, path string, v any) {
	val, ok := v.(Validator)
	if !ok {
		return
	}
	for _, fe := range val.Validate() {
		target := n
		if n != nil && n.Kind == yaml.MappingNode {
			if fn := fieldNode(n, fe.Field); fn != nil {
				target = fn
			}
		}
		l.add(target, joinPath(path, fe.Field), "%s", fe.Msg)
	}
}

// fieldNode finds the value node of a dotted key path inside a mapping node. A part may
// end in a list index ("references[1].path", "languages[0]").
func fieldNode(n *yaml.Node, dotted string) *yaml.Node {
	cur := n
	for _, part := range strings.Split(dotted, ".") {
		if cur == nil || cur.Kind != yaml.MappingNode {
			return nil
		}
		key, index := part, -1
		if open := strings.IndexByte(part, '['); open > 0 && strings.HasSuffix(part, "]") {
			if i, err := strconv.Atoi(part[open+1 : len(part)-1]); err == nil && i >= 0 {
				key, index = part[:open], i
			}
		}
		cur = findKey(cur, key)
		if index >= 0 {
			if cur == nil || cur.Kind != yaml.SequenceNode || index >= len(cur.Content) {
				return nil
			}
			cur = cur.Content[index]
		}
	}
	return cur
}

func findKey(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func valueOr(n *yaml.Node, key string) *yaml.Node {
	if v := findKey(n, key); v != nil {
		return v
	}
	return n
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fieldIndex returns the index of the exported field whose yaml name is key, or -1.
func fieldIndex(t reflect.Type, key string) int {
	for i := 0; i < t.NumField(); i++ {
		if name, ok := yamlName(t.Field(i)); ok && name == key {
			return i
		}
	}
	return -1
}

func yamlName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("yaml")
	if tag == "-" {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		return "", false // untagged fields are not configurable
	}
	return name, true
}

// yamlKeys lists the configurable keys of a struct type in declaration order.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if name, ok := yamlName(t.Field(i)); ok {
			keys = append(keys, name)
		}
	}
	return keys
}

// suggest returns " (did you mean X?)" for the nearest valid name within a small edit distance.
func suggest(word string, valid []string) string {
	best, bestD := "", 1<<30
	for _, v := range valid {
		if d := editDistance(word, v); d < bestD {
			best, bestD = v, d
		}
	}
	limit := max(2, len(word)/3)
	if best != "" && bestD <= limit {
		return fmt.Sprintf(" (did you mean %s?)", best)
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
