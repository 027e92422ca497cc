package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sieve-data/sieve/formats"
)

func init() { extraCommands = append(extraCommands, inspectCommand) }

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "describe Parquet, Arrow IPC or JSONL files: schema, rows, row groups, rows per language, first rows",
		ArgsUsage: "FILE|DIR...",
		Description: "Reads each file (a directory: every .parquet, .arrow and .jsonl[.zst|.gz] file under it) and prints\n" +
			"its format and compression, row count, Parquet row groups or Arrow record batches, schema, the rows\n" +
			"per value of the lang column (--lang-field) and the first rows as JSON. With several files it ends\n" +
			"with the totals per language. --json prints {\"files\": [...], \"rows\": N, \"langs\": {...}}.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "rows", Aliases: []string{"n"}, Value: 3, Usage: "first `N` rows to show (0: none)"},
			&cli.StringFlag{Name: "lang-field", Value: "lang", Usage: "column counted per value"},
			&cli.IntFlag{Name: "width", Value: 120, Usage: "cut strings in the rows shown to `N` characters (0: whole)"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return cli.Exit("give one or more files or directories: sieve inspect FILE...", 2)
			}
			if c.Int("rows") < 0 || c.Int("width") < 0 {
				return cli.Exit("--rows and --width must be >= 0", 2)
			}
			paths, err := formats.InspectPaths(c.Args().Slice())
			if err != nil {
				return cli.Exit(err.Error(), 2)
			}
			opts := formats.InspectOptions{Head: c.Int("rows"), LangField: c.String("lang-field"), MaxString: c.Int("width")}
			var infos []*formats.FileInfo
			total := map[string]int64{}
			var rows int64
			for _, p := range paths {
				info, err := formats.Inspect(c.Context, p, opts)
				if err != nil {
					return cli.Exit(err.Error(), 1)
				}
				infos = append(infos, info)
				rows += info.Rows
				for l, n := range info.Langs {
					total[l] += n
				}
			}
			w := c.App.Writer
			if c.Bool("json") {
				b, _ := json.MarshalIndent(map[string]any{"files": infos, "rows": rows, "langs": total}, "", "  ")
				fmt.Fprintln(w, string(b))
				return nil
			}
			for i, info := range infos {
				if i > 0 {
					fmt.Fprintln(w)
				}
				printFileInfo(w, info)
			}
			if len(infos) > 1 {
				fmt.Fprintf(w, "\ntotal: %d files, %d rows\n", len(infos), rows)
				printLangs(w, total)
			}
			return nil
		},
	}
}

func printFileInfo(w io.Writer, info *formats.FileInfo) {
	fmt.Fprintf(w, "%s\n", info.Path)
	fmt.Fprintf(w, "  format       %s, compression %s, %s\n", info.Format, orDash(info.Compression), humanBytes(info.Size))
	fmt.Fprintf(w, "  rows         %d", info.Rows)
	if info.BadLines > 0 {
		fmt.Fprintf(w, " (and %d lines that are not JSON objects)", info.BadLines)
	}
	fmt.Fprintln(w)
	if len(info.Groups) > 0 {
		name := "row groups"
		if info.Format == "arrow" {
			name = "batches"
		}
		var parts []string
		for i, g := range info.Groups {
			if i == 8 {
				parts = append(parts, fmt.Sprintf("... %d more", len(info.Groups)-i))
				break
			}
			s := fmt.Sprintf("%d rows", g.Rows)
			if g.CompressedTo > 0 {
				s += fmt.Sprintf(" (%s, %s uncompressed)", humanBytes(g.CompressedTo), humanBytes(g.Bytes))
			}
			parts = append(parts, s)
		}
		fmt.Fprintf(w, "  %-12s %d: %s\n", name, len(info.Groups), strings.Join(parts, "; "))
	}
	fmt.Fprintln(w, "  schema")
	for _, c := range info.Schema {
		if info.Format == "jsonl" {
			fmt.Fprintf(w, "    %-22s %s (in %d rows)\n", c.Name, c.Type, c.Rows)
		} else {
			fmt.Fprintf(w, "    %-22s %s\n", c.Name, c.Type)
		}
	}
	if len(info.Langs) > 0 {
		fmt.Fprintln(w, "  languages")
		printLangs(w, info.Langs)
	}
	if len(info.Head) > 0 {
		fmt.Fprintf(w, "  first %d rows\n", len(info.Head))
		for _, r := range info.Head {
			fmt.Fprintf(w, "    %s\n", r)
		}
	}
}

// printLangs prints rows per language, most first (ties by label).
func printLangs(w io.Writer, langs map[string]int64) {
	labels := make([]string, 0, len(langs))
	for l := range langs {
		labels = append(labels, l)
	}
	sort.Slice(labels, func(i, j int) bool {
		if langs[labels[i]] != langs[labels[j]] {
			return langs[labels[i]] > langs[labels[j]]
		}
		return labels[i] < labels[j]
	})
	for _, l := range labels {
		name := l
		if name == "" {
			name = "(none)"
		}
		fmt.Fprintf(w, "    %-22s %d\n", name, langs[l])
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
