package quality

import (
	"fmt"

	"github.com/cespare/xxhash/v2"
	"go.yaml.in/yaml/v3"

	"github.com/sieve-data/sieve/pipeline"
)

// GopherRepetitionConfig configures gopher_repetition: Gopher's repetition rules (Rae et al.
// 2021, table A1). Paragraphs are separated by blank lines; lines and paragraphs are compared
// trimmed, blank lines ignored; n-grams are of lower-cased words; character fractions are of
// the text's code points.
type GopherRepetitionConfig struct {
	MaxDupParaRatio       float64              `yaml:"max_dup_para_ratio" doc:"largest share of paragraphs repeating an earlier one (rule dup_para_ratio)"`
	MaxDupParaCharRatio   float64              `yaml:"max_dup_para_char_ratio" doc:"largest share of characters in repeated paragraphs (rule dup_para_char_ratio)"`
	MaxDupLineRatio       float64              `yaml:"max_dup_line_ratio" doc:"largest share of lines repeating an earlier one (rule dup_line_ratio)"`
	MaxDupLineCharRatio   float64              `yaml:"max_dup_line_char_ratio" doc:"largest share of characters in repeated lines (rule dup_line_char_ratio)"`
	MaxTop2gramCharRatio  float64              `yaml:"max_top_2gram_char_ratio" doc:"largest share of characters in the occurrences of the most frequent repeated 2-gram (rule top_2gram_char_ratio)"`
	MaxTop3gramCharRatio  float64              `yaml:"max_top_3gram_char_ratio" doc:"the same for 3-grams"`
	MaxTop4gramCharRatio  float64              `yaml:"max_top_4gram_char_ratio" doc:"the same for 4-grams"`
	MaxDup5gramCharRatio  float64              `yaml:"max_dup_5gram_char_ratio" doc:"largest share of characters in words of 5-grams that occurred earlier in the text (rule dup_5gram_char_ratio)"`
	MaxDup6gramCharRatio  float64              `yaml:"max_dup_6gram_char_ratio" doc:"the same for 6-grams"`
	MaxDup7gramCharRatio  float64              `yaml:"max_dup_7gram_char_ratio" doc:"the same for 7-grams"`
	MaxDup8gramCharRatio  float64              `yaml:"max_dup_8gram_char_ratio" doc:"the same for 8-grams"`
	MaxDup9gramCharRatio  float64              `yaml:"max_dup_9gram_char_ratio" doc:"the same for 9-grams"`
	MaxDup10gramCharRatio float64              `yaml:"max_dup_10gram_char_ratio" doc:"the same for 10-grams"`
	Disable               []string             `yaml:"disable" doc:"rules switched off (names in parentheses above)"`
	Enable                []string             `yaml:"enable" doc:"per-language entries only: rules switched back on for that language"`
	PerLanguage           map[string]yaml.Node `yaml:"per_language" doc:"overrides by language label (yor_Latn), code (yor) or script (Thai: languages of that script without an entry): any key above; wins over thresholds_file"`
	ThresholdsFile        string               `yaml:"thresholds_file" doc:"per-language overrides written by sieve calibrate (its gopher_repetition section); relative to the config file"`
}

// DefaultGopherRepetitionConfig returns the published defaults.
func DefaultGopherRepetitionConfig() GopherRepetitionConfig {
	return GopherRepetitionConfig{
		MaxDupParaRatio: 0.3, MaxDupParaCharRatio: 0.2, MaxDupLineRatio: 0.3, MaxDupLineCharRatio: 0.2,
		MaxTop2gramCharRatio: 0.20, MaxTop3gramCharRatio: 0.18, MaxTop4gramCharRatio: 0.16,
		MaxDup5gramCharRatio: 0.15, MaxDup6gramCharRatio: 0.14, MaxDup7gramCharRatio: 0.13,
		MaxDup8gramCharRatio: 0.12, MaxDup9gramCharRatio: 0.11, MaxDup10gramCharRatio: 0.10,
	}
}

// Validate implements pipeline.Validator.
func (c *GopherRepetitionConfig) Validate() []pipeline.FieldError {
	return defs[KindGopherRepetition].validateConfig(c, true)
}

const (
	grDupPara = iota
	grDupParaChar
	grDupLine
	grDupLineChar
	grTop2              // top 2..4 follow
	grDup5 = grTop2 + 3 // dup 5..10 follow
)

func init() {
	rules := []string{"dup_para_ratio", "dup_para_char_ratio", "dup_line_ratio", "dup_line_char_ratio"}
	bounds := []Bound{
		{Rule: "dup_para_ratio", Key: "max_dup_para_ratio", Max: true, Hi: 1},
		{Rule: "dup_para_char_ratio", Key: "max_dup_para_char_ratio", Max: true, Hi: 1},
		{Rule: "dup_line_ratio", Key: "max_dup_line_ratio", Max: true, Hi: 1},
		{Rule: "dup_line_char_ratio", Key: "max_dup_line_char_ratio", Max: true, Hi: 1},
	}
	for n := 2; n <= 4; n++ {
		r := fmt.Sprintf("top_%dgram_char_ratio", n)
		rules = append(rules, r)
		bounds = append(bounds, Bound{Rule: r, Key: "max_" + r, Max: true, Hi: 1})
	}
	for n := 5; n <= 10; n++ {
		r := fmt.Sprintf("dup_%dgram_char_ratio", n)
		rules = append(rules, r)
		bounds = append(bounds, Bound{Rule: r, Key: "max_" + r, Max: true, Hi: 1})
	}
	register(&filterDef{
		kind:     KindGopherRepetition,
		rules:    rules,
		bounds:   bounds,
		defaults: func() any { c := DefaultGopherRepetitionConfig(); return &c },
		measure:  measureRepetition,
	})
}

// gramMul combines word hashes into n-gram hashes: g(i, n+1) = g(i, n)*gramMul + h(i+n).
const gramMul = 0x9e3779b97f4a7c15

func measureRepetition(w *worker, st *settings, vals []float64) {
	a := w.a
	for i := range vals {
		vals[i] = 0
	}
	total := a.Runes
	if total == 0 {
		for i := range vals {
			vals[i] = nanValue
		}
		return
	}
	if st.on(grDupPara) || st.on(grDupParaChar) || st.on(grDupLine) || st.on(grDupLineChar) {
		measureDupLines(a, vals, total)
	}
	needGrams := false
	for r := grTop2; r < grDup5+6; r++ {
		needGrams = needGrams || st.on(r)
	}
	if !needGrams {
		return
	}
	words := a.words()
	n := len(words)
	if cap(a.grams) < n {
		a.grams = make([]uint64, n)
	}
	if cap(a.cum) < n+1 {
		a.cum = make([]int32, n+1)
	}
	grams, cum := a.grams[:n], a.cum[:n+1]
	cum[0] = 0
	for i := range words {
		grams[i] = words[i].Hash
		cum[i+1] = cum[i] + words[i].Runes
	}
	t := &a.tab
	for size := 2; size <= 10; size++ {
		m := n - size + 1
		if m <= 0 {
			break
		}
		for i := 0; i < m; i++ {
			grams[i] = grams[i]*gramMul + words[i+size-1].Hash
		}
		switch {
		case size <= 4 && st.on(grTop2+size-2):
			t.reset(m)
			var bestCount, bestChars int32
			for i := 0; i < m; i++ {
				slot, _ := t.add(mix64(grams[i]), int32(i))
				c := t.count[slot]
				if c < bestCount || c < 2 {
					continue
				}
				p := t.pos[slot]
				chars := cum[int(p)+size] - cum[p] + int32(size-1)
				if c > bestCount || chars > bestChars {
					bestCount, bestChars = c, chars
				}
			}
			vals[grTop2+size-2] = float64(bestCount) * float64(bestChars) / float64(total)
		case size >= 5 && st.on(grDup5+size-5):
			t.reset(m)
			covered, dupChars := 0, int32(0)
			for i := 0; i < m; i++ {
				if _, seen := t.add(mix64(grams[i]), int32(i)); !seen {
					continue
				}
				from := max(i, covered)
				dupChars += cum[i+size] - cum[from]
				covered = i + size
			}
			vals[grDup5+size-5] = float64(dupChars) / float64(total)
		}
	}
}

// measureDupLines fills the line and paragraph repetition values.
func measureDupLines(a *Analysis, vals []float64, total int) {
	t := &a.tab
	t.reset(a.NonBlank)
	if cap(a.wbuf) < len(a.Lines) {
		a.wbuf = make([]uint64, len(a.Lines))
	}
	lineHash := a.wbuf[:len(a.Lines)]
	var dupLines, dupLineChars int
	for i := range a.Lines {
		l := &a.Lines[i]
		if l.Blank() {
			continue
		}
		h := xxhash.Sum64String(a.Text[l.Start:l.End])
		lineHash[i] = h
		if _, seen := t.add(h, int32(i)); seen {
			dupLines++
			dupLineChars += int(l.Runes)
		}
	}
	vals[grDupLine] = ratio(dupLines, a.NonBlank)
	vals[grDupLineChar] = float64(dupLineChars) / float64(total)

	// paragraphs: runs of non-blank lines
	t.reset(a.NonBlank)
	var paras, dupParas, dupParaChars int
	var h uint64
	var chars int
	inPara := false
	flush := func() {
		if !inPara {
			return
		}
		paras++
		if _, seen := t.add(mix64(h), int32(paras)); seen {
			dupParas++
			dupParaChars += chars
		}
		inPara, h, chars = false, 0, 0
	}
	for i := range a.Lines {
		l := &a.Lines[i]
		if l.Blank() {
			flush()
			continue
		}
		inPara = true
		h = h*gramMul + lineHash[i]
		chars += int(l.Runes)
	}
	flush()
	vals[grDupPara] = ratio(dupParas, paras)
	vals[grDupParaChar] = float64(dupParaChars) / float64(total)
}

// UsedFiles implements pipeline.FileUser: the thresholds file written by sieve calibrate.
func (c *GopherRepetitionConfig) UsedFiles() []string {
	if c.ThresholdsFile == "" {
		return nil
	}
	return []string{c.ThresholdsFile}
}
