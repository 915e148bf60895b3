package release_test

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

func mustRepo(t *testing.T, ref string) name.Repository {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	return r.Context()
}
