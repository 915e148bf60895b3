package watch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readLines(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "failures", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")
}

// TestClassify runs the classifier on real build output (testdata/failures)
// and on the error text buildah and containers/image print.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      ClassifyInput
		id      string
		details map[string]string
		summary []string // substrings
	}{
		{
			name: "dnf repo 404", in: ClassifyInput{State: BuildFailed, Log: readLines(t, "dnf-repo-404.txt")},
			id:      CauseRepoUnreachable,
			details: map[string]string{"repo": "doca", "status": "404", "url": "http://127.0.0.1:18765/doca/rhel9.9/x86_64/repodata/repomd.xml", "baseurl": "http://127.0.0.1:18765/doca/rhel9.9/x86_64/"},
			summary: []string{"repository doca is unreachable", "answered 404"},
		},
		{
			name: "curl cannot resolve", in: ClassifyInput{State: BuildFailed, Log: []string{
				"Errors during downloading metadata for repository 'doca':",
				"  - Curl error (6): Couldn't resolve host name for https://linux.mellanox.com/public/repo/doca/3.3.0/rhel9.6/x86_64/repodata/repomd.xml [Could not resolve host: linux.mellanox.com]",
				"Error: Failed to download metadata for repo 'doca': Cannot download repomd.xml: Curl error (6): Couldn't resolve host name for https://linux.mellanox.com/public/repo/doca/3.3.0/rhel9.6/x86_64/repodata/repomd.xml [Could not resolve host: linux.mellanox.com]",
			}},
			id:      CauseRepoUnreachable,
			details: map[string]string{"repo": "doca", "url": "https://linux.mellanox.com/public/repo/doca/3.3.0/rhel9.6/x86_64/repodata/repomd.xml"},
		},
		{
			name: "dnf GPG check", in: ClassifyInput{State: BuildFailed, Log: readLines(t, "dnf-gpg.txt")},
			id:      CauseGPG,
			details: map[string]string{"package": "kernel-headers-5.14.0-570.60.1.el9_6.x86_64", "key": "http://127.0.0.1:18765/GPG-KEY-Mellanox.pub", "keyID": "0x2BFA6FAE"},
			summary: []string{"GPG check failed for kernel-headers-5.14.0-570.60.1.el9_6.x86_64", "GPG-KEY-Mellanox.pub"},
		},
		{
			name: "package conflict", in: ClassifyInput{State: BuildFailed, Log: readLines(t, "conflict.log")},
			id:      CausePackage,
			details: map[string]string{"package": "doca-openvswitch-3.3.0040-1.el9.x86_64"},
			summary: []string{"dnf could not resolve", "nothing provides libc.so.6(GLIBC_2.34)(64bit)"},
		},
		{
			name: "package not found", in: ClassifyInput{State: BuildFailed, Log: []string{"No match for argument: doca-openvswitch", "Error: Unable to find a match: doca-openvswitch"}},
			id: CausePackage, details: map[string]string{"package": "doca-openvswitch"},
		},
		{
			name: "bootc lint", in: ClassifyInput{State: BuildFailed, Log: readLines(t, "lint.log")},
			id: CauseLint, details: map[string]string{"check": "var-tmpfiles"},
		},
		{
			name: "base image pull denied", in: ClassifyInput{State: BuildFailed, Message: "Failed: Build Failed", Terminations: []string{
				"Error: creating build container: initializing source docker://quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:5555555555555555555555555555555555555555555555555555555555555555: reading manifest sha256:5555555555555555555555555555555555555555555555555555555555555555 in quay.io/openshift-release-dev/ocp-v4.0-art-dev: unauthorized: access to the requested resource is not authorized"}},
			id: CauseBasePullDenied, details: map[string]string{"registry": "quay.io"},
		},
		{
			name: "push 401", in: ClassifyInput{State: BuildFailed, Log: []string{
				"Copying config sha256:0a1b",
				`Error: pushing image "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:worker-51b0" to "docker://image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:worker-51b0": writing blob: initiating layer upload to /v2/openshift-machine-config-operator/os-image/blobs/uploads/ in image-registry.openshift-image-registry.svc:5000: unauthorized: authentication required`}},
			id: CausePushDenied, details: map[string]string{"status": "401", "registry": "image-registry.openshift-image-registry.svc:5000"},
			summary: []string{"401"},
		},
		{
			name: "push 403", in: ClassifyInput{State: BuildFailed, Log: []string{
				`Error: pushing image "quay.io/acme/os-image:worker" to "docker://quay.io/acme/os-image:worker": writing blob: initiating layer upload to /v2/acme/os-image/blobs/uploads/ in quay.io: denied: requested access to the resource is denied`}},
			id: CausePushDenied, details: map[string]string{"status": "403", "registry": "quay.io", "image": "quay.io/acme/os-image:worker"},
		},
		{
			name: "out of disk", in: ClassifyInput{State: BuildFailed, Log: []string{
				"Running transaction test",
				"Error: Transaction test error:",
				"  installing package doca-all-3.3.0-1.el9.x86_64 needs 412MB more space on the / filesystem",
				"", "Error Summary", "-------------", "Disk Requirements:", "   At least 412MB more space needed on the / filesystem."}},
			id: CauseDisk, details: map[string]string{"needs": "412MB", "filesystem": "/"},
		},
		{
			name: "ENOSPC while committing", in: ClassifyInput{State: BuildFailed, Log: []string{
				`Error: committing container for step {Env:[] Command:run Args:[dnf install -y doca-all]}: copying layers and metadata for container "4f1c": writing blob: storing blob to file "/var/tmp/buildah123/1": write /var/tmp/buildah123/1: no space left on device`}},
			id: CauseDisk,
		},
		{
			name: "interrupted", in: ClassifyInput{State: BuildInterrupted, Log: []string{"STEP 3/8: RUN dnf install -y doca-all", `level=error msg="received signal terminated, exiting"`}},
			id: CauseInterrupted,
		},
		{
			name: "unknown keeps the tail", in: ClassifyInput{State: BuildFailed, Log: []string{"STEP 7/8: RUN /usr/local/bin/setup.sh", "setup.sh: line 3: frobnicate: command not found",
				`Error: building at STEP "RUN /usr/local/bin/setup.sh": while running runtime: exit status 127`}},
			id: CauseUnknown, summary: []string{"a build step failed"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Classify(tc.in)
			if c.ID != tc.id {
				t.Fatalf("cause %q, want %q: %+v", c.ID, tc.id, c)
			}
			for k, v := range tc.details {
				if c.Details[k] != v {
					t.Errorf("details[%s] = %q, want %q (all: %v)", k, c.Details[k], v, c.Details)
				}
			}
			for _, s := range tc.summary {
				if !strings.Contains(c.Summary, s) {
					t.Errorf("summary %q lacks %q", c.Summary, s)
				}
			}
			if c.Remedy == "" {
				t.Error("no remedy")
			}
			if c.ID == CauseUnknown || c.ID == CauseInterrupted {
				if len(c.LogTail) == 0 {
					t.Error("no log tail for an unclassified failure")
				}
			} else if len(c.Evidence) == 0 {
				t.Error("no evidence lines")
			}
		})
	}
}

func FuzzClassify(f *testing.F) {
	for _, n := range []string{"dnf-repo-404.txt", "dnf-gpg.txt", "conflict.log"} {
		b, err := os.ReadFile(filepath.Join("testdata", "failures", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), "Failed")
	}
	f.Add("Error: pushing image \"x\": unauthorized", "Failed")
	f.Fuzz(func(t *testing.T, log, msg string) {
		c := Classify(ClassifyInput{State: BuildFailed, Message: msg, Log: strings.Split(log, "\n")})
		if c.ID == "" || c.Summary == "" || c.Remedy == "" {
			t.Fatalf("incomplete cause %+v", c)
		}
	})
}
