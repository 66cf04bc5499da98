package rootfs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// MountOptions is the parsed form of an OCI mount's "options" list.
type MountOptions struct {
	// Flags are the mount(2) flags to set (MS_BIND and MS_REC included for bind/rbind).
	Flags uintptr
	// ClearFlags are flags the options explicitly turned off ("rw", "suid", "dev", ...). They
	// matter when deciding whether a mount's locked flags may be kept.
	ClearFlags uintptr
	// Propagation holds the propagation changes, in order, each applied with its own
	// mount(2) call after the mount exists.
	Propagation []uintptr
	// RecAttr is the recursive attribute change ("rro", "rnosuid", ...) for
	// mount_setattr(AT_RECURSIVE); nil when no recursive option was given.
	RecAttr *unix.MountAttr
	// Data is the comma-joined filesystem-specific options ("size=64m,mode=755", ...).
	Data string
	// TmpCopyUp copies the destination's previous content into a new tmpfs.
	TmpCopyUp bool
	// IDMap is set by the "idmap" and "ridmap" options (idmapped mounts are refused).
	IDMap bool
}

// IsBind reports whether the options make this a bind mount.
func (o MountOptions) IsBind() bool { return o.Flags&unix.MS_BIND != 0 }

type flagOpt struct {
	clear bool
	flag  uintptr
}

// mountFlagOpts maps the options that are plain mount(2) flags.
var mountFlagOpts = map[string]flagOpt{
	"defaults":      {false, 0},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"nosuid":        {false, unix.MS_NOSUID},
	"suid":          {true, unix.MS_NOSUID},
	"nodev":         {false, unix.MS_NODEV},
	"dev":           {true, unix.MS_NODEV},
	"noexec":        {false, unix.MS_NOEXEC},
	"exec":          {true, unix.MS_NOEXEC},
	"sync":          {false, unix.MS_SYNCHRONOUS},
	"async":         {true, unix.MS_SYNCHRONOUS},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"remount":       {false, unix.MS_REMOUNT},
	"mand":          {false, unix.MS_MANDLOCK},
	"nomand":        {true, unix.MS_MANDLOCK},
	"atime":         {true, unix.MS_NOATIME},
	"noatime":       {false, unix.MS_NOATIME},
	"diratime":      {true, unix.MS_NODIRATIME},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"relatime":      {false, unix.MS_RELATIME},
	"norelatime":    {true, unix.MS_RELATIME},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"lazytime":      {false, unix.MS_LAZYTIME},
	"nolazytime":    {true, unix.MS_LAZYTIME},
	"silent":        {false, unix.MS_SILENT},
	"loud":          {true, unix.MS_SILENT},
	"iversion":      {false, unix.MS_I_VERSION},
	"noiversion":    {true, unix.MS_I_VERSION},
	"nosymfollow":   {false, unix.MS_NOSYMFOLLOW},
	"symfollow":     {true, unix.MS_NOSYMFOLLOW},
	"bind":          {false, unix.MS_BIND},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
}

// PropagationFlags maps the OCI propagation names (mount options and
// linux.rootfsPropagation) to mount(2) flags.
var propagationOpts = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

type recOpt struct {
	clear bool
	attr  uint64
	// atime is set for the atime options, which replace the whole MOUNT_ATTR__ATIME field
	// (the kernel treats it as an enum, not as bits).
	atime bool
}

var recAttrOpts = map[string]recOpt{
	"rro":          {false, unix.MOUNT_ATTR_RDONLY, false},
	"rrw":          {true, unix.MOUNT_ATTR_RDONLY, false},
	"rnosuid":      {false, unix.MOUNT_ATTR_NOSUID, false},
	"rsuid":        {true, unix.MOUNT_ATTR_NOSUID, false},
	"rnodev":       {false, unix.MOUNT_ATTR_NODEV, false},
	"rdev":         {true, unix.MOUNT_ATTR_NODEV, false},
	"rnoexec":      {false, unix.MOUNT_ATTR_NOEXEC, false},
	"rexec":        {true, unix.MOUNT_ATTR_NOEXEC, false},
	"rnodiratime":  {false, unix.MOUNT_ATTR_NODIRATIME, false},
	"rdiratime":    {true, unix.MOUNT_ATTR_NODIRATIME, false},
	"rnosymfollow": {false, unix.MOUNT_ATTR_NOSYMFOLLOW, false},
	"rsymfollow":   {true, unix.MOUNT_ATTR_NOSYMFOLLOW, false},
	// The atime values are an enum: relatime is 0, so "ratime" and "rnorelatime" pick
	// the kernel's default and strict behaviour respectively.
	"rnoatime":     {false, unix.MOUNT_ATTR_NOATIME, true},
	"ratime":       {false, unix.MOUNT_ATTR_RELATIME, true},
	"rrelatime":    {false, unix.MOUNT_ATTR_RELATIME, true},
	"rnorelatime":  {false, unix.MOUNT_ATTR_STRICTATIME, true},
	"rstrictatime": {false, unix.MOUNT_ATTR_STRICTATIME, true},
}

// PropagationFlag returns the mount(2) flags of a propagation name ("rslave", ...).
func PropagationFlag(name string) (uintptr, bool) {
	f, ok := propagationOpts[name]
	return f, ok
}

// ParseMountOptions splits an OCI mount's options into mount(2) flags, propagation changes,
// recursive attributes, extensions and the remaining filesystem data. Later options win
// over earlier ones ("ro,rw" is read-write). Unknown options are filesystem data, as the
// kernel is the one to judge them.
func ParseMountOptions(opts []string) MountOptions {
	var o MountOptions
	var data []string
	for _, opt := range opts {
		if opt == "" {
			continue
		}
		if f, ok := mountFlagOpts[opt]; ok {
			if f.clear {
				o.Flags &^= f.flag
				o.ClearFlags |= f.flag
			} else {
				o.Flags |= f.flag
				o.ClearFlags &^= f.flag
			}
			continue
		}
		if p, ok := propagationOpts[opt]; ok {
			o.Propagation = append(o.Propagation, p)
			continue
		}
		if r, ok := recAttrOpts[opt]; ok {
			if o.RecAttr == nil {
				o.RecAttr = &unix.MountAttr{}
			}
			switch {
			case r.atime:
				o.RecAttr.Attr_clr |= unix.MOUNT_ATTR__ATIME
				o.RecAttr.Attr_set = o.RecAttr.Attr_set&^unix.MOUNT_ATTR__ATIME | r.attr
			case r.clear:
				o.RecAttr.Attr_clr |= r.attr
				o.RecAttr.Attr_set &^= r.attr
			default:
				o.RecAttr.Attr_set |= r.attr
				o.RecAttr.Attr_clr &^= r.attr
			}
			continue
		}
		switch opt {
		case "tmpcopyup":
			o.TmpCopyUp = true
		case "idmap":
			o.IDMap = true
		case "ridmap":
			o.IDMap = true
		default:
			data = append(data, opt)
		}
	}
	o.Data = strings.Join(data, ",")
	return o
}
