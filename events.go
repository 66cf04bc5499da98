package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/runo-dev/runo/cgroups"
	"github.com/runo-dev/runo/libcontainer"
)

// event is one line of `runo events` output, in runc's shape.
type event struct {
	Type string         `json:"type"`
	ID   string         `json:"id"`
	Data *cgroups.Stats `json:"data,omitempty"`
}

var eventsCommand = &cli.Command{
	Name:      "events",
	Usage:     "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "set the stats collection interval"},
		&cli.BoolFlag{Name: "stats", Usage: "display the container's stats then exit"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, true); err != nil {
			return err
		}
		if c.Duration("interval") <= 0 {
			return errors.New("--interval: duration must be greater than 0")
		}
		ct, err := loadContainer(c)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(c.App.Writer)
		if c.Bool("stats") {
			st, err := ct.Stats()
			if err != nil {
				return err
			}
			return enc.Encode(event{Type: "stats", ID: ct.ID(), Data: st})
		}
		return streamEvents(ct, enc, c.Duration("interval"))
	},
}

// streamEvents prints stats every interval and an "oom" event whenever the OOM-kill counter
// grows, until the container stops. The counter is polled: it is cheap and works alike on
// cgroup v1 and v2. Stats are read only when due, since reading them every tick would cost
// a dozen cgroup files for nothing.
func streamEvents(ct *libcontainer.Container, enc *json.Encoder, interval time.Duration) error {
	const tick = 100 * time.Millisecond
	lastOOM, _ := ct.OOMKills()
	next := time.Now()
	for ct.Status() != libcontainer.StatusStopped {
		if n, err := ct.OOMKills(); err == nil && n > lastOOM {
			lastOOM = n
			if err := enc.Encode(event{Type: "oom", ID: ct.ID()}); err != nil {
				return err
			}
		}
		if !time.Now().Before(next) {
			st, err := ct.Stats()
			if err != nil {
				// The container may stop between the status check and the read, and its
				// cgroup go with it: that ends the stream normally. Anything else is a
				// real failure to report.
				if errors.Is(err, libcontainer.ErrNotRunning) || ct.Status() == libcontainer.StatusStopped {
					return nil
				}
				return fmt.Errorf("stats: %w", err)
			}
			if err := enc.Encode(event{Type: "stats", ID: ct.ID(), Data: st}); err != nil {
				return err
			}
			next = time.Now().Add(interval)
		}
		time.Sleep(tick)
	}
	return nil
}
