package resolve

import (
	"strconv"
	"strings"

	"github.com/mosc-dev/mosc/internal/lazyre"
)

// Status is how a dnf run ended.
type Status string

const (
	// Resolved: dnf found a transaction (and --assumeno declined it), or
	// there was nothing to do.
	Resolved Status = "resolved"
	// Unresolvable: the solver found no transaction (dnf's "Problem:" list).
	Unresolvable Status = "unresolvable"
	// NoMatch: a named package is in no enabled repository.
	NoMatch Status = "no-match"
	// RepoError: a repository (or a URL) could not be read: network,
	// TLS, authentication or a 404, not a dependency problem.
	RepoError Status = "repo-error"
	// Failed: dnf failed in a way not recognised above.
	Failed Status = "failed"
)

// Problem is one line of dnf's problem list.
type Problem struct {
	Text string `json:"text"`
	// Missing and NeededBy are set for "nothing provides MISSING needed by
	// NEEDEDBY": the dependency no package provides and its requirer.
	Missing  string `json:"missing,omitempty"`
	NeededBy string `json:"neededBy,omitempty"`
}

// Outcome is what a dnf run's output says.
type Outcome struct {
	Status Status `json:"status"`
	// Counts from the transaction summary: Install, Upgrade, Downgrade,
	// Remove, Reinstall (dnf's words).
	Counts map[string]int `json:"counts,omitempty"`
	// Problems in dnf's order (Unresolvable).
	Problems []Problem `json:"problems,omitempty"`
	// Packages dnf matched nothing for (NoMatch).
	Unmatched []string `json:"unmatched,omitempty"`
	// Packages are the transaction's rows (Resolved), in dnf's order.
	Packages []TxPackage `json:"packages,omitempty"`
	// Repo is the repository that failed (RepoError), Detail its error.
	Repo   string `json:"repo,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// TxPackage is one row of dnf's transaction table.
type TxPackage struct {
	// Action is dnf's section: Installing, Upgrading, Installing
	// dependencies, Downgrading, Removing …
	Action  string `json:"action"`
	Name    string `json:"name"`
	Arch    string `json:"arch"`
	Version string `json:"version"`
	Repo    string `json:"repo"`
}

// Changed are the rows that replace a package the image has (upgrades and
// downgrades), as "name-version (repo)".
func (o Outcome) Changed() []string {
	var out []string
	for _, p := range o.Packages {
		if p.Action == "Upgrading" || p.Action == "Downgrading" {
			out = append(out, p.Name+"-"+p.Version+" ("+p.Repo+")")
		}
	}
	return out
}

// Installs is what the transaction brings in: new, upgraded and downgraded
// packages.
func (o Outcome) Installs() int {
	return o.Counts["Install"] + o.Counts["Upgrade"] + o.Counts["Downgrade"]
}

// First is the first unresolvable dependency: the first "nothing provides"
// problem, else the first problem line; nil without problems.
func (o Outcome) First() *Problem {
	for i := range o.Problems {
		if o.Problems[i].Missing != "" {
			return &o.Problems[i]
		}
	}
	if len(o.Problems) > 0 {
		return &o.Problems[0]
	}
	return nil
}

var (
	// dnf 4 (hawkey/libsolv) and dnf 5: " Problem: …", " Problem 2: …",
	// then "  - …" lines.
	problemHead = lazyre.New(`^\s*Problem(?: \d+)?: (.+)$`)
	problemItem = lazyre.New(`^\s+- (.+)$`)
	// libsolv's SOLVER_RULE_PKG_NOTHING_PROVIDES_DEP text (dnf 5 appends
	// " from REPO").
	nothingProvides = lazyre.New(`^nothing provides (.+?) needed by (\S+)(?: from \S+)?$`)
	txSection       = lazyre.New(`^(Installing|Upgrading|Downgrading|Reinstalling|Removing|Installing dependencies|Installing weak dependencies|Removing dependent packages|Removing unused dependencies|Installing group/module packages|Enabling module streams):$`)
	summaryCount    = lazyre.New(`^(Install|Upgrade|Downgrade|Remove|Reinstall|Replacing)\s+(\d+) Packages?\b`)
	// dnf 4: "No match for argument: X"; "Error: Unable to find a match: X Y".
	noMatchArg = lazyre.New(`^No match for argument: (\S+)`)
	noMatchErr = lazyre.New(`^Error: Unable to find a match: (.+)$`)
	// dnf 4: "Error: Failed to download metadata for repo 'doca': …",
	// "Errors during downloading metadata for repository 'doca':";
	// dnf 5: "Failed to download metadata (metalink: …) for repository \"doca\"".
	repoFail = lazyre.New(`(?:metadata for repo(?:sitory)? ['"]([^'"]+)['"]|for repository ['"]([^'"]+)['"])`)
	urlFail  = lazyre.New(`(?i)(Curl error \(\d+\)|Status code: \d{3}|Cannot download|Could not resolve host|Failed to connect|Couldn't connect|SSL|certificate|Cannot open: )`)
)

// Parse reads dnf's combined output. The exit code alone cannot tell: with
// --assumeno a resolvable transaction exits 1 ("Operation aborted.").
func Parse(out string) Outcome {
	lines := strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n")
	o := Outcome{}
	inProblem := false
	var repo, repoDetail string
	var unmatched []string
	seenUnmatched := map[string]bool{}
	addUnmatched := func(n string) {
		n = strings.TrimSpace(n)
		if n != "" && !seenUnmatched[n] {
			seenUnmatched[n] = true
			unmatched = append(unmatched, n)
		}
	}
	summary, nothing, urlDetail := false, false, false
	section, held := "", ""
	for _, raw := range lines {
		l := strings.TrimRight(raw, " \t")
		if m := problemHead.FindStringSubmatch(l); m != nil {
			inProblem = true
			o.Problems = append(o.Problems, problem(m[1]))
			continue
		}
		if inProblem {
			if m := problemItem.FindStringSubmatch(l); m != nil {
				o.Problems = append(o.Problems, problem(m[1]))
				continue
			}
			inProblem = false
		}
		t := strings.TrimSpace(l)
		if txSection.MatchString(t) && !summary {
			section, held = strings.TrimSuffix(t, ":"), ""
			continue
		}
		if section != "" && !summary && strings.HasPrefix(l, " ") {
			// A name too long for its column wraps: the rest of the row
			// follows on the next line.
			f := strings.Fields(held + " " + t)
			switch {
			case len(f) == 1:
				held = f[0]
			case len(f) >= 5 && f[0] != "replacing":
				o.Packages = append(o.Packages, TxPackage{Action: section, Name: f[0], Arch: f[1], Version: f[2], Repo: f[3]})
				held = ""
			default:
				held = ""
			}
			continue
		}
		if t == "" || strings.HasPrefix(t, "====") {
			section = ""
		}
		switch {
		case t == "Transaction Summary":
			summary = true
		case t == "Nothing to do.":
			nothing = true
		}
		if m := summaryCount.FindStringSubmatch(t); m != nil && summary {
			n, _ := strconv.Atoi(m[2])
			if o.Counts == nil {
				o.Counts = map[string]int{}
			}
			o.Counts[m[1]] += n
		}
		if m := noMatchArg.FindStringSubmatch(t); m != nil {
			addUnmatched(m[1])
		}
		if m := noMatchErr.FindStringSubmatch(t); m != nil {
			for _, n := range strings.Fields(m[1]) {
				addUnmatched(n)
			}
		}
		switch m := repoFail.FindStringSubmatch(t); {
		case m != nil && repo == "":
			repo = m[1] + m[2]
			if repoDetail == "" {
				repoDetail = t
			}
		case urlFail.MatchString(t) && (repoDetail == "" || repo != "" && !urlDetail):
			// The first line saying why (Curl error, Status code …).
			repoDetail, urlDetail = strings.TrimPrefix(t, "- "), true
		}
	}
	// A repository that could not be read comes first: what dnf resolved
	// without it (skip_if_unavailable) says nothing.
	switch {
	case repo != "":
		o.Status, o.Repo, o.Detail, o.Problems = RepoError, repo, repoDetail, nil
	case len(o.Problems) > 0:
		o.Status = Unresolvable
	case len(unmatched) > 0:
		o.Status, o.Unmatched = NoMatch, unmatched
	case summary || nothing:
		o.Status = Resolved
	case repoDetail != "":
		o.Status, o.Detail = RepoError, repoDetail
	default:
		o.Status = Failed
		o.Detail = lastLines(lines, 5)
	}
	return o
}

func problem(text string) Problem {
	p := Problem{Text: text}
	if m := nothingProvides.FindStringSubmatch(text); m != nil {
		p.Missing, p.NeededBy = m[1], m[2]
	}
	return p
}

func lastLines(lines []string, n int) string {
	var keep []string
	for i := len(lines) - 1; i >= 0 && len(keep) < n; i-- {
		if t := strings.TrimSpace(lines[i]); t != "" {
			keep = append([]string{t}, keep...)
		}
	}
	return strings.Join(keep, "; ")
}
