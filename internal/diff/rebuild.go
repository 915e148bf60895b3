package diff

import (
	"fmt"
	"strings"
)

// RebuildReasons says why applying the "to" side makes the Machine Config
// Operator build a new image (a new MachineOSBuild): the MachineOSConfig's
// Containerfile changes (MCO hashes it into the build), the MachineOSConfig
// is new, or a MachineConfig of the pool changes (a new rendered config is
// a new build input). Empty when nothing forces one.
func (r *Result) RebuildReasons() []string {
	var out []string
	for _, o := range r.Objects {
		switch o.Kind {
		case "MachineOSConfig":
			switch o.Change {
			case Added:
				out = append(out, fmt.Sprintf("MachineOSConfig %s is new", o.Name))
			case Changed:
				for _, f := range o.Fields {
					if strings.Contains(f.Path, "containerFile") {
						out = append(out, fmt.Sprintf("MachineOSConfig %s: %s changes", o.Name, f.Path))
					}
				}
				if o.FromAPIVersion != "" {
					out = append(out, fmt.Sprintf("MachineOSConfig %s moves from %s to %s", o.Name, o.FromAPIVersion, o.APIVersion))
				}
			}
		case "MachineConfig":
			out = append(out, fmt.Sprintf("MachineConfig %s is %s (new rendered config)", o.Name, o.Change))
		}
	}
	return out
}
