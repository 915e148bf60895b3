package main

import (
	"os"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/gate"
	"github.com/mosc-dev/mosc/internal/release"
)

// gate --build builds on the images of the payload release-payload read,
// for the pool's OS stream, with the credentials that read it.
func TestGateBuildBase(t *testing.T) {
	payload := &release.Payload{Ref: "quay.io/openshift-release-dev/ocp-release@sha256:aa", CoreOS: []release.CoreOS{
		{Tag: "rhel-coreos", Image: "art@sha256:9", StreamClass: "rhel-9"},
		{Tag: "rhel-coreos-extensions", Image: "art@sha256:9e", StreamClass: "rhel-9", IsExtensions: true},
		{Tag: "rhel-coreos-10", Image: "art@sha256:10", StreamClass: "rhel-10"},
		{Tag: "rhel-coreos-10-extensions", Image: "art@sha256:10e", StreamClass: "rhel-10", IsExtensions: true},
	}}
	// As read through an IDMS mirror: the build pulls what answered.
	mirrored := &release.Payload{Ref: payload.Ref, CoreOS: []release.CoreOS{
		{Tag: "rhel-coreos", Image: "art@sha256:9", From: "mirror.example.com/art@sha256:9", StreamClass: "rhel-9"},
		{Tag: "rhel-coreos-extensions", Image: "art@sha256:9e", From: "mirror.example.com/art@sha256:9e", StreamClass: "rhel-9", IsExtensions: true},
	}}
	secret := []byte(`{"auths":{"quay.io":{"auth":"dTpw"}}}`)
	for _, tc := range []struct {
		name        string
		report      gate.Report
		params      gateBuild
		opts        gate.Options
		base, ext   string
		why, errMsg string
		authFile    bool
	}{
		{name: "the pool's stream, the cluster's pull secret", report: gate.Report{Payload: payload, Stream: "rhel-10"},
			opts: gate.Options{Release: release.Options{DockerConfigJSON: secret}}, base: "art@sha256:10", ext: "art@sha256:10e", authFile: true},
		{name: "the default stream, --registry-config", report: gate.Report{Payload: payload, Stream: "rhel-9"},
			params: gateBuild{buildParams: buildParams{registryConfig: "/etc/ps.json"}}, opts: gate.Options{Release: release.Options{RegistryConfig: "/etc/ps.json"}}, base: "art@sha256:9", ext: "art@sha256:9e"},
		{name: "--stream names the tag", report: gate.Report{Payload: payload, Stream: "rhel-9"},
			params: gateBuild{buildParams: buildParams{stream: "rhel-coreos-10"}, streamSet: true}, base: "art@sha256:10", ext: "art@sha256:10e"},
		{name: "a mirror answered", report: gate.Report{Payload: mirrored, Stream: "rhel-9"},
			base: "mirror.example.com/art@sha256:9", ext: "mirror.example.com/art@sha256:9e"},
		{name: "--base-image wins", report: gate.Report{Payload: payload, Stream: "rhel-9"},
			params: gateBuild{buildParams: buildParams{baseImage: "mine:1"}}, base: "mine:1"},
		{name: "no payload read", report: gate.Report{}, why: "the target payload was not read (see release-payload)"},
		{name: "no such stream", report: gate.Report{Payload: payload, Stream: "rhel-11"}, errMsg: "has no stream rhel-11 OS image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.params
			why, cleanup, err := gateBuildBase(tc.opts, &tc.report, &p)
			switch {
			case tc.errMsg != "":
				if err == nil || !strings.Contains(err.Error(), tc.errMsg) {
					t.Fatalf("error %v, want %q", err, tc.errMsg)
				}
				return
			case err != nil:
				t.Fatal(err)
			case tc.why != "":
				if !strings.Contains(why, tc.why) {
					t.Fatalf("why %q, want %q", why, tc.why)
				}
				return
			}
			if p.baseImage != tc.base || p.extensionsImage != tc.ext {
				t.Errorf("base %s ext %s, want %s %s", p.baseImage, p.extensionsImage, tc.base, tc.ext)
			}
			if !tc.authFile {
				if p.registryConfig != tc.params.registryConfig {
					t.Errorf("registry config %q", p.registryConfig)
				}
				cleanup()
				return
			}
			fi, err := os.Stat(p.registryConfig)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("auth file %s: %v %v", p.registryConfig, fi, err)
			}
			if b, _ := os.ReadFile(p.registryConfig); string(b) != string(secret) {
				t.Errorf("auth file holds %s", b)
			}
			cleanup()
			if _, err := os.Stat(p.registryConfig); !os.IsNotExist(err) {
				t.Errorf("auth file left behind: %v", err)
			}
		})
	}
}
