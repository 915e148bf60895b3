package gate

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/repo"
)

// IDRepoSignatures: every package the target's layer installs from a stack
// repository (the closure of its packages in that repository) carries a
// header signature by the repository's key, except those the stack profile
// records as unsigned (issue 11 finding 3).
const IDRepoSignatures = "repo-signatures"

// pkiPrefix is where Secret etc-pki-rpm-gpg is mounted in the build; a
// gpgkey there names one of the plan's inline keys.
const pkiPrefix = "file:///etc/pki/rpm-gpg/"

// SignatureTarget is one stack repository to check.
type SignatureTarget struct {
	Stack    string
	RepoID   string
	GPGCheck bool
	// KeyURLs are the section's gpgkey values.
	KeyURLs []string
	// Unsigned are the packages the stack profile records as unsigned (the
	// gpgcheck exception section serves them).
	Unsigned []string
	Query    repo.SignatureQuery
}

// SignatureTargets derives, from the target plan, the packages each stack
// repository serves the layer (the same roots as repo-preflight) and the
// repository section's gpgcheck and gpgkey.
func SignatureTargets(p *profile.Plan) []SignatureTarget {
	var out []SignatureTarget
	queries := RepoQueries(p)
	for i, st := range p.Stacks {
		t := SignatureTarget{Stack: st.Name, Unsigned: st.Unsigned}
		for _, f := range p.RepoFiles {
			for _, r := range f.Repos {
				if slices.Contains(p.UnsignedRepos, r.ID) || strings.TrimRight(r.BaseURL, "/") != strings.TrimRight(st.RepoBaseURL, "/") {
					continue
				}
				t.RepoID, t.GPGCheck, t.KeyURLs = r.ID, r.GPGCheck, strings.Fields(strings.ReplaceAll(r.GPGKey, ",", " "))
			}
		}
		var roots []string
		for _, req := range queries[i].Query.Requirements {
			roots = append(roots, req.AnyOf...)
		}
		t.Query = repo.SignatureQuery{BaseURL: st.RepoBaseURL, Arches: []string{p.Platform.RPMArch}, Roots: roots}
		out = append(out, t)
	}
	return out
}

// loadKeys reads the section's keys: inline ones from the plan (Secret
// etc-pki-rpm-gpg), others fetched as dnf would.
func loadKeys(ctx context.Context, client *repo.Client, p *profile.Plan, urls []string) (openpgp.EntityList, []string, error) {
	var ring openpgp.EntityList
	var fps []string
	for _, u := range urls {
		var data []byte
		if name, ok := strings.CutPrefix(u, pkiPrefix); ok {
			for _, k := range p.GPGKeys {
				if k.FileName == name {
					data = []byte(k.Armored)
				}
			}
			if data == nil {
				return nil, nil, fmt.Errorf("gpgkey %s is not in Secret etc-pki-rpm-gpg", u)
			}
		} else {
			b, err := client.Fetch(ctx, u)
			if err != nil {
				return nil, nil, fmt.Errorf("gpgkey %s: %v", u, err)
			}
			data = b
		}
		keys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
		if err != nil {
			return nil, nil, fmt.Errorf("gpgkey %s: not an armored PGP public key: %v", u, err)
		}
		for _, k := range keys {
			fps = append(fps, strings.ToUpper(fmt.Sprintf("%x", k.PrimaryKey.Fingerprint)))
		}
		ring = append(ring, keys...)
	}
	return ring, fps, nil
}

// SignatureOutcome is the result (or error) of one SignatureTarget.
type SignatureOutcome struct {
	SignatureTarget
	Keys   []string // fingerprints of the keys used
	Result *repo.SignatureResult
	Err    error
}

// RunSignatures checks every target (keys, closure, header signatures).
func RunSignatures(ctx context.Context, client *repo.Client, p *profile.Plan) []SignatureOutcome {
	var outs []SignatureOutcome
	for _, t := range SignatureTargets(p) {
		o := SignatureOutcome{SignatureTarget: t}
		if !t.GPGCheck {
			outs = append(outs, o) // nothing is verified: the check warns
			continue
		}
		o.Query.Keys, o.Keys, o.Err = loadKeys(ctx, client, p, t.KeyURLs)
		if o.Err == nil && len(o.Query.Keys) == 0 {
			o.Err = fmt.Errorf("repo %s has gpgcheck=1 and no gpgkey", t.RepoID)
		}
		if o.Err == nil {
			o.Result, o.Err = client.Signatures(ctx, o.Query)
		}
		outs = append(outs, o)
	}
	return outs
}

// CheckRepoSignatures turns the outcomes into the check: fail on a package
// dnf would refuse under gpgcheck=1 (unsigned and not in the profile's
// exception, signed by a key the repo does not name, or a bad signature),
// warn on an exception that is no longer needed or a repo without gpgcheck.
func CheckRepoSignatures(outs []SignatureOutcome, tgt *profile.Plan) Check {
	c := Check{ID: IDRepoSignatures}
	if tgt == nil {
		c.Status, c.Message = Skip, "no target plan (see "+IDStackSupport+")"
		return c
	}
	var fails, warns, oks, remedies []string
	var details []map[string]any
	for _, o := range outs {
		d := map[string]any{"stack": o.Stack, "repo": o.RepoID, "baseURL": o.Query.BaseURL, "gpgcheck": o.GPGCheck}
		details = append(details, d)
		if !o.GPGCheck {
			warns = append(warns, fmt.Sprintf("%s: %s: repo %s has gpgcheck=0: nothing it serves is verified", o.Stack, o.Query.BaseURL, o.RepoID))
			remedies = append(remedies, "drop spec.repos.gpgCheck: false from the site file; the stack profile's spec.repo.unsigned names the packages that need the exception")
			continue
		}
		if o.Err != nil {
			d["error"] = o.Err.Error()
			fails = append(fails, fmt.Sprintf("%s: %v", o.Stack, o.Err))
			remedies = append(remedies, "the repository or its key could not be read: check the URL, the key, the network or proxy (--offline skips this check)")
			continue
		}
		r := o.Result
		d["keys"], d["packages"], d["headerBytes"] = o.Keys, r.Packages, r.HeaderBytes
		if len(r.External) > 0 {
			d["external"] = r.External
		}
		if len(r.Unfollowed) > 0 {
			d["unfollowed"] = r.Unfollowed
		}
		where := fmt.Sprintf("%s: %s", o.Stack, o.Query.BaseURL)
		var unsigned, excepted, unknown, bad, stale []string
		for _, p := range r.Packages {
			isExcepted := slices.Contains(o.Unsigned, p.Name)
			switch p.Status {
			case repo.SigUnsigned:
				if isExcepted {
					excepted = append(excepted, p.NEVRA())
				} else {
					unsigned = append(unsigned, p.NEVRA())
				}
			case repo.SigUnknownKey:
				unknown = append(unknown, fmt.Sprintf("%s (key ID %s)", p.NEVRA(), p.KeyID))
			case repo.SigBad:
				bad = append(bad, fmt.Sprintf("%s: %s", p.NEVRA(), p.Error))
			case repo.SigSigned:
				if isExcepted {
					stale = append(stale, p.NEVRA())
				}
			}
		}
		if len(unsigned) > 0 {
			fails = append(fails, fmt.Sprintf("%s: unsigned, and gpgcheck=1 refuses them: %s", where, strings.Join(unsigned, ", ")))
			remedies = append(remedies, fmt.Sprintf("record them, with the source, in stack %s's spec.repo.unsigned: mosc then installs only those from a named gpgcheck exception section (never gpgcheck=0 for the whole repo)", o.Stack))
		}
		if len(unknown) > 0 {
			fails = append(fails, fmt.Sprintf("%s: signed by a key that repo %s's gpgkey does not hold (%s): %s", where, o.RepoID, strings.Join(o.KeyURLs, " "), strings.Join(unknown, ", ")))
			remedies = append(remedies, "the vendor signs with another key now: add it to the site's spec.repos.gpgKeys (after checking its fingerprint with the vendor)")
		}
		if len(bad) > 0 {
			fails = append(fails, fmt.Sprintf("%s: bad header or signature: %s", where, strings.Join(bad, "; ")))
			remedies = append(remedies, "a corrupt or tampered package, or a mirror out of sync: do not build from this repository until it serves packages whose signature verifies")
		}
		if len(stale) > 0 {
			warns = append(warns, fmt.Sprintf("%s: the stack profile records as unsigned, but signed now: %s", where, strings.Join(stale, ", ")))
			remedies = append(remedies, fmt.Sprintf("drop them from stack %s's spec.repo.unsigned so they are checked again", o.Stack))
		}
		if len(unsigned)+len(unknown)+len(bad) == 0 {
			msg := fmt.Sprintf("%s: %d packages (the closure of %s), header signatures verified with %s", where, len(r.Packages), strings.Join(o.Query.Roots, ", "), strings.Join(shortFingerprints(o.Keys), ", "))
			if len(excepted) > 0 {
				msg += fmt.Sprintf("; unsigned as the stack profile records, from the named exception: %s", strings.Join(excepted, ", "))
			}
			oks = append(oks, msg)
		}
	}
	c.Details = map[string]any{"repos": details}
	switch {
	case len(fails) > 0:
		c.Status = Fail
	case len(warns) > 0:
		c.Status = Warn
	default:
		c.Status = Pass
	}
	c.Message = strings.Join(append(append(fails, warns...), oks...), "\n")
	c.Remedy = strings.Join(uniq(remedies), "; ")
	return c
}

// shortFingerprints are the last 16 hex digits (the long key ID) of each.
func shortFingerprints(fps []string) []string {
	out := make([]string, len(fps))
	for i, f := range fps {
		if len(f) > 16 {
			f = f[len(f)-16:]
		}
		out[i] = "key " + f
	}
	return out
}

// repoSignaturesCheck is the check as Run performs it.
func repoSignaturesCheck(ctx context.Context, o Options) Check {
	switch {
	case o.Offline:
		return Check{ID: IDRepoSignatures, Status: Skip, Message: "--offline: repositories are not read"}
	case o.Target == nil:
		return CheckRepoSignatures(nil, nil)
	}
	return CheckRepoSignatures(RunSignatures(ctx, repoClient(o), o.Target), o.Target)
}
