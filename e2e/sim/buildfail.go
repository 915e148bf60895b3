package sim

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Build failure causes the simulator can play (Faults.BuildFailure). Each
// prints what the real tool prints: dnf 4 (RHEL 9's; the texts were captured
// from dnf 4.14 against a local repo, see
// internal/watch/testdata/failures), buildah and containers/image for pulls
// and pushes, bootc container lint (captured from a real build of the stack,
// internal/build/testdata).
const (
	FailRepo404      = "repo-404"
	FailGPG          = "gpg"
	FailPackage      = "package-missing"
	FailConflict     = "conflict"
	FailBasePull     = "base-pull-denied"
	FailPush401      = "push-401"
	FailPush403      = "push-403"
	FailDisk         = "disk"
	FailLint         = "lint"
	FailUnknownCause = "unknown"
)

// jobMaxRetries is the MCO's Job backoffLimit: a build fails after four
// failed pods (openshift/machine-config-operator, release-4.18 …
// release-4.22, pkg/controller/build/constants JobMaxRetries = 3;
// imagebuilder/jobimagebuilder.go MapJobStatusToBuildStatus: "Only return
// failed if there have been 4 pod failures").
const jobMaxRetries = 3

// repoInfo is the first repository of the etc-yum-repos-d ConfigMap mosc
// applies (the MCO mounts it into the build), for realistic failure text.
type repoInfo struct{ id, baseurl, gpgkey string }

func (s *Simulator) firstRepo(ctx context.Context) repoInfo {
	r := repoInfo{id: "doca", baseurl: "https://linux.mellanox.com/public/repo/doca/3.3.0/rhel9.6/x86_64/",
		gpgkey: "file:///etc/pki/rpm-gpg/GPG-KEY-Mellanox.pub"}
	cm, err := s.c.Kube.CoreV1().ConfigMaps(MCONamespace).Get(ctx, "etc-yum-repos-d", metav1.GetOptions{})
	if err != nil {
		return r
	}
	for _, data := range cm.Data {
		if found, ok := parseFirstRepo(data); ok {
			if found.gpgkey == "" {
				found.gpgkey = r.gpgkey
			}
			if !strings.HasSuffix(found.baseurl, "/") {
				found.baseurl += "/"
			}
			return found
		}
	}
	return r
}

// parseFirstRepo reads the first section of a .repo file with a baseurl.
func parseFirstRepo(data string) (repoInfo, bool) {
	var cur repoInfo
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			if cur.id != "" && cur.baseurl != "" {
				return cur, true
			}
			cur = repoInfo{id: strings.Trim(l, "[]")}
		case strings.HasPrefix(l, "baseurl="):
			cur.baseurl = strings.TrimSpace(strings.TrimPrefix(l, "baseurl="))
		case strings.HasPrefix(l, "gpgkey=") && len(strings.Fields(strings.TrimPrefix(l, "gpgkey="))) > 0:
			cur.gpgkey = strings.Fields(strings.TrimPrefix(l, "gpgkey="))[0]
		}
	}
	return cur, cur.id != "" && cur.baseurl != ""
}

// failureText is the end of the build log for a cause, and the image-build
// container's exit message.
func failureText(cause string, repo repoInfo, pushSpec, baseImage string) (log string) {
	run := `error building at STEP "RUN dnf install -y --setopt=install_weak_deps=False doca-openvswitch": while running runtime: exit status 1`
	host := strings.SplitN(pushSpec, "/", 2)[0]
	repoPath := ""
	if parts := strings.SplitN(pushSpec, "/", 2); len(parts) == 2 {
		repoPath = strings.SplitN(strings.SplitN(parts[1], "@", 2)[0], ":", 2)[0]
	}
	switch cause {
	case FailRepo404:
		return fmt.Sprintf("%-48s8.9 kB/s | 335  B     00:00    \n"+
			"Errors during downloading metadata for repository '%s':\n"+
			"  - Status code: 404 for %srepodata/repomd.xml (IP: 23.45.67.89)\n"+
			"Error: Failed to download metadata for repo '%s': Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were tried\n%s\n",
			strings.ToUpper(repo.id), repo.id, repo.baseurl, repo.id, run)
	case FailGPG:
		pkg := "doca-openvswitch-3.3.0040-1.el9.x86_64"
		return fmt.Sprintf("Downloading Packages:\n%s.rpm 722 kB/s | 6.3 MB     00:08    \n"+
			"--------------------------------------------------------------------------------\n"+
			"Total                                           603 kB/s | 6.3 MB     00:10     \n"+
			"%-48s222 kB/s | 957  B     00:00    \n"+
			"Importing GPG key 0x2BFA6FAE:\n Userid     : \"Mellanox Technologies <support@mellanox.com>\"\n"+
			" Fingerprint: 94ED 7D6D AF7C 18A1 A60D 2D5E C037 3D6D 2BFA 6FAE\n From       : %s\n"+
			"Key imported successfully\nImport of key(s) didn't help, wrong key(s)?\n"+
			"Public key for %s.rpm is not installed. Failing package is: %s\n GPG Keys are configured as: %s\n"+
			"The downloaded packages were saved in cache until the next successful transaction.\n"+
			"You can remove cached packages by executing 'dnf clean packages'.\nError: GPG check FAILED\n%s\n",
			pkg, strings.ToUpper(repo.id), repo.gpgkey, pkg, pkg, repo.gpgkey, run)
	case FailPackage:
		return "No match for argument: doca-openvswitch\nError: Unable to find a match: doca-openvswitch\n" + run + "\n"
	case FailConflict:
		return "Error: \n Problem: package doca-all-3.3.0-1.el9.x86_64 requires doca-openvswitch, but none of the providers can be installed\n" +
			"  - conflicting requests\n  - nothing provides libc.so.6(GLIBC_2.34)(64bit) needed by doca-openvswitch-3.3.0040-1.el9.x86_64\n" +
			"(try to add '--skip-broken' to skip uninstallable packages)\n" + run + "\n"
	case FailDisk:
		return "Running transaction check\nTransaction check succeeded.\nRunning transaction test\n" +
			"Error: Transaction test error:\n  installing package doca-all-3.3.0-1.el9.x86_64 needs 412MB more space on the / filesystem\n\n" +
			"Error Summary\n-------------\nDisk Requirements:\n   At least 412MB more space needed on the / filesystem.\n\n" + run + "\n"
	case FailLint:
		return "+ bootc container lint\nLint failed: var-tmpfiles: Found content in /var missing systemd tmpfiles.d entries:\n" +
			"/var/opt/mellanox/dpdk/lib64/librte_eal.so.25\nsubprocess exited with status 1\nsubprocess exited with status 1\n" +
			`error building at STEP "RUN dnf install -y doca-openvswitch && bootc container lint": while running runtime: exit status 1` + "\n"
	case FailBasePull:
		return fmt.Sprintf("Error: creating build container: initializing source docker://%s: reading manifest %s in %s: unauthorized: access to the requested resource is not authorized\n",
			baseImage, baseImage[strings.LastIndex(baseImage, "@")+1:], baseImage[:strings.LastIndex(baseImage, "@")])
	case FailPush401:
		return fmt.Sprintf("Getting image source signatures\nError: pushing image %q to \"docker://%s\": writing blob: initiating layer upload to /v2/%s/blobs/uploads/ in %s: unauthorized: authentication required\n",
			pushSpec, pushSpec, repoPath, host)
	case FailPush403:
		return fmt.Sprintf("Getting image source signatures\nError: pushing image %q to \"docker://%s\": writing blob: initiating layer upload to /v2/%s/blobs/uploads/ in %s: denied: requested access to the resource is denied\n",
			pushSpec, pushSpec, repoPath, host)
	}
	return "+ /usr/local/bin/configure-doca.sh\n/usr/local/bin/configure-doca.sh: line 12: mlxconfig: command not found\n" +
		`error building at STEP "RUN /usr/local/bin/configure-doca.sh": while running runtime: exit status 127` + "\n"
}

// terminationMessage is what a kubelet reports for a container with
// terminationMessagePolicy FallbackToLogsOnError that failed: the log's
// last 80 lines or 2048 bytes, whichever is smaller
// (k8s.io/api/core/v1 TerminationMessageFallbackToLogsOnError).
func terminationMessage(log string) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if len(lines) > 80 {
		lines = lines[len(lines)-80:]
	}
	s := strings.Join(lines, "\n")
	if len(s) > 2048 {
		s = s[len(s)-2048:]
	}
	return s
}

// failBuild plays a build that fails for cause: the Job's four attempts,
// each a pod that logs the build up to the failure and exits 1 (the Job
// controller's events with each), then the Job Failed (BackoffLimitExceeded)
// and the MachineOSBuild Failed. The objects stay, as the MCO leaves them
// "in place for inspection", until the MachineOSBuild is deleted.
func (s *Simulator) failBuild(ctx context.Context, mosbName string, mosb *mcfgv1.MachineOSBuild, job *batchv1.Job, first *corev1.Pod, steps []string, cause string) error {
	repo := s.firstRepo(ctx)
	baseImage := "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:" + strings.Repeat("5", 64)
	tailText := failureText(cause, repo, string(mosb.Spec.RenderedImagePushSpec), baseImage)
	pod := first
	for attempt := 1; attempt <= jobMaxRetries+1; attempt++ {
		if attempt > 1 {
			p, err := s.newAttemptPod(ctx, job)
			if err != nil {
				return err
			}
			pod = p
		}
		s.jobEvent(ctx, job, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: "+pod.Name)
		if err := s.setPodRunning(ctx, pod); err != nil {
			return err
		}
		var log strings.Builder
		emit := func(t string) {
			log.WriteString(t)
			if s.opts.Logs != nil {
				s.opts.Logs.Append(pod.Namespace, pod.Name, containerImageBuild, t)
			}
		}
		switch cause {
		case FailBasePull:
			// FROM fails before any step output.
		case FailPush401, FailPush403:
			for _, st := range steps {
				emit(st)
			}
		default:
			// The log up to the RUN step that fails.
			for _, st := range steps {
				if strings.Contains(st, "RUN ") {
					emit(strings.SplitN(st, "\n", 2)[0] + "\n")
					break
				}
				emit(st)
			}
		}
		emit(tailText)
		s.closeLogs(pod)
		msg := terminationMessage(log.String())
		if err := s.setPodTerminated(ctx, pod, 1, "Error", msg); err != nil {
			return err
		}
		if err := s.setJobFailed(ctx, job.Name, int32(attempt), attempt == jobMaxRetries+1); err != nil {
			return err
		}
		s.opts.Logf("sim: build %s attempt %d failed (%s)", mosbName, attempt, cause)
	}
	s.jobEvent(ctx, job, corev1.EventTypeWarning, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	return s.finishMOSB(ctx, mosbName, mosb, string(mcfgv1.MachineOSBuildFailed), "Failed", "", "Failed: Build Failed")
}

// newAttemptPod is the Job controller's next pod after a failed one.
func (s *Simulator) newAttemptPod(ctx context.Context, job *batchv1.Job) (*corev1.Pod, error) {
	pl := map[string]string{"job-name": job.Name, "batch.kubernetes.io/job-name": job.Name,
		"controller-uid": string(job.UID), "batch.kubernetes.io/controller-uid": string(job.UID)}
	for k, v := range job.Labels {
		pl[k] = v
	}
	ctrl := true
	spec := buildPodSpec(s.podShape())
	spec.NodeName = s.buildNode()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: job.Name + "-" + suffix(), Namespace: MCONamespace, Labels: pl,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID, Controller: &ctrl, BlockOwnerDeletion: &ctrl}}},
		Spec: spec,
	}
	return s.c.Kube.CoreV1().Pods(MCONamespace).Create(ctx, p, metav1.CreateOptions{})
}

// setJobFailed counts a failed pod; the last one fails the Job as the Job
// controller does (condition Failed, reason BackoffLimitExceeded).
func (s *Simulator) setJobFailed(ctx context.Context, name string, failed int32, final bool) error {
	jobs := s.c.Kube.BatchV1().Jobs(MCONamespace)
	j, err := jobs.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	j.Status.Failed = failed
	j.Status.Active = 1
	if final {
		now := metav1.Now()
		j.Status.Active = 0
		j.Status.Conditions = append(j.Status.Conditions,
			batchv1.JobCondition{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastProbeTime: now, LastTransitionTime: now},
			batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastProbeTime: now, LastTransitionTime: now})
	}
	_, err = jobs.UpdateStatus(ctx, j, metav1.UpdateOptions{})
	return err
}

// jobEvent records an event of the Job controller ("job-controller").
func (s *Simulator) jobEvent(ctx context.Context, job *batchv1.Job, typ, reason, msg string) {
	now := metav1.Now()
	e := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{GenerateName: job.Name + ".", Namespace: MCONamespace},
		InvolvedObject: corev1.ObjectReference{Kind: "Job", Namespace: MCONamespace, Name: job.Name, UID: job.UID, APIVersion: "batch/v1"},
		Reason:         reason, Message: msg, Type: typ, Count: 1, FirstTimestamp: now, LastTimestamp: now,
		Source: corev1.EventSource{Component: "job-controller"},
	}
	if _, err := s.c.Kube.CoreV1().Events(MCONamespace).Create(ctx, e, metav1.CreateOptions{}); err != nil {
		s.opts.Logf("sim: event %s on job %s: %v", reason, job.Name, err)
	}
}

// machineConfigConfigMap is the MCO's mc-M ConfigMap: the rendered
// MachineConfig as JSON, gzipped and base64-encoded under
// machineconfig.json.gz (release-4.18 … release-4.22,
// pkg/controller/build/buildrequest/buildrequest.go machineconfigToConfigMap).
// A real rendered config carries the cluster pull secret in
// /var/lib/kubelet/config.json (templates/common/_base/files/pull-secret.yaml),
// so the simulator adds it when the test's config lacks it: mosc must not
// save it.
func (s *Simulator) machineConfigConfigMap(ctx context.Context, mosbName string, l map[string]string, rendered string) (*corev1.ConfigMap, error) {
	mc, err := s.c.MachineConfig.MachineconfigurationV1().MachineConfigs().Get(ctx, rendered, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(mc)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	pull := `{"auths":{}}`
	if sec, err := s.c.Kube.CoreV1().Secrets("openshift-config").Get(ctx, "pull-secret", metav1.GetOptions{}); err == nil {
		pull = string(sec.Data[corev1.DockerConfigJsonKey])
	}
	spec, _ := obj["spec"].(map[string]any)
	cfg, _ := spec["config"].(map[string]any)
	if cfg == nil {
		cfg = map[string]any{"ignition": map[string]any{"version": "3.5.0"}}
		spec["config"] = cfg
	}
	storage, _ := cfg["storage"].(map[string]any)
	if storage == nil {
		storage = map[string]any{}
		cfg["storage"] = storage
	}
	files, _ := storage["files"].([]any)
	storage["files"] = append(files, map[string]any{"path": "/var/lib/kubelet/config.json", "mode": 384, "overwrite": true,
		"contents": map[string]any{"source": "data:," + url.PathEscape(pull)}})
	js, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(js); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "mc-" + mosbName, Namespace: MCONamespace, Labels: l},
		Data: map[string]string{"machineconfig.json.gz": base64.StdEncoding.EncodeToString(gz.Bytes())}}
	created, err := s.c.Kube.CoreV1().ConfigMaps(MCONamespace).Create(ctx, cm, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return cm, nil
	}
	return created, err
}

// pushErrorLine is buildah's line for a failed push (buildah push /
// containers/image: "pushing image REF to docker://REF: writing blob:
// initiating layer upload to /v2/REPO/blobs/uploads/ in HOST: ERR").
func pushErrorLine(pushSpec string, err error) string {
	host, repo, _ := strings.Cut(pushSpec, "/")
	repo = strings.SplitN(strings.SplitN(repo, "@", 2)[0], ":", 2)[0]
	return fmt.Sprintf("Error: pushing image %q to \"docker://%s\": writing blob: initiating layer upload to /v2/%s/blobs/uploads/ in %s: %v\n", pushSpec, pushSpec, repo, host, err)
}
