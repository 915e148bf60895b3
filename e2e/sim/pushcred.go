package sim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"time"
)

// Push credentials over time (issue 10, finding 1). The registry refuses a
// token the API server no longer accepts: OpenShift's image registry checks
// the bearer token against the API server on each request
// (openshift/image-registry, pkg/dockerregistry/server/auth.go: the token is
// the user's credential for a SelfSubjectAccessReview), and the API server
// refuses a JWT past its exp (k8s.io/apiserver pkg/authentication/
// serviceaccount, jwt.go Validate). A month cannot pass in a test, so the
// simulator keeps its own clock that a test moves forward (Advance), and its
// registry judges a token's exp on that clock, after the API server's
// TokenReview. A Secret-based service-account token has no exp: the API
// server accepts it while its Secret exists (pkg/serviceaccount/legacy.go),
// which the TokenReview checks for real.

// simClock lets a test move the simulator's notion of time forward (30 days
// in a second) without touching the API server's: a token issued at real
// time t counts as issued at t plus the offset in force then, so one minted
// after a jump is as fresh as the API server made it.
type simClock struct {
	mu    sync.Mutex
	jumps []clockJump
}

type clockJump struct {
	at     time.Time     // real time of the jump
	offset time.Duration // total offset from then on
}

func (c *simClock) offsetAt(t time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var off time.Duration
	for _, j := range c.jumps {
		if !t.Before(j.at) {
			off = j.offset
		}
	}
	return off
}

func (c *simClock) now() time.Time {
	n := time.Now()
	return n.Add(c.offsetAt(n))
}

// Advance moves the simulator's clock forward by d: tokens issued before now
// age by d.
func (s *Simulator) Advance(_ context.Context, d time.Duration) error {
	s.clock.mu.Lock()
	off := d
	if n := len(s.clock.jumps); n > 0 {
		off += s.clock.jumps[n-1].offset
	}
	s.clock.jumps = append(s.clock.jumps, clockJump{at: time.Now(), offset: off})
	s.clock.mu.Unlock()
	s.opts.Logf("sim: clock advanced by %v (now %s)", d, s.clock.now().UTC().Format(time.RFC3339))
	return nil
}

// jwtTimes reads iat (else nbf) and exp of a JWT without verifying it; ok is
// false for anything without an exp.
func jwtTimes(token string) (issued, exp time.Time, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return issued, exp, false
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return issued, exp, false
	}
	var c struct {
		Iat, Nbf, Exp int64
	}
	if json.Unmarshal(b, &c) != nil || c.Exp == 0 {
		return issued, exp, false
	}
	iat := c.Iat
	if iat == 0 {
		iat = c.Nbf
	}
	return time.Unix(iat, 0), time.Unix(c.Exp, 0), true
}

// tokenExpired reports, on the simulator's clock, whether a token the API
// server accepted has expired.
func (s *Simulator) tokenExpired(token string) (time.Time, bool) {
	issued, exp, ok := jwtTimes(token)
	if !ok {
		return time.Time{}, false
	}
	simExp := exp.Add(s.clock.offsetAt(issued))
	return simExp, !s.clock.now().Before(simExp)
}
