package formats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/sieve-data/sieve/pipeline"
)

// sentences are written for these tests, in several of the languages sieve is meant for.
var sentences = []struct{ lang, script, text string }{
	{"yor_Latn", "Latn", "Ẹ kú àárọ̀, ṣé dáadáa ni ẹ wà? Ọjà náà kún fún ènìyàn lónìí."},
	{"swh_Latn", "Latn", "Habari za asubuhi. Soko lilijaa watu leo, na bei za matunda zilipanda."},
	{"cym_Latn", "Latn", "Bore da. Roedd y farchnad yn llawn pobl heddiw a'r glaw yn disgyn."},
	{"eus_Latn", "Latn", "Egun on. Gaur azoka jendez beteta zegoen eta euria ari zuen."},
	{"isl_Latn", "Latn", "Góðan daginn. Markaðurinn var fullur af fólki í dag, þótt það rigndi."},
	{"zul_Latn", "Latn", "Sawubona. Imakethe ibigcwele abantu namuhla, futhi bekuna imvula."},
	{"tgl_Latn", "Latn", "Magandang umaga. Puno ng tao ang palengke ngayon at umuulan."},
	{"amh_Ethi", "Ethi", "እንደምን አደራችሁ። ገበያው ዛሬ በሰዎች ተሞልቶ ነበር።"},
	{"hin_Deva", "Deva", "सुप्रभात। आज बाज़ार लोगों से भरा हुआ था और बारिश हो रही थी।"},
	{"", "", "Text whose language nobody decided <b>& \"quoted\"</b>\ttab\nnewline \u2028 sep."},
}

// testDocs returns n kept documents cycling through sentences, with varied metadata:
// none, flat, nested, with numbers of every magnitude and characters that need escaping.
func testDocs(n int) []pipeline.Document {
	docs := make([]pipeline.Document, n)
	for i := range docs {
		s := sentences[i%len(sentences)]
		d := pipeline.Document{
			Seq:       uint64(i),
			ID:        fmt.Sprintf("doc-%05d", i),
			Text:      fmt.Sprintf("%s (%d)", s.text, i),
			Origin:    pipeline.Position{File: fmt.Sprintf("corpus/part-%d.jsonl.zst", i%3), Line: int64(i + 1), Offset: int64(i * 97)},
			Lang:      s.lang,
			Script:    s.script,
			LangScore: float64(i%100) / 97,
		}
		switch i % 4 {
		case 1:
			d.Meta = map[string]any{"url": fmt.Sprintf("https://example.org/a?b=%d&c=<x>", i), "title": s.text[:10]}
		case 2:
			d.Meta = map[string]any{
				"z": 1e-7, "a": float64(i) * 1e21, "m": []any{"x", 2.5, true, nil, map[string]any{"k2": 1.0, "k1": "v"}},
				"nested": map[string]any{"b": "β", "a": []any{}}, "n": nil, "int": i,
			}
		case 3:
			d.Meta = map[string]any{} // empty: written as {}
		}
		docs[i] = d
	}
	return docs
}

// metaJSON is what the metadata column must hold for m: encoding/json's canonical output.
func metaJSON(t testing.TB, m map[string]any) string {
	t.Helper()
	if len(m) == 0 {
		return "{}"
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func TestSchemasArePlainAndRequired(t *testing.T) {
	for _, sh := range []Shape{TextShape(), RejectShape()} {
		for _, f := range sh.Schema().Fields() {
			if f.Nullable {
				t.Errorf("%s.%s: nullable, want required", sh.Name(), f.Name)
			}
			switch f.Type.ID() {
			case arrow.STRING, arrow.FLOAT64, arrow.INT64:
			default:
				t.Errorf("%s.%s: type %s, want string, double or int64", sh.Name(), f.Name, f.Type)
			}
		}
		for _, c := range sh.dictColumns {
			if _, ok := sh.Schema().FieldsByName(c); !ok {
				t.Errorf("%s: dictionary column %q is not in the schema", sh.Name(), c)
			}
		}
	}
	want := []string{"id", "text", "lang", "script", "lang_score", "source", "metadata"}
	for i, f := range TextSchema().Fields() {
		if f.Name != want[i] {
			t.Errorf("TextSchema field %d = %q, want %q", i, f.Name, want[i])
		}
	}
}

func TestDatasetLang(t *testing.T) {
	tests := []struct{ give, want string }{{"", "und"}, {"yor_Latn", "yor_Latn"}}
	for _, tt := range tests {
		if got := DatasetLang(&pipeline.Document{Lang: tt.give}); got != tt.want {
			t.Errorf("DatasetLang(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestValidUTF8ReplacesEachBadByteLikeEncodingJSON(t *testing.T) {
	tests := []string{"", "ascii", "Ẹ kú", "a\xffb", "\xff\xfe", "\xe1\x80", "x\xed\xa0\x80y"}
	for _, give := range tests {
		got := validUTF8(give)
		var fromJSON string
		b, _ := json.Marshal(give)
		if err := json.Unmarshal(b, &fromJSON); err != nil {
			t.Fatal(err)
		}
		if got != fromJSON {
			t.Errorf("validUTF8(%q) = %q, want %q (as encoding/json)", give, got, fromJSON)
		}
	}
}

func TestJSONEncoderMatchesEncodingJSON(t *testing.T) {
	type named struct {
		A string `json:"a"`
	}
	tests := []struct {
		name string
		give map[string]any
	}{
		{"flat", map[string]any{"b": "2", "a": "1", "c": true}},
		{"nested sorted at every level", map[string]any{"z": map[string]any{"y": 1.0, "x": map[string]any{"b": nil, "a": 0.0}}}},
		{"floats", map[string]any{"a": 1e-7, "b": 1e21, "c": 123456789.125, "d": -0.0, "e": 1e20, "f": 5e-324, "g": math.MaxFloat64}},
		{"float32", map[string]any{"a": float32(0.1), "b": float32(1e-7), "c": float32(3e21)}},
		{"ints", map[string]any{"a": 1, "b": int64(-9007199254740993), "c": int32(7), "d": uint64(math.MaxUint64), "e": uint(3), "f": uint32(4)}},
		{"nil containers", map[string]any{"a": []any(nil), "b": map[string]any(nil), "c": []string(nil), "d": []any{}, "e": []string{"x", "<y>"}}},
		{"near U+2028", map[string]any{"e2": "€ … \u2027\u2028\u2029\u202a ‐ end\u2028", "bad": "\u2028\xe2\x80"}},
		{"escapes", map[string]any{"<&>": "a\"b\\c\b\f\n\r\t\x01\x1f\u2028\u2029 é 😀 \xff end", "k\xfe": "v"}},
		{"fallback types", map[string]any{"n": json.Number("12.50"), "r": json.RawMessage(`{ "b" : 1 , "a":[1, 2] }`), "m": map[string]int{"b": 2, "a": 1}, "s": named{"<x>"}, "bytes": []byte("hi")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e jsonEncoder
			if err := e.appendMeta(tt.give); err != nil {
				t.Fatal(err)
			}
			if got, want := string(e.buf), metaJSON(t, tt.give); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestJSONEncoderEmptyMetaIsEmptyObject(t *testing.T) {
	for _, give := range []map[string]any{nil, {}} {
		var e jsonEncoder
		if err := e.appendMeta(give); err != nil || string(e.buf) != "{}" {
			t.Errorf("appendMeta(%#v) = %q, %v; want {}", give, e.buf, err)
		}
	}
}

func TestJSONEncoderErrors(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	tests := []struct {
		name string
		give map[string]any
		want string
	}{
		{"NaN", map[string]any{"x": math.NaN()}, "unsupported value"},
		{"Inf", map[string]any{"x": []any{math.Inf(1)}}, "unsupported value"},
		{"float32 Inf", map[string]any{"x": float32(math.Inf(-1))}, "unsupported value"},
		{"cycle", cyclic, "nested deeper"},
		{"channel", map[string]any{"c": make(chan int)}, "unsupported type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e jsonEncoder
			err := e.appendMeta(tt.give)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("appendMeta error = %v, want one containing %q", err, tt.want)
			}
			if len(e.keys) != 0 {
				t.Errorf("key stack not unwound: %d left", len(e.keys))
			}
		})
	}
}

// FuzzJSONEncoder checks the encoder against encoding/json on every value JSON can express
// (objects decoded from the fuzz input, with float64 and with json.Number numbers), and on
// arbitrary bytes as strings and keys.
func FuzzJSONEncoder(f *testing.F) {
	f.Add([]byte(`{"b":[1,2.5e-9,"x"],"a":{"d":null,"c":true}}`))
	f.Add([]byte(`{"\u2028<&>":"\u0001\ud800","k":1e21}`))
	f.Add([]byte("\xff\xfe plain bytes \u00e9"))
	f.Fuzz(func(t *testing.T, data []byte) {
		metas := []map[string]any{{string(data): string(data)}}
		var m map[string]any
		if json.Unmarshal(data, &m) == nil {
			metas = append(metas, m)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var mn map[string]any
		if dec.Decode(&mn) == nil {
			metas = append(metas, mn)
		}
		for _, meta := range metas {
			var e jsonEncoder
			if err := e.appendMeta(meta); err != nil {
				t.Fatalf("appendMeta: %v", err)
			}
			if got, want := string(e.buf), metaJSON(t, meta); got != want {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		}
	})
}
