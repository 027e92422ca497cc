package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// hoistFlags lets flags follow positional arguments (`sieve run IN.jsonl -o DIR`), which
// urfave/cli/v2 does not allow by itself: for the (sub)command named in args it moves every
// flag it defines, with its value, before the first positional argument. Everything after a
// bare "--" stays as it is.
func hoistFlags(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	cmds := app.Commands
	i := 1
	var cmd *cli.Command
	for i < len(args) {
		c := findCommand(cmds, args[i])
		if c == nil {
			break
		}
		cmd, cmds = c, c.Subcommands
		i++
	}
	if cmd == nil || len(cmd.Flags) == 0 {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, pos []string
	rest := args[i:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if a == "--" {
			pos = append(pos, rest[j:]...)
			break
		}
		name := strings.TrimLeft(a, "-")
		if len(a) > 1 && a[0] == '-' && name != "" {
			base, _, hasEq := strings.Cut(name, "=")
			if tv, ok := takesValue[base]; ok {
				flags = append(flags, a)
				if tv && !hasEq && j+1 < len(rest) {
					flags = append(flags, rest[j+1])
					j++
				}
				continue
			}
		}
		pos = append(pos, a)
	}
	out := append([]string{}, args[:i]...)
	out = append(out, flags...)
	return append(out, pos...)
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.Name == name {
			return c
		}
		for _, a := range c.Aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}
