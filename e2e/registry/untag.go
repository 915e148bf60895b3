package registry

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
)

// untagOnDelete makes a DELETE of a manifest by digest also remove the tags
// that point at it, as the distribution registry does
// (distribution/distribution, registry/handlers/manifests.go
// DeleteManifest: tagService.Lookup, then Untag each). go-containerregistry's
// in-memory registry deletes only the digest entry and would leave the tags
// serving a deleted image. The MCO deletes a build's image this way
// (containers/image resolves the tag, then deletes by digest).
func untagOnDelete(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		repo, ref, ok := manifestPath(r.URL.Path)
		if r.Method != http.MethodDelete || !ok || !strings.HasPrefix(ref, "sha256:") {
			next.ServeHTTP(w, r)
			return
		}
		var tags []string
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v2/"+repo+"/tags/list", nil))
		var list struct {
			Tags []string `json:"tags"`
		}
		if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &list) == nil {
			for _, t := range list.Tags {
				head := httptest.NewRecorder()
				next.ServeHTTP(head, httptest.NewRequest(http.MethodHead, "/v2/"+repo+"/manifests/"+t, nil))
				if head.Code == http.StatusOK && head.Header().Get("Docker-Content-Digest") == ref {
					tags = append(tags, t)
				}
			}
		}
		del := httptest.NewRecorder()
		next.ServeHTTP(del, r)
		if del.Code == http.StatusAccepted {
			for _, t := range tags {
				next.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodDelete, "/v2/"+repo+"/manifests/"+t, nil))
			}
		}
		for k, v := range del.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(del.Code)
		_, _ = w.Write(del.Body.Bytes())
	})
}

// manifestPath splits /v2/<repo>/manifests/<reference>.
func manifestPath(p string) (repo, ref string, ok bool) {
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndex(rest, "/manifests/")
	if i <= 0 {
		return "", "", false
	}
	return rest[:i], rest[i+len("/manifests/"):], true
}
