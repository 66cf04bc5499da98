package main

import (
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/runo-dev/runo/libcontainer"
)

var deleteCommand = &cli.Command{
	Name:      "delete",
	Usage:     "delete any resources held by the container often used with detached container",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "Forcibly deletes the container if it is still running (uses SIGKILL)"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, true); err != nil {
			return err
		}
		ct, err := loadContainer(c)
		if err != nil {
			if errors.Is(err, libcontainer.ErrNotExist) && c.Bool("force") {
				return libcontainer.RemoveStale(c.String("root"), c.Args().First())
			}
			return err
		}
		return ct.Delete(c.Bool("force"))
	},
}
