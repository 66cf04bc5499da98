package main

import (
	"github.com/urfave/cli/v2"

	"github.com/runo-dev/runo/libcontainer"
)

var startCommand = &cli.Command{
	Name:      "start",
	Usage:     "executes the user defined process in a created container",
	ArgsUsage: "<container-id>",
	Action: onContainer(func(_ *cli.Context, ct *libcontainer.Container) error {
		return ct.Start()
	}),
}
