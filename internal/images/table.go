package images

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/mosc-dev/mosc/internal/watch"
)

// WriteJSON writes the report (schema mosc.dev/images/v1).
func WriteJSON(w io.Writer, r *Report) error {
	r.Schema = Schema
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes each pool: a header line, its builds newest first, and
// its nodes with the build of their current and desired image. Digests are
// shortened as in the watch node table.
func WriteTable(w io.Writer, r *Report, now time.Time) error {
	for i, p := range r.Pools {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := writePool(w, p, now); err != nil {
			return err
		}
	}
	return nil
}

func writePool(w io.Writer, p Pool, now time.Time) error {
	if p.NoMOSC {
		fmt.Fprintf(w, "pool %s: no MachineOSConfig %s: its nodes run, or revert to, the stock image\n", p.Pool, p.MOSC)
	} else {
		owner := "not created by mosc"
		if p.Managed {
			owner = "created by mosc"
		}
		fmt.Fprintf(w, "pool %s: machineosconfig/%s (%s, %s), current build %s, image %s\n", p.Pool, p.MOSC, p.API, owner,
			orDash(p.CurrentBuild), orDash(watch.ShortenImageRefs(p.CurrentImage)))
	}
	// From 4.18 every build pushes to a tag named after it: say so once
	// instead of repeating the name in a TAG column.
	repos, named := map[string]bool{}, true
	for _, b := range p.Builds {
		repos[strings.TrimSuffix(b.Tag(), ":"+tagOf(b.Tag()))] = true
		named = named && tagOf(b.Tag()) == b.Name
	}
	if named && len(repos) == 1 {
		for r := range repos {
			fmt.Fprintf(w, "each build pushed to %s:<build name>\n", r)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(p.Builds) > 0 {
		if named {
			fmt.Fprintln(tw, "\nBUILD\tSTATE\tAGE\tIMAGE\tCURRENT\tNODES")
		} else {
			fmt.Fprintln(tw, "\nBUILD\tSTATE\tAGE\tTAG\tIMAGE\tCURRENT\tNODES")
		}
		for _, b := range p.Builds {
			state := b.State
			if b.Deleting {
				state += " (deleting)"
			}
			tag := "\t" + orDash(tagOf(b.Tag()))
			if named {
				tag = ""
			}
			fmt.Fprintf(tw, "%s\t%s\t%s%s\t%s\t%s\t%s\n", b.Name, state, duration.HumanDuration(now.Sub(b.Created)),
				tag, orDash(watch.ShortenImageRefs(b.Image)), current(b), nodes(b))
		}
	} else if !p.NoMOSC {
		fmt.Fprintln(tw, "\nno MachineOSBuild yet")
	}
	if len(p.Nodes) > 0 {
		fmt.Fprintln(tw, "\nNODE\tCURRENT IMAGE\tBUILD\tDESIRED IMAGE\tBUILD")
		for _, n := range p.Nodes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n.Name, image(n.CurrentImage), orDash(n.CurrentBuild),
				image(n.DesiredImage), orDash(n.DesiredBuild))
		}
	}
	return tw.Flush()
}

func current(b Build) string {
	var s []string
	if b.Current {
		s = append(s, "build")
	}
	if b.Target {
		s = append(s, "image")
	}
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

func nodes(b Build) string {
	var s []string
	if len(b.NodesCurrent) > 0 {
		s = append(s, "run: "+strings.Join(b.NodesCurrent, ","))
	}
	var want []string
	for _, n := range b.NodesDesired {
		if !contains(b.NodesCurrent, n) {
			want = append(want, n)
		}
	}
	if len(want) > 0 {
		s = append(s, "updating to it: "+strings.Join(want, ","))
	}
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, "; ")
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func image(img string) string {
	if img == "" {
		return "(stock)"
	}
	return watch.ShortenImageRefs(img)
}

// tagOf is the tag of a push spec (host:port/ns/name:tag), "" without one.
func tagOf(spec string) string {
	i := strings.LastIndexByte(spec, ':')
	if i < 0 || strings.ContainsRune(spec[i:], '/') || strings.Contains(spec, "@") {
		return ""
	}
	return spec[i+1:]
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
