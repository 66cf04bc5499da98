package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/runo-dev/runo/libcontainer"
)

var listCommand = &cli.Command{
	Name:  "list",
	Usage: "lists containers started by runo with the given root",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "select one of: table or json"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "display only container IDs"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 0, true); err != nil {
			return err
		}
		cts, err := libcontainer.List(c.String("root"), loggerOf(c))
		if err != nil {
			return err
		}
		states := make([]libcontainer.OCIState, 0, len(cts))
		for _, ct := range cts {
			states = append(states, ct.OCIState())
		}
		w := c.App.Writer
		if c.Bool("quiet") {
			for _, s := range states {
				fmt.Fprintln(w, s.ID)
			}
			return nil
		}
		switch c.String("format") {
		case "json":
			return json.NewEncoder(w).Encode(states)
		case "table":
			tw := tabwriter.NewWriter(w, 12, 1, 3, ' ', 0)
			fmt.Fprint(tw, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
			for _, s := range states {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle,
					s.Created.Format(time.RFC3339Nano), s.Owner)
			}
			return tw.Flush()
		}
		return fmt.Errorf("--format: invalid format %q (table or json)", c.String("format"))
	},
}
