package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/sieve-data/sieve/lang"
	"github.com/sieve-data/sieve/pipeline"
	"github.com/sieve-data/sieve/stages"
)

func init() {
	extraCommands = append(extraCommands, langidCommand)
	evalCommands = append(evalCommands, evalLangidCommand)
}

// identifierFlags are the flags shared by `sieve langid` and `sieve eval langid`: the
// langid stage's settings, with its defaults.
func identifierFlags() []cli.Flag {
	def := stages.DefaultLangIDConfig()
	return []cli.Flag{
		&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "fastText model (.bin or .ftz) to use instead of the embedded lingua backend"},
		&cli.StringFlag{Name: "candidates", Usage: "lingua: comma-separated languages to choose among (default: all 75)"},
		&cli.BoolFlag{Name: "preload", Usage: "lingua: load every model before the first text"},
		&cli.StringFlag{Name: "accuracy", Value: def.Accuracy, Usage: "lingua: high | low (trigram models only: far less memory and faster on short texts, less accurate on them)"},
		&cli.IntFlag{Name: "sample-chars", Value: def.SampleChars, Usage: "characters classified per text (whole sentences spread over it); -1 = all"},
		&cli.BoolFlag{Name: "no-open-set", Usage: "turn the open-set check off (unknown languages get a supported label)"},
		&cli.Float64Flag{Name: "min-fit", Value: def.OpenSet.MinFit, Usage: "open-set check: minimum fit for Latin-script labels (see sieve eval langid's trade-off curve)"},
		&cli.Float64Flag{Name: "min-confidence", Value: def.MinConfidence["default"], Usage: "minimum probability of a label; below it the text is und_<Script>"},
		&cli.StringFlag{Name: "profiles", Usage: "comma-separated extra open-set profile files (sieve langid profile)"},
		&cli.IntFlag{Name: "workers", Usage: "parallel workers (0 = number of CPUs)"},
	}
}

// langidConfigFromFlags builds the langid stage config the flags describe.
func langidConfigFromFlags(c *cli.Context) (stages.LangIDConfig, error) {
	cfg := stages.DefaultLangIDConfig()
	if m := c.String("model"); m != "" {
		cfg.Backend, cfg.Model = "fasttext", m
	}
	cfg.Candidates = splitList(c.String("candidates"))
	cfg.Preload = c.Bool("preload")
	if cfg.Backend == "lingua" {
		cfg.Accuracy = c.String("accuracy")
	}
	cfg.SampleChars = c.Int("sample-chars")
	cfg.OpenSet.Enabled = !c.Bool("no-open-set")
	cfg.OpenSet.MinFit = c.Float64("min-fit")
	cfg.MinConfidence = map[string]float64{"default": c.Float64("min-confidence")}
	cfg.Below = "und"
	cfg.Profiles = splitList(c.String("profiles"))
	if c.Int("workers") < 0 {
		return cfg, cli.Exit("--workers must be >= 0", 2)
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = "--" + flagFor(e.Field) + ": " + e.Msg
		}
		return cfg, cli.Exit(strings.Join(msgs, "\n"), 2)
	}
	return cfg, nil
}

// flagFor names the flag that sets a langid config field, for messages.
func flagFor(field string) string {
	switch {
	case field == "model":
		return "model"
	case field == "sample_chars":
		return "sample-chars"
	case strings.HasPrefix(field, "min_confidence"):
		return "min-confidence"
	case strings.HasPrefix(field, "open_set"):
		return "min-fit"
	}
	return strings.ReplaceAll(field, "_", "-")
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func newIdentifier(c *cli.Context) (*lang.Identifier, error) {
	cfg, err := langidConfigFromFlags(c)
	if err != nil {
		return nil, err
	}
	id, err := stages.NewLangIdentifier(cfg, &pipeline.Env{Name: "langid", BaseDir: ""})
	if err != nil {
		return nil, cli.Exit("langid: "+err.Error(), 1)
	}
	return id, nil
}

func workers(c *cli.Context) int {
	if n := c.Int("workers"); n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// langidCommand is `sieve langid [FILE|-]`: one "label<TAB>confidence" line per input line.
func langidCommand() *cli.Command {
	return &cli.Command{
		Name:      "langid",
		Usage:     "identify the language of each input line: prints label<TAB>confidence",
		ArgsUsage: "[FILE|-]",
		Description: "Reads FILE (or standard input) and prints, for each line, the language label (ISO 639-3 + " +
			"ISO 15924 script, e.g. yor_Latn), a tab and the label's probability, like fasttext predict-prob. " +
			"Lines in a script without a backend language, or refused by the open-set check or the minimum " +
			"confidence, print und_<Script> with 0; lines without letters print zxx_Zyyy with 0.",
		Flags: identifierFlags(),
		Subcommands: []*cli.Command{
			profileCommand(),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return cli.Exit("langid: one input file at most (or - for standard input)", 2)
			}
			id, err := newIdentifier(c)
			if err != nil {
				return err
			}
			in, name, closeIn, err := openInput(c, c.Args().First())
			if err != nil {
				return err
			}
			defer closeIn()
			if err := labelLines(in, c.App.Writer, id, workers(c)); err != nil {
				return cli.Exit(fmt.Sprintf("langid: %s: %v", name, err), 1)
			}
			return nil
		},
	}
}

// openInput opens path, or standard input for "" and "-".
func openInput(c *cli.Context, path string) (io.Reader, string, func(), error) {
	if path == "" || path == "-" {
		r := c.App.Reader
		if r == nil {
			r = os.Stdin
		}
		return r, "standard input", func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, path, nil, cli.Exit("langid: "+err.Error(), 1)
	}
	return f, path, func() { f.Close() }, nil
}

// labelLines identifies every line of r on workers goroutines and writes the results in
// input order.
func labelLines(r io.Reader, w io.Writer, id *lang.Identifier, workers int) error {
	br := bufio.NewReaderSize(r, 1<<20)
	bw := bufio.NewWriterSize(w, 64<<10)
	const batch = 256
	lines := make([]string, 0, batch)
	out := make([]lang.Result, batch)
	flush := func() {
		var wg sync.WaitGroup
		var next int
		var mu sync.Mutex
		for k := 0; k < min(workers, len(lines)); k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					mu.Lock()
					i := next
					next++
					mu.Unlock()
					if i >= len(lines) {
						return
					}
					out[i] = id.Identify(lines[i])
				}
			}()
		}
		wg.Wait()
		for i := range lines {
			bw.WriteString(out[i].Label)
			bw.WriteByte('\t')
			bw.WriteString(strconv.FormatFloat(out[i].Prob, 'f', 4, 64))
			bw.WriteByte('\n')
		}
		lines = lines[:0]
	}
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			lines = append(lines, strings.TrimRight(line, "\r\n"))
			if len(lines) == batch {
				flush()
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	flush()
	return bw.Flush()
}

// profileCommand is `sieve langid profile --label L [FILE|-]`.
func profileCommand() *cli.Command {
	return &cli.Command{
		Name:      "profile",
		Usage:     "build an open-set profile for a language from plain text in it",
		ArgsUsage: "[FILE|-]",
		Description: "Reads running text in one language (a few hundred kilobytes is plenty; at least about " +
			"2,000 letter trigrams) and prints its profile. List the file under profiles: in the langid " +
			"stage (or pass --profiles) so the open-set check knows the language.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "label", Usage: "the language's label, e.g. hau_Latn"},
			&cli.StringFlag{Name: "source", Usage: "where the text comes from (recorded in the profile)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the profile to this file instead of standard output"},
		},
		Action: func(c *cli.Context) error {
			label := c.String("label")
			if label == "" {
				return cli.Exit("langid profile: --label is required (e.g. --label hau_Latn)", 2)
			}
			if l, ok := lang.Lookup(label); ok {
				label = l.Label
			} else if s := lang.LabelScript(label); !lang.IsScriptCode(s) || len(label) != 8 {
				return cli.Exit(fmt.Sprintf("langid profile: --label %q is not a label like hau_Latn", label), 2)
			}
			if c.NArg() > 1 {
				return cli.Exit("langid profile: one input file at most", 2)
			}
			in, name, closeIn, err := openInput(c, c.Args().First())
			if err != nil {
				return err
			}
			defer closeIn()
			source := c.String("source")
			if source == "" {
				source = name
			}
			p, err := lang.BuildProfile(label, in, source)
			if err != nil {
				return cli.Exit(fmt.Sprintf("langid profile: %s: %v", name, err), 1)
			}
			w := c.App.Writer
			if out := c.String("output"); out != "" {
				f, err := os.Create(out)
				if err != nil {
					return cli.Exit("langid profile: "+err.Error(), 1)
				}
				defer f.Close()
				w = f
			}
			if _, err := p.WriteTo(w); err != nil {
				return cli.Exit("langid profile: "+err.Error(), 1)
			}
			return nil
		},
	}
}

// evalLangidCommand is `sieve eval langid --data labelled.tsv`.
func evalLangidCommand() *cli.Command {
	flags := append(identifierFlags(),
		&cli.StringFlag{Name: "data", Usage: "labelled data: one label<TAB>text line per example"},
		&cli.BoolFlag{Name: "json", Usage: "print the report as one JSON object"},
		&cli.BoolFlag{Name: "baseline", Usage: "also run plain lingua-go (DetectLanguageOf on the whole text, every model preloaded) and compare"},
		&cli.IntFlag{Name: "code-switching", Usage: "also build `N` one-language and N mixed documents of 4 sentences from --data and print how the code-switching check (langid code_switching.min_agreement) separates them"},
	)
	return &cli.Command{
		Name:      "langid",
		Usage:     "measure language identification (P/R/F1 per language, macro-F1, confusions, unsupported languages, open-set trade-off, speed, memory)",
		ArgsUsage: " ",
		Description: "Labels every line of --data with the langid settings given (the stage defaults unless flags " +
			"say otherwise) and compares with the gold labels (macrolanguages match their default member: " +
			"mon_Cyrl = khk_Cyrl, swa = swh). Metrics are over the examples whose language the backend has; " +
			"the others are reported apart: Latin-script ones should be und_Latn rather than a wrong label " +
			"(the open-set check, whose trade-off curve is printed), other scripts und_<Script>.",
		Flags: flags,
		Action: func(c *cli.Context) error {
			data := c.String("data")
			if data == "" {
				return cli.Exit("eval langid: --data is required (label<TAB>text lines)", 2)
			}
			if c.NArg() > 0 {
				return cli.Exit("eval langid: unexpected argument "+c.Args().First(), 2)
			}
			id, err := newIdentifier(c)
			if err != nil {
				return err
			}
			f, err := os.Open(data)
			if err != nil {
				return cli.Exit("eval langid: "+err.Error(), 1)
			}
			defer f.Close()
			examples, err := lang.ReadLabelled(f, data)
			if err != nil {
				return cli.Exit("eval langid: "+err.Error(), 1)
			}
			opts := lang.EvalOptions{Workers: workers(c)}
			if c.Bool("baseline") {
				candidates := splitList(c.String("candidates"))
				opts.Baseline = func() (func(string) string, error) { return lang.PlainLingua(candidates) }
				opts.BaselineName = "plain lingua-go DetectLanguageOf"
			}
			rep, err := lang.Evaluate(c.Context, id, examples, opts)
			if err != nil {
				return cli.Exit("eval langid: "+err.Error(), 1)
			}
			if n := c.Int("code-switching"); n > 0 {
				rep.CodeSwitching, err = lang.EvaluateCodeSwitching(c.Context, id, examples, n, opts.Workers, 1)
				if err != nil {
					return cli.Exit("eval langid: "+err.Error(), 1)
				}
			}
			if c.Bool("json") {
				return json.NewEncoder(c.App.Writer).Encode(rep)
			}
			return rep.WriteText(c.App.Writer)
		},
	}
}
