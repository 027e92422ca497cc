package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/sieve-data/sieve/stages/minhash"
)

func init() { evalCommands = append(evalCommands, evalDedupCommand) }

// evalDedupCommand is `sieve eval dedup`: near-duplicate detection measured on copies of
// real documents made with controlled edits, on translation groups and on labelled pairs.
func evalDedupCommand() *cli.Command {
	def := minhash.DefaultEvalConfig()
	return &cli.Command{
		Name:      "dedup",
		Usage:     "measure near-duplicate detection (precision, recall, F1 by true Jaccard, time, memory)",
		ArgsUsage: " ",
		Description: "Makes an edited copy of each document of --data at a known true Jaccard similarity (levels " +
			"0.3..1), mixes copies and originals, runs minhash_dedup and scores pairs with true J >= --threshold " +
			"against unrelated documents. --groups (default: udhr.jsonl beside --data) checks that translations " +
			"of the same text are not flagged; --pairs/--pair-docs (default: counter_urd_*.jsonl beside --data) " +
			"report verdicts per human label.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "data", Required: true, Usage: "JSONL documents (id, text) to copy with edits"},
			&cli.BoolFlag{Name: "json", Usage: "print the results as one JSON object"},
			&cli.StringFlag{Name: "groups", Usage: "JSONL documents with a group field whose members must not be flagged (\"none\" to skip)"},
			&cli.StringFlag{Name: "pair-docs", Usage: "JSONL documents of the labelled pairs (\"none\" to skip)"},
			&cli.StringFlag{Name: "pairs", Usage: "JSONL labelled pairs (source_id, derived_id, label)"},
			&cli.IntFlag{Name: "bands", Value: def.Params.Bands, Usage: "LSH bands"},
			&cli.IntFlag{Name: "rows", Value: def.Params.Rows, Usage: "rows per band"},
			&cli.Uint64Flag{Name: "seed", Value: def.Params.Seed, Usage: "hash and edit seed"},
			&cli.StringFlag{Name: "shingle", Value: "auto", Usage: "auto | word | char"},
			&cli.IntFlag{Name: "ngram", Value: 5, Usage: "words per shingle"},
			&cli.IntFlag{Name: "char-ngram", Value: 5, Usage: "characters per shingle"},
			&cli.Float64Flag{Name: "threshold", Value: def.Threshold, Usage: "true Jaccard at or above which a pair is a duplicate (and the verify threshold)"},
			&cli.BoolFlag{Name: "verify", Usage: "verify candidates by estimated Jaccard"},
			&cli.BoolFlag{Name: "derive-bands", Usage: "derive bands and rows from --threshold (keeping bands x rows hashes)"},
			&cli.IntFlag{Name: "max-docs", Usage: "use at most this many originals (0 = all)"},
			&cli.StringFlag{Name: "edit-pct", Usage: "instead of Jaccard levels, edit LO-HI percent of each copy's words (e.g. 1-3)"},
			&cli.IntFlag{Name: "workers", Usage: "signature workers (0 = number of CPUs)"},
		},
		Action: func(c *cli.Context) error {
			cfg := def
			cfg.Params = minhash.Params{Bands: c.Int("bands"), Rows: c.Int("rows"), Seed: c.Uint64("seed")}
			cfg.Seed = c.Uint64("seed")
			cfg.Threshold = c.Float64("threshold")
			cfg.Verify = c.Bool("verify")
			cfg.MaxDocs = c.Int("max-docs")
			cfg.Workers = c.Int("workers")
			if e := c.String("edit-pct"); e != "" {
				if _, err := fmt.Sscanf(e, "%g-%g", &cfg.EditPct[0], &cfg.EditPct[1]); err != nil || cfg.EditPct[0] < 0 || cfg.EditPct[1] < cfg.EditPct[0] || cfg.EditPct[1] > 100 {
					return cli.Exit("--edit-pct must be LO-HI percent, e.g. 1-3", 2)
				}
			}
			if !(cfg.Threshold > 0 && cfg.Threshold < 1) {
				return cli.Exit("--threshold must be in (0, 1)", 2)
			}
			if c.Bool("derive-bands") {
				p, err := minhash.ParamsForThreshold(cfg.Threshold, cfg.Params.NumHashes(), cfg.Params.Seed)
				if err != nil {
					return cli.Exit(err.Error(), 2)
				}
				cfg.Params = p
			}
			if err := cfg.Params.Validate(); err != nil {
				return cli.Exit(err.Error(), 2)
			}
			mode, err := minhash.ParseShingleMode(c.String("shingle"))
			if err != nil {
				return cli.Exit("--shingle "+err.Error(), 2)
			}
			cfg.Shingle = minhash.ShingleOptions{Mode: mode, WordN: c.Int("ngram"), CharN: c.Int("char-ngram")}
			files := minhash.EvalFiles{Data: c.String("data")}
			dir := filepath.Dir(files.Data)
			pick := func(flag, sibling string) string {
				v := c.String(flag)
				if v == "none" {
					return ""
				}
				if v == "" {
					p := filepath.Join(dir, sibling)
					if _, err := os.Stat(p); err != nil {
						return ""
					}
					return p
				}
				return v
			}
			files.Groups = pick("groups", "udhr.jsonl")
			files.PairDocs = pick("pair-docs", "counter_urd_docs.jsonl")
			files.LabelledPair = pick("pairs", "counter_urd_pairs.jsonl")
			rep, err := minhash.RunEval(files, cfg)
			if err != nil {
				return cli.Exit("eval dedup: "+err.Error(), 1)
			}
			if c.Bool("json") {
				enc := json.NewEncoder(c.App.Writer)
				return enc.Encode(rep)
			}
			rep.WriteText(c.App.Writer)
			return nil
		},
	}
}
