package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sieve-data/sieve/pipeline"
)

// FrontMatter is the YAML metadata block of a dataset card, with the fields of the Hugging
// Face Hub's dataset card metadata that sieve fills in.
type FrontMatter struct {
	PrettyName      string         `yaml:"pretty_name"`
	Language        []string       `yaml:"language,omitempty"` // ISO 639-1, else 639-3
	License         string         `yaml:"license"`
	Multilinguality []string       `yaml:"multilinguality,omitempty"`
	SizeCategories  []string       `yaml:"size_categories"`
	TaskCategories  []string       `yaml:"task_categories"`
	TaskIDs         []string       `yaml:"task_ids"`
	Tags            []string       `yaml:"tags"`
	Configs         []CardConfig   `yaml:"configs,omitempty"`
	DatasetInfo     []DatasetInfo  `yaml:"dataset_info,omitempty"`
	Extra           map[string]any `yaml:",inline"`
}

// CardConfig is one entry of `configs`: a language's data files, so that
// load_dataset(dir, name) loads that language.
type CardConfig struct {
	ConfigName string          `yaml:"config_name"`
	DataFiles  []CardDataFiles `yaml:"data_files"`
	Default    bool            `yaml:"default,omitempty"`
}

// CardDataFiles maps a split to a glob of files relative to the dataset root.
type CardDataFiles struct {
	Split string `yaml:"split"`
	Path  string `yaml:"path"`
}

// DatasetInfo is one entry of `dataset_info` (written for Parquet datasets).
type DatasetInfo struct {
	ConfigName   string         `yaml:"config_name"`
	Features     []FeatureInfo  `yaml:"features"`
	Splits       []SplitInfo    `yaml:"splits"`
	DownloadSize int64          `yaml:"download_size"`
	Extra        map[string]any `yaml:",inline"`
}

// FeatureInfo is one column of a dataset: a Dtype, or a List of the features of its
// elements (a list of structs, such as messages).
type FeatureInfo struct {
	Name  string        `yaml:"name"`
	Dtype string        `yaml:"dtype,omitempty"`
	List  []FeatureInfo `yaml:"list,omitempty"`
}

// SplitInfo is one split of a config.
type SplitInfo struct {
	Name        string `yaml:"name"`
	NumExamples int64  `yaml:"num_examples"`
}

// textFeatures are the columns of the dataset files (formats.TextSchema) as Hub dtypes.
var textFeatures = []FeatureInfo{
	{Name: "id", Dtype: "string"}, {Name: "text", Dtype: "string"}, {Name: "lang", Dtype: "string"}, {Name: "script", Dtype: "string"},
	{Name: "lang_score", Dtype: "float64"}, {Name: "source", Dtype: "string"}, {Name: "metadata", Dtype: "string"},
}

// allConfig is the config holding every language; labels never take this name.
const allConfig = "all"

// SizeCategory returns the Hub size category of a dataset of n examples.
func SizeCategory(n int64) string {
	bounds := []struct {
		below int64
		name  string
	}{
		{1e3, "n<1K"}, {1e4, "1K<n<10K"}, {1e5, "10K<n<100K"}, {1e6, "100K<n<1M"}, {1e7, "1M<n<10M"},
		{1e8, "10M<n<100M"}, {1e9, "100M<n<1B"}, {1e10, "1B<n<10B"}, {1e11, "10B<n<100B"}, {1e12, "100B<n<1T"},
	}
	for _, b := range bounds {
		if n < b.below {
			return b.name
		}
	}
	return "n>1T"
}

// frontMatter builds the card metadata.
func (m *model) frontMatter() FrontMatter {
	fm := FrontMatter{
		PrettyName:     m.Name,
		License:        m.Run.Coverage.License,
		SizeCategories: []string{SizeCategory(m.Cov.Docs)},
		TaskCategories: []string{"text-generation"},
		TaskIDs:        []string{"language-modeling"},
		Tags:           []string{"sieve"},
	}
	seen := map[string]bool{}
	for i := range m.Cov.Langs {
		l := &m.Cov.Langs[i]
		if l.Docs > 0 && l.Code != "" && !seen[l.Code] {
			seen[l.Code] = true
			fm.Language = append(fm.Language, l.Code)
		}
	}
	sort.Strings(fm.Language)
	switch {
	case len(fm.Language) > 1:
		fm.Multilinguality = []string{"multilingual"}
	case len(fm.Language) == 1:
		fm.Multilinguality = []string{"monolingual"}
	}
	langs := m.Run.sortedDataLangs()
	if len(langs) > 1 {
		fm.Configs = append(fm.Configs, CardConfig{
			ConfigName: allConfig, Default: true,
			DataFiles: m.Run.splitFiles("*", langs...),
		})
	}
	for _, label := range langs {
		fm.Configs = append(fm.Configs, CardConfig{
			ConfigName: label, Default: len(langs) == 1,
			DataFiles: m.Run.splitFiles(label, label),
		})
	}
	features := textFeatures
	if m.Run.DataShape == "instruction" {
		features = instructionFeatures
		fm.TaskCategories = []string{"text-generation", "question-answering"}
		fm.Tags = append(fm.Tags, "instruction-tuning")
	}
	if m.Run.DataFormat == "parquet" {
		if len(langs) > 1 {
			var size int64
			for _, label := range langs {
				size += m.Run.DataBytes[label]
			}
			fm.DatasetInfo = append(fm.DatasetInfo, DatasetInfo{ConfigName: allConfig, Features: features,
				Splits: m.splitRows(langs...), DownloadSize: size})
		}
		for _, label := range langs {
			fm.DatasetInfo = append(fm.DatasetInfo, DatasetInfo{ConfigName: label, Features: features,
				Splits: m.splitRows(label), DownloadSize: m.Run.DataBytes[label]})
		}
	}
	return fm
}

func (r *Run) sortedDataLangs() []string {
	out := make([]string, 0, len(r.Data))
	for l := range r.Data {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// ParseCard splits a dataset card into its front matter and body.
func ParseCard(card []byte) (FrontMatter, string, error) {
	var fm FrontMatter
	rest, ok := bytes.CutPrefix(card, []byte("---\n"))
	if !ok {
		return fm, "", fmt.Errorf("card does not start with a --- line")
	}
	meta, body, ok := bytes.Cut(rest, []byte("\n---\n"))
	if !ok {
		return fm, "", fmt.Errorf("front matter is not closed by a --- line")
	}
	if err := yaml.Unmarshal(meta, &fm); err != nil {
		return fm, "", fmt.Errorf("front matter: %w", err)
	}
	return fm, string(body), nil
}

// configHash hashes the resolved configuration without the settings that cannot change the
// dataset files (output.dir, workers, and the coverage section, which only shapes the
// documentation), so runs of one pipeline into different directories, with different
// worker counts or with edited targets share it.
func configHash(m *pipeline.Manifest) string {
	cfg := map[string]any{}
	for k, v := range m.ConfigResolved {
		cfg[k] = v
	}
	delete(cfg, "workers")
	delete(cfg, "coverage")
	if out, ok := cfg["output"].(map[string]any); ok {
		o := map[string]any{}
		for k, v := range out {
			if k != "dir" {
				o[k] = v
			}
		}
		cfg["output"] = o
	}
	data, _ := json.Marshal(cfg) // maps marshal with sorted keys
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Card renders the dataset card: front matter, then the sections people look for.
func (m *model) Card() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("---\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(m.frontMatter()); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	b.WriteString("---\n\n")
	c := m.Cov
	st := m.Run.Stats
	fmt.Fprintf(&b, "# %s\n\n", mdText(m.Name))
	b.WriteString("## Summary\n\n")
	fmt.Fprintf(&b, "%s documents (%s words, %s characters, %s) in %s, kept from %s documents read from %s by [sieve](https://github.com/sieve-data/sieve) %s.",
		num(c.Docs), num(c.Words), num(c.Chars), tokensPhrase(c), plural(m.keptLangs(), "language label"),
		num(st.Read), plural(len(m.Run.Manifest.Inputs), "input file"), mdText(m.Run.Manifest.SieveVersion))
	if c.Targeted > 0 {
		fmt.Fprintf(&b, " %d of %d targeted languages meet their target.", c.Met, c.Targeted)
	}
	b.WriteString(" The per-language figures below come from `stats.json`; the data files hold exactly the documents counted there (checked when this card was written).\n\n")
	b.WriteString("Load one language with `load_dataset(\"<this directory or repo>\", \"<label>\")`, for example `\"" + m.exampleLabel() + "\"`")
	if len(m.Run.Data) > 1 {
		b.WriteString(", or every language with the config `all`")
	}
	b.WriteString(".\n\n")

	b.WriteString("## Languages\n\n")
	if c.Tokenizer != nil {
		m.writeExactLanguages(&b)
	} else {
		fmt.Fprintf(&b, "Estimated tokens are UTF-8 bytes / %s: %s\n\n", fmtFloat(m.Run.Coverage.BytesPerToken), tokenMethodShort)
		b.WriteString("| Language | Label | Code | Documents | Words | Characters | Bytes | Est. tokens | Share (docs) | Share (tokens) | Target | Status |\n")
		b.WriteString("|---|---|---|--:|--:|--:|--:|--:|--:|--:|---|---|\n")
		for i := range c.Langs {
			l := &c.Langs[i]
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				mdCell(l.Name), l.Label, dash(l.Code), num(l.Docs), num(l.Words), num(l.Chars), num(l.Bytes), num(l.Tokens),
				pct(l.DocShare), pct(l.TokenShare), targetText(l), statusText(l.Status))
		}
		fmt.Fprintf(&b, "| **Total** | | | **%s** | **%s** | **%s** | **%s** | **%s** | 100%% | 100%% | | |\n\n", num(c.Docs), num(c.Words), num(c.Chars), num(c.Bytes), num(c.Tokens))
	}

	m.writeProcessing(&b)
	m.writeFunnel(&b)
	m.writeDedup(&b)
	m.writeAuditSection(&b, "audit/")
	b.WriteString("## Known limitations\n\n")
	for _, s := range m.limitations() {
		fmt.Fprintf(&b, "- %s\n", s)
	}
	b.WriteString("\n")
	m.writeReproduction(&b)
	return b.Bytes(), nil
}

// writeExactLanguages writes the languages table of a run that counted tokens with a
// tokenizer: exact tokens and tokens per word instead of the estimate.
func (m *model) writeExactLanguages(b *bytes.Buffer) {
	c := m.Cov
	fmt.Fprintf(b, "%s\n\n", tokenizerText(c.Tokenizer, "`"))
	b.WriteString("| Language | Label | Code | Documents | Words | Characters | Bytes | Tokens | Tokens/word | Share (docs) | Share (tokens) | Target | Status |\n")
	b.WriteString("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|\n")
	for i := range c.Langs {
		l := &c.Langs[i]
		fmt.Fprintf(b, "| %s | `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			mdCell(l.Name), l.Label, dash(l.Code), num(l.Docs), num(l.Words), num(l.Chars), num(l.Bytes), num(l.Tokens),
			fertility(l.Fertility), pct(l.DocShare), pct(l.TokenShare), targetText(l), statusText(l.Status))
	}
	fmt.Fprintf(b, "| **Total** | | | **%s** | **%s** | **%s** | **%s** | **%s** | **%s** | 100%% | 100%% | | |\n\n",
		num(c.Docs), num(c.Words), num(c.Chars), num(c.Bytes), num(c.Tokens), fertility(c.Fertility))
}

// tokensPhrase is the token figure of the summary: exact under the tokenizer, or an estimate.
func tokensPhrase(c *Coverage) string {
	if c.Tokenizer == nil {
		return "about " + num(c.Tokens) + " tokens"
	}
	return num(c.Tokens) + " tokens"
}

// tokenizerText says how exact token counts were made and what tokens per word mean. code
// quotes the file name and checksum (Markdown backticks; "" for HTML, which escapes them).
func tokenizerText(t *pipeline.TokenizerInfo, code string) string {
	file := t.File
	if code != "" {
		file = codeSpanSafe(file)
	}
	return "Tokens are exact counts under " + code + file + code + " (" + t.Family + ", SHA-256 " + code + t.SHA256 + code +
		"): each kept document encoded as Hugging Face tokenizers do, without special tokens (add the BOS/EOS your training puts around each document). " +
		"Tokens per word (fertility) is how many tokens this tokenizer spends on a word of the language: the higher it is, the more a model trained with it pays per word, and the less text of the language fits a context window or a token budget. " +
		"English takes about 1.2 to 1.5 tokens per word on current tokenizers; languages and scripts a tokenizer saw little of often take 2 to 4, and some scripts far more."
}

func fertility(f float64) string {
	if f == 0 {
		return "–"
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}

const tokenMethodShort = "a rough estimate that holds across scripts better than counting words (byte-level BPE tokenizers split text into pieces of about 4 bytes on the English-heavy data they are trained on, and into more, shorter pieces for languages and scripts they saw little of, so real counts for underrepresented languages are usually higher). Count with your own tokenizer for exact figures."

func (m *model) exampleLabel() string {
	langs := m.Run.sortedDataLangs()
	for _, l := range langs {
		if !undetermined(l) {
			return l
		}
	}
	if len(langs) > 0 {
		return langs[0]
	}
	return "yor_Latn"
}

func (m *model) keptLangs() int {
	n := 0
	for i := range m.Cov.Langs {
		if m.Cov.Langs[i].Docs > 0 {
			n++
		}
	}
	return n
}

func (m *model) writeProcessing(b *bytes.Buffer) {
	man := m.Run.Manifest
	b.WriteString("## How the data was processed\n\n")
	b.WriteString("Inputs, in reading order:\n\n")
	b.WriteString("| File | Format | Compression | Records | Bytes | SHA-256 |\n|---|---|---|--:|--:|---|\n")
	for _, in := range man.Inputs {
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s | `%s` |\n", codeSpanSafe(in.Path), in.Format, in.Compression, num(in.Records), num(in.Size), in.SHA256)
	}
	b.WriteString("\nStages, in order (every parameter as resolved, defaults included):\n\n")
	fmt.Fprintf(b, "1. `read`: parse the inputs (%s); unreadable records are rejected with a reason.\n", m.inputSettings())
	for i, s := range m.Run.Stages {
		fmt.Fprintf(b, "%d. `%s`", i+2, s.Name)
		if s.Name != s.Kind {
			fmt.Fprintf(b, " (kind `%s`)", s.Kind)
		}
		if p := paramText(s.Params); p != "" {
			fmt.Fprintf(b, ": %s", p)
		}
		b.WriteString("\n")
	}
	if out, ok := man.ConfigResolved["output"].(map[string]any); ok {
		fmt.Fprintf(b, "\nOutput: %s. Rejected documents: %s.\n\n", paramText(without(out, "dir")), m.rejectsText())
	}
}

func (m *model) inputSettings() string {
	ins, _ := m.Run.Manifest.ConfigResolved["inputs"].([]any)
	var parts []string
	for _, in := range ins {
		if mm, ok := in.(map[string]any); ok {
			parts = append(parts, paramText(without(mm, "path")))
		}
	}
	if len(parts) == 0 {
		return "default settings"
	}
	return strings.Join(parts, "; ")
}

func (m *model) rejectsText() string {
	if m.Run.Rejects == "" {
		return "counted in `stats.json`, not written"
	}
	return "`" + m.Run.Rejects + "`, each with its stage, reason and detail"
}

func without(mm map[string]any, key string) map[string]any {
	out := make(map[string]any, len(mm))
	for k, v := range mm {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// paramText renders parameters as "key: value, ..." with sorted keys and JSON values.
func paramText(p map[string]any) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "<EMAIL>", not "\u003cEMAIL\u003e"
	for _, k := range keys {
		buf.Reset()
		_ = enc.Encode(p[k])
		v := strings.TrimSuffix(buf.String(), "\n")
		parts = append(parts, "`"+k+": "+codeSpanSafe(v)+"`")
	}
	return strings.Join(parts, ", ")
}

func (m *model) writeFunnel(b *bytes.Buffer) {
	st := m.Run.Stats
	b.WriteString("## Removal funnel\n\n")
	b.WriteString("Every document read is either kept or removed by exactly one stage, with a reason")
	if st.Balanced {
		fmt.Fprintf(b, " (read %s = kept %s + removed %s, checked at the end of the run).\n\n", num(st.Read), num(st.Kept), num(st.Rejected))
	} else {
		b.WriteString(". **This run's accounting did not balance.**\n\n")
	}
	b.WriteString("| Stage | In | Removed | Kept | Share removed | Reasons |\n|---|--:|--:|--:|--:|---|\n")
	for _, s := range st.Stages {
		var removed int64
		for _, n := range s.Rejected {
			removed += n
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s | %s |\n", s.Name, num(s.In), num(removed), num(s.Kept), pctOf(removed, s.In), reasonsText(s.Rejected))
	}
	b.WriteString("\nPer language: documents that carried the label when they were kept or removed. ")
	if m.LangID {
		b.WriteString("Documents removed before language identification carry no label and are counted under `und`.\n\n")
	} else {
		b.WriteString("No language identification stage ran, so every document counts under `und`.\n\n")
	}
	b.WriteString("| Label | Read | ")
	for _, s := range st.Stages {
		fmt.Fprintf(b, "`%s` | ", s.Name)
	}
	b.WriteString("Kept | Share kept |\n|---|--:|")
	for range st.Stages {
		b.WriteString("--:|")
	}
	b.WriteString("--:|--:|\n")
	for i := range m.Cov.Langs {
		l := &m.Cov.Langs[i]
		if l.Read == 0 {
			continue
		}
		fmt.Fprintf(b, "| `%s` | %s | ", l.Label, num(l.Read))
		for _, s := range st.Stages {
			fmt.Fprintf(b, "%s | ", num(l.RemovedBy(s.Name)))
		}
		fmt.Fprintf(b, "%s | %s |\n", num(l.Docs), pct(l.KeptRate))
	}
	b.WriteString("\nRemovals by language and reason:\n\n| Label | Stage | Reason | Documents |\n|---|---|---|--:|\n")
	any := false
	for i := range m.Cov.Langs {
		l := &m.Cov.Langs[i]
		for _, r := range l.Removed {
			any = true
			fmt.Fprintf(b, "| `%s` | `%s` | `%s` | %s |\n", l.Label, r.Stage, r.Reason, num(r.Docs))
		}
	}
	if !any {
		b.WriteString("| | | none | 0 |\n")
	}
	b.WriteString("\n")
}

func reasonsText(r map[string]int64) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, "`"+k+"` "+num(r[k]))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ")
}

// dedupStages returns the stages that remove duplicates.
func (m *model) dedupStages() []int {
	var out []int
	for i, s := range m.Run.Stats.Stages {
		if strings.Contains(s.Kind, "dedup") {
			out = append(out, i)
		}
	}
	return out
}

func (m *model) writeDedup(b *bytes.Buffer) {
	b.WriteString("## Deduplication\n\n")
	idx := m.dedupStages()
	if len(idx) == 0 {
		b.WriteString("No deduplication stage ran: the dataset may hold duplicate documents.\n\n")
		return
	}
	for _, i := range idx {
		s := m.Run.Stats.Stages[i]
		var removed int64
		for _, n := range s.Rejected {
			removed += n
		}
		fmt.Fprintf(b, "- `%s` removed %s of the %s documents it saw (%s).", s.Name, num(removed), num(s.In), pctOf(removed, s.In))
		if len(s.Extra) > 0 {
			fmt.Fprintf(b, " Its figures: %s.", paramText(s.Extra))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// writeAuditSection lists the audit files and the verdicts read back from them.
func (m *model) writeAuditSection(b *bytes.Buffer, linkPrefix string) {
	b.WriteString("## Audit\n\n")
	if m.Run.Coverage.AuditSamples == 0 || len(m.Audits) == 0 {
		b.WriteString("No audit samples were drawn (`coverage.audit_samples: 0`, or nothing to sample).\n\n")
		if s := m.asideNote(); s != "" {
			b.WriteString(s + "\n\n")
		}
		return
	}
	fmt.Fprintf(b, "Up to %d kept and %d rejected documents per language were drawn at random (seed %d) for a speaker of the language to check; the verdicts ticked in the files so far:\n\n",
		m.Run.Coverage.AuditSamples, m.Run.Coverage.AuditSamples, m.Run.Coverage.Seed)
	b.WriteString("| Label | File | Kept reviewed | ok | wrong language | poor quality | Rejected reviewed | rightly removed | wrongly removed |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, a := range m.Audits {
		s := m.Summaries[a.Label]
		fmt.Fprintf(b, "| `%s` | [%s](%s%s.md) | %d/%d | %d | %d | %d | %d/%d | %d | %d |\n", a.Label, a.Label+".md", linkPrefix, a.Label,
			s.KeptReviewed, s.Kept, s.OK, s.WrongLanguage, s.PoorQuality, s.RejReviewed, s.Rejected, s.RightlyRejected, s.WronglyRejected)
	}
	b.WriteString("\n")
	if s := m.asideNote(); s != "" {
		b.WriteString(s + "\n\n")
	}
}

// asideNote says how many verdicts of earlier audits are kept in PreviousDir and not
// counted; "" when none.
func (m *model) asideNote() string {
	if m.setAside == 0 {
		return ""
	}
	return fmt.Sprintf("Verdicts ticked in earlier audit files that apply to no sample drawn now (the document is no longer drawn, its text changed, or not one box is ticked) are not counted here: %s kept in `%s/`.",
		plural(m.setAside, "verdict"), PreviousDir)
}

// limitations lists what a user of the dataset should know, from the figures.
func (m *model) limitations() []string {
	var out []string
	var under, missing []string
	for i := range m.Cov.Langs {
		l := &m.Cov.Langs[i]
		switch l.Status {
		case StatusUnder:
			under = append(under, fmt.Sprintf("`%s` (%s documents, %s words; target %s)", l.Label, num(l.Docs), num(l.Words), targetText(l)))
		case StatusMissing:
			missing = append(missing, "`"+l.Label+"`")
		}
	}
	if len(under) > 0 {
		out = append(out, "Under target: "+strings.Join(under, ", ")+".")
	}
	if len(missing) > 0 {
		out = append(out, "Targeted but absent: "+strings.Join(missing, ", ")+".")
	}
	if !m.LangID {
		out = append(out, "No language identification stage ran: the documents are filed under `und` whatever their language, and the language figures above say nothing about which languages the text is in.")
	} else {
		var undDocs int64
		for i := range m.Cov.Langs {
			if m.Cov.Langs[i].Undetermined() {
				undDocs += m.Cov.Langs[i].Docs
			}
		}
		if undDocs > 0 {
			out = append(out, fmt.Sprintf("%s of the kept documents (%s) have no identified language (`und`, `und_<Script>` or `zxx_Zyyy`).", num(undDocs), pctOf(undDocs, m.Cov.Docs)))
		}
		var low, scored int64
		var lows []string
		for i := range m.Cov.Langs {
			l := &m.Cov.Langs[i]
			if l.Undetermined() || len(l.Stats.ScoreHist) < pipeline.ScoreBuckets {
				continue
			}
			var n int64
			for k := 0; k < pipeline.ScoreBuckets/2; k++ {
				n += l.Stats.ScoreHist[k]
			}
			low += n
			scored += l.Docs
			if l.Docs > 0 && float64(n) > 0.1*float64(l.Docs) {
				lows = append(lows, fmt.Sprintf("`%s` %s", l.Label, pctOf(n, l.Docs)))
			}
		}
		if low > 0 {
			s := fmt.Sprintf("Language ID confidence is below 0.5 for %s of the documents with a language label", pctOf(low, scored))
			if len(lows) > 0 {
				s += "; above 10% for " + strings.Join(lows, ", ")
			}
			out = append(out, s+". Check those languages' audit samples first.")
		}
	}
	if len(m.dedupStages()) == 0 {
		out = append(out, "No deduplication stage ran.")
	}
	if m.Cov.Tokenizer == nil {
		out = append(out, fmt.Sprintf("Token counts are estimates (UTF-8 bytes / %s), not the output of any tokenizer.", fmtFloat(m.Run.Coverage.BytesPerToken)))
	} else {
		out = append(out, "Token counts hold for the tokenizer named above only; another model's tokenizer splits the same text differently.")
	}
	var reviewed, drawn int
	for _, a := range m.Audits {
		s := m.Summaries[a.Label]
		reviewed += s.KeptReviewed + s.RejReviewed
		drawn += s.Kept + s.Rejected
	}
	switch {
	case drawn == 0:
		out = append(out, "No audit samples were drawn, so no one has checked the labels and filtering by reading the text.")
	case reviewed < drawn:
		out = append(out, fmt.Sprintf("%d of %d audit samples have been reviewed: until speakers of each language have read them, the labels and the filtering are unchecked.", reviewed, drawn))
	}
	if m.Run.Coverage.License == "unknown" {
		out = append(out, "The license is not set (`coverage.license`): the terms of the input corpora apply.")
	}
	return out
}

func (m *model) writeReproduction(b *bytes.Buffer) {
	man := m.Run.Manifest
	b.WriteString("## Reproduction\n\n")
	fmt.Fprintf(b, "- sieve version: `%s`\n", codeSpanSafe(man.SieveVersion))
	fmt.Fprintf(b, "- configuration SHA-256: `%s` (of the resolved configuration as canonical JSON, without `output.dir`, `workers` and `coverage`, which do not change the dataset files)\n", m.ConfigHash)
	b.WriteString("- inputs: listed above with their SHA-256\n")
	b.WriteString("- the output does not depend on the number of workers: the same inputs and configuration give byte-identical files\n")
	cmd := "sieve run -c pipeline.yaml -o <dir>"
	if man.ConfigFile != "" {
		cmd = "sieve run -c " + man.ConfigFile + " -o <dir>"
	}
	fmt.Fprintf(b, "- command: `%s`; `sieve report <dir>` rebuilds this card, `report.html` and `audit/` from `stats.json` and `manifest.json`\n\n", codeSpanSafe(cmd))
	if man.ConfigText != "" {
		b.WriteString("The pipeline as given:\n\n")
		fence := fenceFor(man.ConfigText)
		fmt.Fprintf(b, "%syaml\n%s\n%s\n", fence, strings.TrimRight(man.ConfigText, "\n"), fence)
	}
}

// num formats an integer with thousands separators.
func num(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func pct(f float64) string {
	switch {
	case f == 0:
		return "0%"
	case f < 0.001:
		return "<0.1%"
	}
	return strconv.FormatFloat(100*f, 'f', 1, 64) + "%"
}

func pctOf(a, b int64) string {
	if b == 0 {
		return "0%"
	}
	return pct(float64(a) / float64(b))
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// pick returns one when n is 1, else other.
func pick(n int, one, other string) string {
	if n == 1 {
		return one
	}
	return other
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func targetText(l *LangCoverage) string {
	if !l.Targeted {
		return "–"
	}
	var parts []string
	if l.Target.MinDocs > 0 {
		parts = append(parts, "≥ "+num(l.Target.MinDocs)+" docs")
	}
	if l.Target.MinWords > 0 {
		parts = append(parts, "≥ "+num(l.Target.MinWords)+" words")
	}
	if l.Target.MinTokens > 0 {
		parts = append(parts, "≥ "+num(l.Target.MinTokens)+" tokens")
	}
	if len(parts) == 0 {
		return "present"
	}
	return strings.Join(parts, ", ")
}

func statusText(s Status) string {
	switch s {
	case StatusMet:
		return "✅ met"
	case StatusUnder:
		return "⚠️ under target"
	case StatusMissing:
		return "❌ missing"
	}
	return string(s)
}

// mdText escapes characters that Markdown would read as markup in running text.
func mdText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '#', '&':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n', '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func mdCell(s string) string { return mdText(s) }
