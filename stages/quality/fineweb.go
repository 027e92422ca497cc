package quality

import (
	"github.com/cespare/xxhash/v2"
	"go.yaml.in/yaml/v3"

	"github.com/sieve-data/sieve/pipeline"
)

// FineWebQualityConfig configures fineweb_quality: the rules FineWeb added (Penedo et al.
// 2024). Line ratios count non-blank lines.
type FineWebQualityConfig struct {
	MinTerminalPunctLineRatio float64              `yaml:"min_terminal_punct_line_ratio" doc:"smallest share of lines ending with a sentence terminator of any script (rule terminal_punct_line_ratio)"`
	MaxShortLineRatio         float64              `yaml:"max_short_line_ratio" doc:"largest share of lines of at most short_line_chars characters (rule short_line_ratio)"`
	ShortLineChars            int                  `yaml:"short_line_chars" doc:"a line this long or shorter, in characters, is short"`
	MaxDupLineCharRatio       float64              `yaml:"max_dup_line_char_ratio" doc:"largest share of characters (newlines excluded) in lines repeating an earlier line (rule dup_line_char_ratio)"`
	MaxNewlineWordRatio       float64              `yaml:"max_newline_word_ratio" doc:"most newlines per word (rule newline_word_ratio)"`
	Disable                   []string             `yaml:"disable" doc:"rules switched off: terminal_punct_line_ratio, short_line_ratio, dup_line_char_ratio, newline_word_ratio"`
	Enable                    []string             `yaml:"enable" doc:"per-language entries only: rules switched back on for that language"`
	PerLanguage               map[string]yaml.Node `yaml:"per_language" doc:"overrides by language label (yor_Latn), code (yor) or script (Thai: languages of that script without an entry): any key above; wins over thresholds_file"`
	ThresholdsFile            string               `yaml:"thresholds_file" doc:"per-language overrides written by sieve calibrate (its fineweb_quality section); relative to the config file"`
}

// DefaultFineWebQualityConfig returns the published defaults.
func DefaultFineWebQualityConfig() FineWebQualityConfig {
	return FineWebQualityConfig{
		MinTerminalPunctLineRatio: 0.12, MaxShortLineRatio: 0.67, ShortLineChars: 30,
		MaxDupLineCharRatio: 0.01, MaxNewlineWordRatio: 0.3,
	}
}

// Validate implements pipeline.Validator.
func (c *FineWebQualityConfig) Validate() []pipeline.FieldError {
	return defs[KindFineWebQuality].validateConfig(c, true)
}

const (
	fwTerminal = iota
	fwShortLine
	fwDupLineChar
	fwNewlineWord
)

type fineWebSettings struct {
	shortLine int
}

func init() {
	register(&filterDef{
		kind:  KindFineWebQuality,
		rules: []string{"terminal_punct_line_ratio", "short_line_ratio", "dup_line_char_ratio", "newline_word_ratio"},
		bounds: []Bound{
			{Rule: "terminal_punct_line_ratio", Key: "min_terminal_punct_line_ratio", Hi: 1},
			{Rule: "short_line_ratio", Key: "max_short_line_ratio", Max: true, Hi: 1},
			{Rule: "dup_line_char_ratio", Key: "max_dup_line_char_ratio", Max: true, Hi: 1},
			{Rule: "newline_word_ratio", Key: "max_newline_word_ratio", Max: true, Hi: 1e6},
		},
		defaults: func() any { c := DefaultFineWebQualityConfig(); return &c },
		validate: func(cfg any) []pipeline.FieldError {
			if c := cfg.(*FineWebQualityConfig); c.ShortLineChars < 0 || c.ShortLineChars > 1e6 {
				return []pipeline.FieldError{{Field: "short_line_chars", Msg: "must be in 0..1000000, got " + formatNum(float64(c.ShortLineChars), true)}}
			}
			return nil
		},
		prepare: func(cfg any, _ string, _ map[string]bool, st *settings) error {
			st.fw.shortLine = cfg.(*FineWebQualityConfig).ShortLineChars
			return nil
		},
		measure: measureFineWeb,
	})
}

func measureFineWeb(w *worker, st *settings, vals []float64) {
	a := w.a
	var terminal, short, dupChars int
	needDup := st.on(fwDupLineChar)
	if needDup {
		a.tab.reset(a.NonBlank)
	}
	for i := range a.Lines {
		l := &a.Lines[i]
		if l.Blank() {
			continue
		}
		text := a.Text[l.Start:l.End]
		if endsTerminal(text, false, false) {
			terminal++
		}
		if int(l.Runes) <= st.fw.shortLine {
			short++
		}
		if needDup {
			if _, seen := a.tab.add(xxhash.Sum64String(text), int32(i)); seen {
				dupChars += int(l.Runes)
			}
		}
	}
	vals[fwTerminal] = ratio(terminal, a.NonBlank)
	vals[fwShortLine] = ratio(short, a.NonBlank)
	vals[fwDupLineChar] = ratio(dupChars, a.Runes-a.Newlines)
	vals[fwNewlineWord] = nanValue
	if st.on(fwNewlineWord) {
		vals[fwNewlineWord] = ratio(a.Newlines, len(a.words()))
	}
}

// UsedFiles implements pipeline.FileUser: the thresholds file written by sieve calibrate.
func (c *FineWebQualityConfig) UsedFiles() []string {
	if c.ThresholdsFile == "" {
		return nil
	}
	return []string{c.ThresholdsFile}
}
