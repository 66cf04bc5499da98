package main

import (
	"github.com/urfave/cli/v2"

	"github.com/runo-dev/runo/libcontainer"
)

var createCommand = &cli.Command{
	Name:      "create",
	Usage:     "create a container",
	ArgsUsage: "<container-id>",
	Flags:     createFlags,
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, true); err != nil {
			return err
		}
		opts, err := createOpts(c, true)
		if err != nil {
			return err
		}
		_, err = libcontainer.Create(opts)
		return err
	},
}
