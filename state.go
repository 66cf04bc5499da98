package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/runo-dev/runo/libcontainer"
)

var stateCommand = &cli.Command{
	Name:      "state",
	Usage:     "output the state of a container",
	ArgsUsage: "<container-id>",
	Action: onContainer(func(c *cli.Context, ct *libcontainer.Container) error {
		b, err := json.MarshalIndent(ct.OCIState(), "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, string(b))
		return nil
	}),
}
