package watch

import (
	"fmt"
	"strings"

	"github.com/mosc-dev/mosc/internal/lazyre"
)

// Causes of a failed build, as Classify names them (Cause.ID; also
// fields.cause in -o json events and gate's last-build check).
const (
	CauseRepoUnreachable = "repo-unreachable" // a repository 404s or cannot be reached
	CauseGPG             = "gpg-check"        // a package's signature does not match the repo's key
	CausePackage         = "package"          // a package is not found, or the transaction conflicts
	CauseBasePullDenied  = "base-pull-denied" // the base OS image could not be pulled
	CausePushDenied      = "push-denied"      // the registry refused the push (401/403)
	CauseDisk            = "out-of-disk"      // no space left on the build node
	CauseLint            = "bootc-lint"       // bootc container lint rejected the image
	CauseInterrupted     = "interrupted"      // the build pod went away before it finished
	CauseUnknown         = "unknown"          // none of the above: see the log tail
)

// Cause is what made a build fail, with what to do about it.
type Cause struct {
	ID      string `json:"id"`
	Summary string `json:"summary"`
	Remedy  string `json:"remedy"`
	// Details name what the log names: url, repo, package, key, image,
	// registry, status, check.
	Details map[string]string `json:"details,omitempty"`
	// Evidence are the log lines the classification rests on.
	Evidence []string `json:"evidence,omitempty"`
	// LogTail is the end of the log when the cause is unknown.
	LogTail []string `json:"logTail,omitempty"`
}

// ClassifyInput is what a failed build left: the build container's log
// (the last attempt's, or all of them), the MachineOSBuild's condition
// message and state, and the build containers' termination messages (the
// MCO's build containers use FallbackToLogsOnError, so these hold the log's
// end even where pods/log cannot be read).
type ClassifyInput struct {
	State        string // BuildFailed or BuildInterrupted
	Message      string
	Log          []string
	Terminations []string
	Pool         string
}

var (
	// dnf 4 (RHEL 9), librepo: "Errors during downloading metadata for
	// repository 'doca':" / "  - Status code: 404 for URL (IP: …)" /
	// "Error: Failed to download metadata for repo 'doca': Cannot download repomd.xml: …"
	reRepoStatus   = lazyre.New(`Status code: (\d{3}) for (\S+)`)
	reRepoCurl     = lazyre.New(`Curl error \((\d+)\): ([^\]]*?) for (\S+) \[([^\]]*)\]`)
	reRepoMetadata = lazyre.New(`(?:Failed to download metadata for repo|Errors during downloading metadata for repository) '([^']+)'`)
	reRepoCannot   = lazyre.New(`Cannot download repomd\.xml|Cannot download repodata|All mirrors were tried`)
	// dnf 4: "Public key for P.rpm is not installed. Failing package is: P",
	// "GPG Keys are configured as: URL", "Error: GPG check FAILED",
	// "The GPG keys listed for the "R" repository are already installed but
	// they are not correct for this package.", "Package P.rpm is not signed".
	reGPGFailed    = lazyre.New(`GPG check FAILED|Import of key\(s\) didn't help|is not signed|are not correct for this package|public key not available|NOKEY`)
	reGPGFailing   = lazyre.New(`Failing package is: (\S+)`)
	reGPGPublicKey = lazyre.New(`Public key for (\S+?)(?:\.rpm)? is not installed`)
	reGPGNotSigned = lazyre.New(`Package (\S+?)(?:\.rpm)? is not signed`)
	reGPGKeys      = lazyre.New(`GPG Keys are configured as: (.+)`)
	reGPGRepo      = lazyre.New(`The GPG keys listed for the "([^"]+)" repository`)
	reGPGImport    = lazyre.New(`Importing GPG key (0x[0-9A-Fa-f]+)`)
	reGPGKeyID     = lazyre.New(`key ID ([0-9a-fA-F]{8,16})`)
	// dnf 4: "No match for argument: P", "Error: Unable to find a match: P",
	// " Problem: package A requires B, but none of the providers can be installed",
	// "file F from install of A conflicts with file from package B".
	// "No match for argument" alone is only a warning (dnf upgrade goes on).
	reNoMatch  = lazyre.New(`Unable to find a match: (.+)`)
	reNoArg    = lazyre.New(`No match for argument: (.+)`)
	reProblem  = lazyre.New(`Problem(?: \d+)?: (.+)`)
	reConflict = lazyre.New(`file (\S+) from install of (\S+) conflicts with file from package (\S+)`)
	reNothing  = lazyre.New(`nothing provides (.+?) needed by (\S+)`)
	// buildah/containers-image: "creating build container: initializing
	// source docker://IMG: reading manifest …: unauthorized: …".
	reBasePull    = lazyre.New(`(?:creating build container|initializing source|pulling image|Error determining manifest).*(?:unauthorized|not authorized|denied|authentication required|403|401)`)
	reDockerImage = lazyre.New(`docker://([^\s:@"]+(?:@sha256:[0-9a-f]+|:[\w.-]+)?)`)
	// buildah push: "pushing image "REF" to "docker://REF": writing blob:
	// initiating layer upload to /v2/…/blobs/uploads/ in HOST: unauthorized:
	// authentication required" (401) or "denied: requested access to the
	// resource is denied" (403).
	rePush     = lazyre.New(`(?i)(?:pushing image|initiating layer upload|writing manifest|uploading manifest|trying to reuse blob).*`)
	rePushHost = lazyre.New(`(?:in|to) (?:docker://)?([a-z0-9.-]+(?::\d+)?)[/: ]`)
	rePushRef  = lazyre.New(`pushing image "([^"]+)"`)
	re401      = lazyre.New(`(?i)unauthorized|authentication required|401`)
	re403      = lazyre.New(`(?i)denied|forbidden|403`)
	// Out of disk: the kernel's ENOSPC text, and dnf's transaction check.
	reDisk      = lazyre.New(`(?i)no space left on device|\[Errno 28\]|needs (\S+) more space on the (\S+) filesystem|Disk Requirements:`)
	reDiskNeeds = lazyre.New(`needs (\S+) more space on the (\S+) filesystem`)
	// bootc container lint: "Lint failed: var-tmpfiles: Found content …",
	// "error: Linting: …" (bootc ≥ 1.1 prints the check name first).
	reLint      = lazyre.New(`Lint failed: ([A-Za-z0-9_-]+): (.*)|error: Linting: (.*)|(?i)bootc container lint.*(?:failed|error)`)
	reStepError = lazyre.New(`error building at STEP|Error: building at STEP`)
)

// Classify names the cause of a failed or interrupted build from what it
// left. The order matters: an out-of-disk build also fails dnf, and a repo
// that 404s also leaves "Unable to find a match" for its packages.
func Classify(in ClassifyInput) Cause {
	lines := make([]string, 0, len(in.Log)+8)
	lines = append(lines, in.Log...)
	for _, t := range append(in.Terminations, in.Message) {
		lines = append(lines, strings.Split(t, "\n")...)
	}
	pool := in.Pool
	if pool == "" {
		pool = "POOL"
	}
	rebuild := fmt.Sprintf("then mosc apply --rebuild (or mosc rebuild --pool %s)", pool)
	find := func(re *lazyre.Regexp) (string, []string) {
		for _, l := range lines {
			if m := re.FindStringSubmatch(l); m != nil {
				return strings.TrimSpace(l), m
			}
		}
		return "", nil
	}
	var c Cause
	ev := func(ls ...string) {
		for _, l := range ls {
			if l != "" && !contains(c.Evidence, l) {
				c.Evidence = append(c.Evidence, l)
			}
		}
	}
	set := func(k, v string) {
		if v = strings.TrimSpace(v); v != "" {
			if c.Details == nil {
				c.Details = map[string]string{}
			}
			if _, ok := c.Details[k]; !ok {
				c.Details[k] = v
			}
		}
	}

	if l, m := find(reDisk); m != nil {
		c.ID = CauseDisk
		ev(l)
		if l2, m2 := find(reDiskNeeds); m2 != nil {
			ev(l2)
			set("needs", m2[1])
			set("filesystem", m2[2])
		}
		c.Summary = "the build ran out of disk space"
		if fs := c.Details["filesystem"]; fs != "" {
			c.Summary += fmt.Sprintf(" (dnf needs %s more on %s)", c.Details["needs"], fs)
		}
		c.Remedy = "free space on the node that ran the build pod (its container storage, /var/lib/containers, holds the base image, " +
			"the layers and the build cache), or make the Containerfile smaller (dnf clean all in the same RUN); " + rebuild
		return c
	}
	if l, m := find(reBasePull); m != nil && !isPushLine(l) {
		c.ID = CauseBasePullDenied
		ev(l)
		if m2 := reDockerImage.FindStringSubmatch(l); m2 != nil {
			set("image", m2[1])
		}
		if img := c.Details["image"]; img != "" {
			set("registry", strings.SplitN(img, "/", 2)[0])
		}
		c.Summary = "pulling the base OS image was denied"
		if img := c.Details["image"]; img != "" {
			c.Summary += " (" + img + ")"
		}
		c.Remedy = "the build pulls the base image with the cluster's global pull secret (openshift-config/pull-secret, copied by the MCO " +
			"to global-pull-secret-copy), or the MachineOSConfig's baseImagePullSecret: give it valid credentials for " +
			orWord(c.Details["registry"], "that registry") + " (oc set data secret/pull-secret -n openshift-config …); " + rebuild
		return c
	}
	if l, m := find(reRepoStatus); m != nil {
		c.ID = CauseRepoUnreachable
		ev(l)
		set("status", m[1])
		set("url", m[2])
	} else if l, m := find(reRepoCurl); m != nil {
		c.ID = CauseRepoUnreachable
		ev(l)
		set("status", "curl error "+m[1]+": "+m[2])
		set("url", m[3])
	}
	if l, m := find(reRepoMetadata); m != nil {
		c.ID = CauseRepoUnreachable
		ev(l)
		set("repo", m[1])
	} else if c.ID == CauseRepoUnreachable {
		if l, _ := find(reRepoCannot); l != "" {
			ev(l)
		}
	}
	if c.ID == CauseRepoUnreachable {
		if u := c.Details["url"]; u != "" {
			set("baseurl", strings.TrimSuffix(u, "repodata/repomd.xml"))
		}
		c.Summary = fmt.Sprintf("repository %s is unreachable", orWord(c.Details["repo"], "(unnamed)"))
		if u := c.Details["url"]; u != "" {
			c.Summary += fmt.Sprintf(": %s answered %s", u, c.Details["status"])
		}
		c.Remedy = fmt.Sprintf("check the baseurl of repo %s (the repo ConfigMap mosc applies; its path must match this release's RHEL, e.g. rhel9.6) "+
			"and that the build pod can reach it (proxy, egress firewall, mirror); %s", orWord(c.Details["repo"], "in the .repo file"), rebuild)
		return c
	}
	if l, m := find(reGPGFailed); m != nil {
		c.ID = CauseGPG
		ev(l)
		if l2, m2 := find(reGPGFailing); m2 != nil {
			ev(l2)
			set("package", m2[1])
		}
		if l2, m2 := find(reGPGPublicKey); m2 != nil {
			ev(l2)
			set("package", m2[1])
		}
		if l2, m2 := find(reGPGNotSigned); m2 != nil {
			ev(l2)
			set("package", m2[1])
		}
		if l2, m2 := find(reGPGKeys); m2 != nil {
			ev(l2)
			set("key", m2[1])
		}
		if l2, m2 := find(reGPGImport); m2 != nil {
			ev(l2)
			set("keyID", m2[1])
		}
		if _, m2 := find(reGPGKeyID); m2 != nil {
			set("keyID", m2[1])
		}
		if l2, m2 := find(reGPGRepo); m2 != nil {
			ev(l2)
			set("repo", m2[1])
		}
		c.Summary = "GPG check failed"
		if p := c.Details["package"]; p != "" {
			c.Summary += " for " + p
		}
		if k := c.Details["key"]; k != "" {
			c.Summary += " (key " + k
			if id := c.Details["keyID"]; id != "" {
				c.Summary += ", " + id
			}
			c.Summary += ")"
		}
		c.Remedy = "the package is not signed by the key(s) its repo names: put the repository's real signing key in the GPG key Secret " +
			"mosc applies (the site's gpgKey; on the node /etc/pki/rpm-gpg), or fix the repo's gpgkey URL; never turn gpgcheck off for production; " + rebuild
		return c
	}
	if l, m := find(reNoMatch); m != nil {
		c.ID = CausePackage
		if l2, m2 := find(reNoArg); m2 != nil && strings.TrimSpace(m2[1]) == strings.TrimSpace(m[1]) {
			ev(l2)
		}
		ev(l)
		set("package", m[1])
		c.Summary = "package not found: " + c.Details["package"]
		c.Remedy = fmt.Sprintf("no enabled repository has %s: check the package name and that its repo is in the repo ConfigMap for this RHEL version "+
			"(dnf list --repo=… in the base image); %s", c.Details["package"], rebuild)
		return c
	}
	if l, m := find(reConflict); m != nil {
		c.ID = CausePackage
		ev(l)
		set("file", m[1])
		set("package", m[2])
		set("conflictsWith", m[3])
		c.Summary = fmt.Sprintf("package %s conflicts with %s (file %s)", m[2], m[3], m[1])
		c.Remedy = "remove the conflicting package first in the same RUN (rpm-ostree override remove, as the stacks do for openvswitch3.x), " + rebuild
		return c
	}
	if l, m := find(reProblem); m != nil {
		c.ID = CausePackage
		ev(l)
		set("problem", m[1])
		if l2, m2 := find(reNothing); m2 != nil {
			ev(l2)
			set("package", m2[2])
			set("missing", m2[1])
		}
		c.Summary = "dnf could not resolve the packages: " + m[1]
		if miss := c.Details["missing"]; miss != "" {
			c.Summary += fmt.Sprintf(" (nothing provides %s needed by %s)", miss, c.Details["package"])
		}
		c.Remedy = "the repos do not hold a consistent set for this RHEL: use the repo built for the cluster's RHEL version (the catalog's), or add the missing dependency's repo; " + rebuild
		return c
	}
	if l, m := find(reLint); m != nil {
		c.ID = CauseLint
		ev(l)
		set("check", m[1])
		set("message", m[2]+m[3])
		c.Summary = "bootc container lint failed"
		if ch := c.Details["check"]; ch != "" {
			c.Summary += ": " + ch
		}
		c.Remedy = "fix what lint names in the Containerfile (var-tmpfiles: content under /var needs a systemd tmpfiles.d entry, or belongs in /usr); " + rebuild
		return c
	}
	for _, l := range lines {
		if !rePush.MatchString(l) && !strings.Contains(l, "push") {
			continue
		}
		status := ""
		switch {
		case re401.MatchString(l):
			status = "401"
		case re403.MatchString(l):
			status = "403"
		default:
			continue
		}
		c.ID = CausePushDenied
		ev(strings.TrimSpace(l))
		set("status", status)
		if m := rePushRef.FindStringSubmatch(l); m != nil {
			set("image", m[1])
		}
		if m := rePushHost.FindStringSubmatch(l); m != nil {
			set("registry", m[1])
		}
		break
	}
	if c.ID == CausePushDenied {
		if c.Details["status"] == "401" {
			c.Summary = "the registry refused the push credentials (401 unauthorized)"
			c.Remedy = "the push secret (the MachineOSConfig's renderedImagePushSecret) or the service-account token in it has expired or is wrong: " +
				"mosc apply renews a builder token secret it manages; for your own secret, create a fresh one; " + rebuild
		} else {
			c.Summary = "the registry denied the push (403 forbidden)"
			c.Remedy = "the credentials are valid but may not push there: grant push on the repository (on the internal registry, " +
				"system:image-builder in the target namespace) or fix renderedImagePushSpec; " + rebuild
		}
		if r := c.Details["registry"]; r != "" {
			c.Summary += " at " + r
		}
		return c
	}
	if in.State == BuildInterrupted {
		c.ID = CauseInterrupted
		c.Summary = "the build pod went away before the build finished"
		c.Remedy = "a newer spec or a rebuild replaces a running build (not an error); otherwise the build node was drained or restarted: " + rebuild
		c.LogTail = tail(in.Log, LogTailLines)
		return c
	}
	c.ID = CauseUnknown
	c.Summary = "no known cause in the build log"
	if l, _ := find(reStepError); l != "" {
		ev(l)
		c.Summary = "a build step failed: " + truncate(l, 200)
	}
	c.Remedy = "read the log tail (and the saved build log) for the failing step; " + rebuild
	c.LogTail = tail(in.Log, LogTailLines)
	if len(c.LogTail) == 0 {
		c.LogTail = tail(lines, LogTailLines)
	}
	return c
}

// String is the one-line form: "cause repo-unreachable: …".
func (c Cause) String() string { return "cause " + c.ID + ": " + c.Summary }

func isPushLine(l string) bool {
	return strings.Contains(l, "pushing image") || strings.Contains(l, "layer upload") || strings.Contains(l, "writing manifest")
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func tail(ls []string, n int) []string {
	for len(ls) > 0 && strings.TrimSpace(ls[len(ls)-1]) == "" {
		ls = ls[:len(ls)-1]
	}
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return append([]string(nil), ls...)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
