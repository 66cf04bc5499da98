package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

var psCommand = &cli.Command{
	Name:      "ps",
	Usage:     "ps displays the processes running inside a container",
	ArgsUsage: "<container-id> [ps options]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "select one of: table or json"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, false); err != nil {
			return err
		}
		ct, err := loadContainer(c)
		if err != nil {
			return err
		}
		pids, err := ct.Pids()
		if err != nil {
			return err
		}
		switch c.String("format") {
		case "json":
			if pids == nil {
				pids = []int{}
			}
			return json.NewEncoder(c.App.Writer).Encode(pids)
		case "table":
		default:
			return fmt.Errorf("--format: invalid format %q (table or json)", c.String("format"))
		}
		args := c.Args().Tail()
		if len(args) == 0 {
			args = []string{"-ef"}
		}
		out, err := exec.Command("ps", args...).Output()
		if err != nil {
			return fmt.Errorf("ps %s: %w", strings.Join(args, " "), err)
		}
		table, err := filterPs(out, pids)
		if err != nil {
			return err
		}
		_, err = c.App.Writer.Write(table)
		return err
	},
}

// filterPs keeps ps's header and the rows whose PID column is one of pids.
func filterPs(out []byte, pids []int) ([]byte, error) {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	col := -1
	for i, f := range strings.Fields(lines[0]) {
		if f == "PID" {
			col = i
		}
	}
	if col < 0 {
		return nil, fmt.Errorf("ps: no PID column in its output")
	}
	want := map[int]bool{}
	for _, p := range pids {
		want[p] = true
	}
	var buf bytes.Buffer
	buf.WriteString(lines[0] + "\n")
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) <= col {
			continue
		}
		if p, err := strconv.Atoi(f[col]); err == nil && want[p] {
			buf.WriteString(l + "\n")
		}
	}
	return buf.Bytes(), nil
}
