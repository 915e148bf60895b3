package harness

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// Main is the body of an e2e package's TestMain: it obtains the binaries
// (building kube-apiserver if needed), starts one cluster for the package,
// stores it in *env, runs the tests and stops the cluster.
//
// When kube-apiserver or etcd cannot be obtained, the package is skipped
// (exit 0, the reason printed) — unless $CI is set, where a missing component
// is a failure (exit 1). Set MOSC_E2E_VERBOSE=1 to see harness progress.
func Main(m *testing.M, opts Options, env **Cluster) int {
	if opts.Logf == nil && os.Getenv("MOSC_E2E_VERBOSE") != "" {
		opts.Logf = func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
	}
	if _, err := FindBinaries(true); err != nil {
		if os.Getenv("CI") != "" {
			fmt.Fprintf(os.Stderr, "e2e: FAIL: cannot obtain the API server components (CI is set, so this is a failure):\n%v\n", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "e2e: SKIP: cannot obtain the API server components:\n%v\n(run `make deps`; with CI set this is a failure)\n", err)
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	c, err := Start(ctx, opts)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: FAIL: start the test cluster: %v\n", err)
		return 1
	}
	*env = c
	code := m.Run()
	if code != 0 {
		if os.Getenv("MOSC_E2E_KEEP") != "" {
			fmt.Fprintf(os.Stderr, "e2e: the test cluster's logs are kept in %s\n", c.Dir)
		} else {
			fmt.Fprintln(os.Stderr, "e2e: set MOSC_E2E_KEEP=1 to keep the test cluster's logs (etcd.log, kube-apiserver.log)")
		}
	}
	c.Stop()
	return code
}
