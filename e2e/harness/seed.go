package harness

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	imageregistryv1 "github.com/openshift/api/imageregistry/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	operatorv1 "github.com/openshift/api/operator/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/mosc-dev/mosc/e2e/sim"
)

// Seeded names.
const (
	PullSecretNamespace = "openshift-config"
	PullSecretName      = "pull-secret"
	RegistryNamespace   = "openshift-image-registry"
	BuilderSA           = "builder"
	// BaseOSImage is the RHCOS image nodes run before layering.
	BaseOSImage = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:5c8cdaa9f6bdb5a1fa77e2e1bb8ef6cc1d7ad4e5c4e8cb3b6ad7a0c2cfc0f0ad"
	// BaseOSExtensionsImage is the release's RHCOS extensions image.
	BaseOSExtensionsImage = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
	releaseImage          = "quay.io/openshift-release-dev/ocp-release@sha256:0f2a2a7e0ca5e8ae5f8c6a2a53ad6f0d0a4e7d8f0c3f4b7b4f4a3d1c2b8e9f0a1"
)

var seedLabels = map[string]string{sim.LabelSeed: "true"}

// pullSecretAuths are the registries of a real cluster pull secret; each has
// an "email" too, which merges must keep.
var pullSecretAuths = []string{"cloud.openshift.com", "quay.io", "registry.connect.redhat.com", "registry.redhat.io"}

// SeededPullSecretAuths returns registry host → base64 auth of the seeded
// openshift-config/pull-secret, for assertions that merges lost nothing.
func (c *Cluster) SeededPullSecretAuths() map[string]string {
	out := map[string]string{}
	for _, h := range pullSecretAuths {
		out[h] = base64.StdEncoding.EncodeToString([]byte("e2e-" + strings.SplitN(h, ".", 2)[0] + ":pull-" + h))
	}
	return out
}

// Seed makes the cluster look like a fresh OpenShift cluster. It is
// idempotent: objects are created or restored to the seeded state, and Nodes
// (with their MachineConfigNodes) beyond the requested counts are deleted.
func (c *Cluster) Seed(ctx context.Context, opts Options) error {
	opts = opts.withDefaults()
	kube := c.Clients.Kube
	for _, ns := range []string{PullSecretNamespace, sim.MCONamespace, RegistryNamespace} {
		_, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("seed namespace %s: %w", ns, err)
		}
	}
	if err := c.seedPullSecret(ctx); err != nil {
		return err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: BuilderSA, Namespace: sim.MCONamespace}}
	if _, err := kube.CoreV1().ServiceAccounts(sim.MCONamespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("seed service account: %w", err)
	}
	if err := c.seedClusterVersion(ctx, opts.OpenShiftVersion); err != nil {
		return err
	}
	if err := c.seedOSImageURL(ctx, opts.OpenShiftVersion); err != nil {
		return err
	}
	if err := c.seedUpgradeState(ctx); err != nil {
		return err
	}
	if err := c.seedRegistryConfig(ctx, opts.RegistryPlatform); err != nil {
		return err
	}
	if err := c.seedInfrastructure(ctx, opts.MasterNodes+opts.WorkerNodes); err != nil {
		return err
	}
	for _, p := range []struct {
		name string
		n    int
	}{{"master", opts.MasterNodes}, {"worker", opts.WorkerNodes}} {
		if err := c.seedPool(ctx, p.name, p.n, opts); err != nil {
			return err
		}
	}
	return nil
}

// seedOSImageURL writes the ConfigMap the MCO's operator keeps for the
// release's OS images (openshift-machine-config-operator/
// machine-config-osimageurl; keys as pkg/controller/common/images.go
// ParseOSImageURLConfigMap reads them; osImageURL is blank on real
// clusters, as release-4.22's machineosbuild.go notes). Before 4.22 the
// MachineOSBuild name hashes it.
func (c *Cluster) seedOSImageURL(ctx context.Context, version string) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "machine-config-osimageurl", Namespace: sim.MCONamespace, Labels: seedLabels},
		Data: map[string]string{"baseOSContainerImage": BaseOSImage, "baseOSExtensionsContainerImage": BaseOSExtensionsImage,
			"osImageURL": "", "releaseVersion": version},
	}
	cms := c.Clients.Kube.CoreV1().ConfigMaps(sim.MCONamespace)
	_, err := cms.Create(ctx, cm, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("seed ConfigMap machine-config-osimageurl: %w", err)
	}
	return nil
}

func (c *Cluster) seedPullSecret(ctx context.Context) error {
	auths := map[string]map[string]string{}
	for h, a := range c.SeededPullSecretAuths() {
		auths[h] = map[string]string{"auth": a, "email": "e2e@mosc.dev"}
	}
	b, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		return err
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: PullSecretName, Namespace: PullSecretNamespace},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: b},
	}
	secrets := c.Clients.Kube.CoreV1().Secrets(PullSecretNamespace)
	old, err := secrets.Get(ctx, PullSecretName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = secrets.Create(ctx, s, metav1.CreateOptions{})
	case err == nil:
		old.Data, old.Labels = s.Data, nil
		_, err = secrets.Update(ctx, old, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("seed pull secret: %w", err)
	}
	return nil
}

// seedClusterVersion writes through the dynamic client with JSON patches:
// the typed spec would send signatureStores, a field the Default CRD lacks.
func (c *Cluster) seedClusterVersion(ctx context.Context, version string) error {
	cvs := c.Clients.Dynamic.Resource(configv1.GroupVersion.WithResource("clusterversions"))
	minor := version
	if parts := strings.Split(version, "."); len(parts) >= 2 {
		minor = parts[0] + "." + parts[1]
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "config.openshift.io/v1", "kind": "ClusterVersion",
		"metadata": map[string]any{"name": "version"},
		"spec":     map[string]any{"clusterID": "8a1c1b5e-7f38-4f2a-9d7e-2c4b7e0e6f11", "channel": "stable-" + minor},
	}}
	if _, err := cvs.Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("seed ClusterVersion: %w", err)
	}
	spec, _ := json.Marshal(map[string]any{"spec": map[string]any{"channel": "stable-" + minor, "desiredUpdate": nil}})
	cv, err := cvs.Patch(ctx, "version", types.MergePatchType, spec, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("seed ClusterVersion: %w", err)
	}
	started := metav1.NewTime(time.Now().Add(-27 * time.Hour).Truncate(time.Second))
	done := metav1.NewTime(started.Add(40 * time.Minute))
	st := configv1.ClusterVersionStatus{
		Desired:            configv1.Release{Version: version, Image: releaseImage, Channels: []string{"stable-" + minor}},
		History:            []configv1.UpdateHistory{{State: configv1.CompletedUpdate, StartedTime: started, CompletionTime: &done, Version: version, Image: releaseImage, Verified: false}},
		ObservedGeneration: cv.GetGeneration(),
		VersionHash:        "d1Gr5jzqxSM=",
		AvailableUpdates:   []configv1.Release{}, // required; null in a merge patch would delete it
		Conditions: []configv1.ClusterOperatorStatusCondition{
			{Type: configv1.OperatorAvailable, Status: configv1.ConditionTrue, LastTransitionTime: done, Message: "Done applying " + version},
			{Type: configv1.OperatorProgressing, Status: configv1.ConditionFalse, LastTransitionTime: done, Message: "Cluster version is " + version},
			{Type: configv1.OperatorDegraded, Status: configv1.ConditionFalse, LastTransitionTime: done},
		},
	}
	status, _ := json.Marshal(map[string]any{"status": st})
	if _, err := cvs.Patch(ctx, "version", types.MergePatchType, status, metav1.PatchOptions{}, "status"); err != nil {
		return fmt.Errorf("seed ClusterVersion status: %w", err)
	}
	return nil
}

// Registry platforms for Options.RegistryPlatform / SeedRegistry.
const (
	// PlatformBareMetal: the registry as the operator bootstraps it where
	// the platform has no storage (BareMetal, vSphere, None — SNO included):
	// Removed, reported Available=True reason Removed.
	PlatformBareMetal = "BareMetal"
	// PlatformAWS: an IPI cloud cluster's registry: Managed on S3, two
	// replicas, RollingUpdate, Available=True Ready.
	PlatformAWS = "AWS"
)

func (c *Cluster) seedRegistryConfig(ctx context.Context, platform string) error {
	return c.SeedRegistry(ctx, platform)
}

// SeedRegistry puts the registry Config "cluster" (spec and status) in the
// state the cluster-image-registry-operator leaves it in on platform, as
// openshift/cluster-image-registry-operator release-4.20 bootstraps it
// (pkg/operator/bootstrap.go: Removed when GetPlatformStorage in
// pkg/storage/storage.go gives no storage — BareMetal, vSphere, None; S3 and
// 2 replicas on AWS) and reports it (pkg/operator/status.go syncStatus,
// observedGeneration = generation).
func (c *Cluster) SeedRegistry(ctx context.Context, platform string) error {
	cfgs := c.Clients.ImageRegistry.ImageregistryV1().Configs()
	spec := imageregistryv1.ImageRegistrySpec{
		OperatorSpec:    operatorv1.OperatorSpec{ManagementState: operatorv1.Removed, LogLevel: operatorv1.Normal, OperatorLogLevel: operatorv1.Normal},
		Replicas:        1,
		RolloutStrategy: "RollingUpdate",
		HTTPSecret:      "0ad3a2c39c0b9c9ae6a7c8a40e6c5a9f",
	}
	type cond struct{ t, s, reason, msg string }
	conds := []cond{
		{"Available", "True", "Removed", "The registry is removed"},
		{"Progressing", "False", "Removed", "All registry resources are removed"},
		{"Degraded", "False", "Removed", "The registry is removed"},
		{"Removed", "True", "Removed", "The registry is removed"},
	}
	ready := int32(0)
	switch platform {
	case "", PlatformBareMetal:
	case PlatformAWS:
		spec.ManagementState = operatorv1.Managed
		spec.Replicas = 2
		spec.Storage = imageregistryv1.ImageRegistryConfigStorage{S3: &imageregistryv1.ImageRegistryConfigStorageS3{
			Bucket: "e2e-mosc-image-registry-us-east-1-abcdefghijklmnopqrstuvwxyz", Region: "us-east-1", Encrypt: true, VirtualHostedStyle: false}}
		conds = []cond{
			{"Available", "True", "Ready", "The registry is ready"},
			{"Progressing", "False", "Ready", "The registry is ready"},
			{"Degraded", "False", "", ""},
			{"Removed", "False", "", ""},
		}
		ready = 2
	default:
		return fmt.Errorf("seed image registry: unknown platform %q (want %s or %s)", platform, PlatformBareMetal, PlatformAWS)
	}
	cfg, err := cfgs.Get(ctx, "cluster", metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		cfg, err = cfgs.Create(ctx, &imageregistryv1.Config{ObjectMeta: metav1.ObjectMeta{Name: "cluster"}, Spec: spec}, metav1.CreateOptions{})
	case err == nil:
		cfg.Spec = spec
		cfg, err = cfgs.Update(ctx, cfg, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("seed image registry Config: %w", err)
	}
	then := metav1.NewTime(time.Now().Add(-26 * time.Hour).Truncate(time.Second))
	cfg.Status = imageregistryv1.ImageRegistryStatus{}
	cfg.Status.ObservedGeneration = cfg.Generation
	cfg.Status.ReadyReplicas = ready
	for _, k := range conds {
		cfg.Status.Conditions = append(cfg.Status.Conditions, operatorv1.OperatorCondition{
			Type: k.t, Status: operatorv1.ConditionStatus(k.s), Reason: k.reason, Message: k.msg, LastTransitionTime: then})
	}
	if _, err := cfgs.UpdateStatus(ctx, cfg, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("seed image registry Config status: %w", err)
	}
	return nil
}

// baseMachineConfig is the pool's stand-in for the MCO's 00-<pool> configs.
func baseMachineConfig(pool string) *mcfgv1.MachineConfig {
	ign := fmt.Sprintf(`{"ignition":{"version":"3.5.0"},"storage":{"files":[{"path":"/etc/mosc-e2e-%s","contents":{"source":"data:,seeded"},"mode":420}]}}`, pool)
	return &mcfgv1.MachineConfig{
		ObjectMeta: metav1.ObjectMeta{Name: "00-" + pool, Labels: map[string]string{sim.LabelMCRole: pool, sim.LabelSeed: "true"}},
		Spec:       mcfgv1.MachineConfigSpec{Config: runtime.RawExtension{Raw: []byte(ign)}, OSImageURL: BaseOSImage},
	}
}

func (c *Cluster) seedPool(ctx context.Context, pool string, n int, opts Options) error {
	mcs := c.Clients.MachineConfig.MachineconfigurationV1().MachineConfigs()
	base := baseMachineConfig(pool)
	got, err := mcs.Get(ctx, base.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		got, err = mcs.Create(ctx, base, metav1.CreateOptions{})
	case err == nil:
		got.Spec, got.Labels = base.Spec, base.Labels
		got, err = mcs.Update(ctx, got, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("seed MachineConfig %s: %w", base.Name, err)
	}
	rendered := sim.RenderedConfigName(pool, []*mcfgv1.MachineConfig{got}, BaseOSImage, BaseOSExtensionsImage)
	// A rendered config carries the release it was rendered for (the 4.22+
	// MachineOSBuild name hashes it) and the OS images.
	rmc := &mcfgv1.MachineConfig{
		ObjectMeta: metav1.ObjectMeta{Name: rendered, Labels: map[string]string{sim.LabelSeed: "true"},
			Annotations: map[string]string{"machineconfiguration.openshift.io/generated-by-controller-version": "e2e-sim",
				sim.AnnotationReleaseImageVersion: opts.OpenShiftVersion}},
		Spec: got.Spec,
	}
	rmc.Spec.BaseOSExtensionsContainerImage = BaseOSExtensionsImage
	if _, err := mcs.Create(ctx, rmc, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
		// Seeded before for another version: its release annotation follows.
		old, gerr := mcs.Get(ctx, rendered, metav1.GetOptions{})
		if gerr == nil {
			old.Annotations, old.Spec = rmc.Annotations, rmc.Spec
			_, err = mcs.Update(ctx, old, metav1.UpdateOptions{})
		} else {
			err = gerr
		}
		if err != nil {
			return fmt.Errorf("seed rendered MachineConfig: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("seed rendered MachineConfig: %w", err)
	}

	roleLabel := "node-role.kubernetes.io/" + pool
	mu := intstr.Parse(opts.MaxUnavailable)
	cfgRef := mcfgv1.MachineConfigPoolStatusConfiguration{
		ObjectReference: corev1.ObjectReference{Name: rendered, Kind: "MachineConfig", APIVersion: "machineconfiguration.openshift.io/v1"},
		Source:          []corev1.ObjectReference{{Kind: "MachineConfig", APIVersion: "machineconfiguration.openshift.io/v1", Name: base.Name}},
	}
	spec := mcfgv1.MachineConfigPoolSpec{
		MachineConfigSelector: &metav1.LabelSelector{MatchLabels: map[string]string{sim.LabelMCRole: pool}},
		NodeSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{roleLabel: ""}},
		MaxUnavailable:        &mu,
		Configuration:         cfgRef,
	}
	pools := c.Clients.MachineConfig.MachineconfigurationV1().MachineConfigPools()
	mcp, err := pools.Get(ctx, pool, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		mcp, err = pools.Create(ctx, &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: pool, Labels: map[string]string{
			"pools.operator.machineconfiguration.openshift.io/" + pool: "", sim.LabelSeed: "true"}}, Spec: spec}, metav1.CreateOptions{})
	case err == nil:
		mcp.Spec = spec
		mcp, err = pools.Update(ctx, mcp, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("seed MachineConfigPool %s: %w", pool, err)
	}
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	cond := func(t mcfgv1.MachineConfigPoolConditionType, s corev1.ConditionStatus, reason, msg string) mcfgv1.MachineConfigPoolCondition {
		return mcfgv1.MachineConfigPoolCondition{Type: t, Status: s, LastTransitionTime: now, Reason: reason, Message: msg}
	}
	mcp.Status = mcfgv1.MachineConfigPoolStatus{
		ObservedGeneration: mcp.Generation, Configuration: cfgRef,
		MachineCount: int32(n), UpdatedMachineCount: int32(n), ReadyMachineCount: int32(n),
		Conditions: []mcfgv1.MachineConfigPoolCondition{
			cond(mcfgv1.MachineConfigPoolRenderDegraded, corev1.ConditionFalse, "", ""),
			cond(mcfgv1.MachineConfigPoolNodeDegraded, corev1.ConditionFalse, "", ""),
			cond(mcfgv1.MachineConfigPoolDegraded, corev1.ConditionFalse, "", ""),
			cond(mcfgv1.MachineConfigPoolUpdated, corev1.ConditionTrue, "", "All nodes are updated with "+rendered),
			cond(mcfgv1.MachineConfigPoolUpdating, corev1.ConditionFalse, "", ""),
		},
		CertExpirys: []mcfgv1.CertExpiry{},
	}
	if _, err := pools.UpdateStatus(ctx, mcp, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("seed MachineConfigPool %s status: %w", pool, err)
	}
	return c.seedNodes(ctx, pool, n, rendered)
}

func nodeName(pool string, i int) string { return fmt.Sprintf("%s-%d", pool, i) }

// seedNodes creates or restores n Nodes (and MachineConfigNodes) of a pool,
// in parallel: a 1000-node pool is 3000+ requests.
func (c *Cluster) seedNodes(ctx context.Context, pool string, n int, rendered string) error {
	nodes := c.Clients.Kube.CoreV1().Nodes()
	existing, err := nodes.List(ctx, metav1.ListOptions{LabelSelector: "node-role.kubernetes.io/" + pool})
	if err != nil {
		return fmt.Errorf("seed nodes: %w", err)
	}
	want := map[string]bool{}
	for i := 0; i < n; i++ {
		want[nodeName(pool, i)] = true
	}
	have := map[string]*corev1.Node{}
	for i := range existing.Items {
		nd := &existing.Items[i]
		have[nd.Name] = nd
	}
	var jobs []func() error
	for name := range have {
		if !want[name] {
			jobs = append(jobs, func() error {
				if err := nodes.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
					return err
				}
				err := c.Clients.MachineConfig.MachineconfigurationV1().MachineConfigNodes().Delete(ctx, name, metav1.DeleteOptions{})
				if apierrors.IsNotFound(err) {
					err = nil
				}
				return err
			})
		}
	}
	for i := 0; i < n; i++ {
		name := nodeName(pool, i)
		jobs = append(jobs, func() error { return c.seedNode(ctx, pool, name, rendered, have[name]) })
	}
	return parallel(ctx, 32, jobs)
}

func parallel(ctx context.Context, workers int, jobs []func() error) error {
	ch := make(chan func() error)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				if err := j(); err != nil {
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
				}
			}
		}()
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		ch <- j
	}
	close(ch)
	wg.Wait()
	if len(errs) > 0 {
		sort.Strings(errs)
		if len(errs) > 5 {
			errs = append(errs[:5], fmt.Sprintf("… and %d more", len(errs)-5))
		}
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return ctx.Err()
}

func (c *Cluster) seedNode(ctx context.Context, pool, name, rendered string, old *corev1.Node) error {
	nodes := c.Clients.Kube.CoreV1().Nodes()
	labels := map[string]string{
		"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
		"beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
		"node-role.kubernetes.io/" + pool: "", "node.openshift.io/os_id": "rhcos",
	}
	var taints []corev1.Taint
	if pool == "master" {
		labels["node-role.kubernetes.io/control-plane"] = ""
		taints = []corev1.Taint{{Key: "node-role.kubernetes.io/master", Effect: corev1.TaintEffectNoSchedule}}
	}
	annotations := map[string]string{
		sim.AnnotationCurrentConfig: rendered, sim.AnnotationDesiredConfig: rendered,
		sim.AnnotationState: sim.StateDone, sim.AnnotationReason: "",
		"machineconfiguration.openshift.io/controlPlaneTopology": "HighlyAvailable",
	}
	var node *corev1.Node
	var err error
	if old == nil {
		node, err = nodes.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: annotations},
			Spec: corev1.NodeSpec{Taints: taints}}, metav1.CreateOptions{})
	} else {
		old.Labels, old.Annotations = labels, annotations
		old.Spec.Taints, old.Spec.Unschedulable = taints, false
		node, err = nodes.Update(ctx, old, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("seed node %s: %w", name, err)
	}
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	node.Status = corev1.NodeStatus{
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}, {Type: corev1.NodeHostName, Address: name}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(c.Kubelet.Port())}},
		Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now},
		},
		Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("128Gi"), corev1.ResourcePods: resource.MustParse("250"), "hugepages-1Gi": resource.MustParse("16Gi")},
		Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("31500m"), corev1.ResourceMemory: resource.MustParse("110Gi"), corev1.ResourcePods: resource.MustParse("250"), "hugepages-1Gi": resource.MustParse("16Gi")},
		NodeInfo: corev1.NodeSystemInfo{
			OSImage: "Red Hat Enterprise Linux CoreOS 9.6.20251110-1 (Plow)", KernelVersion: "5.14.0-570.62.1.el9_6.x86_64",
			OperatingSystem: "linux", Architecture: "amd64", KubeletVersion: "v1.33.5", ContainerRuntimeVersion: "cri-o://1.33.5-3.rhaos4.20.gitd0ea985.el9",
			MachineID: name, SystemUUID: name, BootID: "boot-0",
		},
	}
	if _, err := nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("seed node %s status: %w", name, err)
	}
	return c.seedMCN(ctx, pool, name, rendered)
}

func (c *Cluster) seedMCN(ctx context.Context, pool, name, rendered string) error {
	mcns := c.Clients.MachineConfig.MachineconfigurationV1().MachineConfigNodes()
	spec := mcfgv1.MachineConfigNodeSpec{
		Node: mcfgv1.MCOObjectReference{Name: name}, Pool: mcfgv1.MCOObjectReference{Name: pool},
		ConfigVersion: mcfgv1.MachineConfigNodeSpecMachineConfigVersion{Desired: rendered},
	}
	mcn, err := mcns.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		mcn, err = mcns.Create(ctx, &mcfgv1.MachineConfigNode{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}, metav1.CreateOptions{})
	case err == nil:
		mcn.Spec = spec
		mcn, err = mcns.Update(ctx, mcn, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("seed MachineConfigNode %s: %w", name, err)
	}
	mcn.Status = sim.MCNStatus(mcn, rendered, rendered, sim.StateDone, "", time.Now())
	if _, err := mcns.UpdateStatus(ctx, mcn, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("seed MachineConfigNode %s status: %w", name, err)
	}
	return nil
}
