package h4scratch

// Temporary stand-in for e2e/main_test.go while it is written (h4 scratch; not committed).

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mosc-dev/mosc/e2e/harness"
)

var env struct {
	Cluster *harness.Cluster
	Mosc    string
}

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, _ := os.MkdirTemp("", "h4-bin-")
		defer os.RemoveAll(dir)
		env.Mosc = filepath.Join(dir, "mosc")
		b := exec.Command("go", "build", "-o", env.Mosc, "./cmd/mosc")
		b.Dir = "../.."
		b.Stderr = os.Stderr
		if err := b.Run(); err != nil {
			fmt.Println(err)
			return 1
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		c, err := harness.Start(ctx, harness.Options{})
		if err != nil {
			fmt.Println(err)
			return 1
		}
		defer c.Stop()
		env.Cluster = c
		return m.Run()
	}())
}

func runMosc(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(env.Mosc, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+env.Cluster.Kubeconfig)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}
