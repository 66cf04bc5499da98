package rootfs

import "sort"

// KnownOptions lists the mount options runo interprets itself (for features.json
// "mountOptions"); anything else is passed to the filesystem as data.
func KnownOptions() []string {
	var out []string
	for k := range mountFlagOpts {
		out = append(out, k)
	}
	for k := range propagationOpts {
		out = append(out, k)
	}
	for k := range recAttrOpts {
		out = append(out, k)
	}
	out = append(out, "tmpcopyup")
	sort.Strings(out)
	return out
}
