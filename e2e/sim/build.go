package sim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mosc-dev/mosc/internal/watch"
)

// AnnotationSimInstallsDoca marks a MOSB whose Containerfile installs OVS-DOCA,
// so nodes booted from its image report doca-openvswitch.
const AnnotationSimInstallsDoca = "sim.mosc.dev/installs-doca"

type buildCondition struct {
	stage           string // buildNone, buildPending, buildRunning, buildSucceeded, buildFailed, buildInterrupted
	degraded        bool
	reason, message string
}

const (
	buildNone        = ""
	buildPending     = "pending"
	buildRunning     = "building"
	buildSucceeded   = "succeeded"
	buildFailed      = "failed"
	buildInterrupted = "interrupted"
)

var installsDoca = regexp.MustCompile(`\bdoca-(openvswitch|all|networking|ofed)\b`)

// MachineOSBuildName is the MCO's deterministic MOSB name, from the inputs
// each release hashes (see watch.MachineOSBuildName, whose unit test pins
// it to values computed by MCO's code): 4.18–4.21 the
// machine-config-osimageurl ConfigMap (release-4.20,
// pkg/controller/build/reconciler.go createNewMachineOSBuildOrReuseExisting
// → ctrlcommon.GetOSImageURLConfig), 4.22 on the pool's rendered
// MachineConfig (release-4.22, same function). Like the MCO, no input, no
// build.
func (s *Simulator) MachineOSBuildName(ctx context.Context, mosc *mcfgv1.MachineOSConfig, pool *mcfgv1.MachineConfigPool) (string, error) {
	var img watch.OSImageURLConfig
	if v := s.minorVersion(); v != 0 && v < 22 {
		cm, err := s.c.Kube.CoreV1().ConfigMaps(MCONamespace).Get(ctx, watch.OSImageURLConfigMap, metav1.GetOptions{})
		if err != nil {
			return "", fmt.Errorf("could not get OSImageURLConfig: %w", err)
		}
		if img, err = watch.OSImageURLFromConfigMap(cm.Data); err != nil {
			return "", err
		}
	} else {
		mc, err := s.c.MachineConfig.MachineconfigurationV1().MachineConfigs().Get(ctx, pool.Spec.Configuration.Name, metav1.GetOptions{})
		if err != nil {
			return "", fmt.Errorf("could not get rendered MachineConfig: %w", err)
		}
		if img, err = watch.OSImageURLFromRenderedConfig(mc); err != nil {
			return "", err
		}
	}
	return watch.MachineOSBuildName(mosc, pool, img)
}

func (s *Simulator) moscForPool(pool string) *mcfgv1.MachineOSConfig {
	all, _ := s.moscs.List(labels.Everything())
	for _, m := range all {
		if m.Spec.MachineConfigPool.Name == pool && m.DeletionTimestamp == nil {
			return m
		}
	}
	return nil
}

func conditionTrue(conds []metav1.Condition, t string) bool {
	return meta.IsStatusConditionTrue(conds, t)
}

func terminal(b *mcfgv1.MachineOSBuild) bool {
	c := b.Status.Conditions
	return conditionTrue(c, string(mcfgv1.MachineOSBuildSucceeded)) || conditionTrue(c, string(mcfgv1.MachineOSBuildFailed)) ||
		conditionTrue(c, string(mcfgv1.MachineOSBuildInterrupted))
}

// reconcileBuild plays the build controller for one pool and returns what
// the pool's nodes should run.
func (s *Simulator) reconcileBuild(ctx context.Context, pool *mcfgv1.MachineConfigPool) (target, *buildCondition, error) {
	mosc := s.moscForPool(pool.Name)
	if mosc == nil {
		if err := s.syncGlobalPullSecretCopy(ctx); err != nil {
			return target{}, nil, err
		}
		// Layering off (or turned off): MOSBs go, nodes return to the base image.
		if err := s.deleteBuildsOf(ctx, pool.Name, ""); err != nil {
			return target{}, nil, err
		}
		return target{config: pool.Spec.Configuration.Name}, &buildCondition{stage: buildNone, reason: "NoBuild"}, nil
	}
	hold := target{config: pool.Status.Configuration.Name, image: string(mosc.Status.CurrentImagePullSpec), hold: true}
	mosbName, err := s.MachineOSBuildName(ctx, mosc, pool)
	if err != nil {
		return target{}, nil, err
	}

	if _, ok := mosc.Annotations[AnnotationRebuild]; ok && s.honoursRebuild() {
		// The MCO deletes the build the current-machine-os-build annotation
		// names, not the one for the spec (rebuild.go).
		if cur := mosc.Annotations[AnnotationCurrentMOSB]; cur != "" {
			if err := s.deleteBuild(ctx, cur); err != nil {
				return target{}, nil, err
			}
		}
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:null}}}`, AnnotationRebuild)
		if _, err := s.c.MachineConfig.MachineconfigurationV1().MachineOSConfigs().Patch(ctx, mosc.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return target{}, nil, fmt.Errorf("MOSC %s: clear rebuild annotation: %w", mosc.Name, err)
		}
		s.opts.Logf("sim: MOSC %s rebuild requested: MOSB %s replaced", mosc.Name, mosc.Annotations[AnnotationCurrentMOSB])
		return hold, nil, nil
	}

	mosb, err := s.mosbs.Get(mosbName)
	if err == nil && s.isDeleted(mosb.UID) {
		mosb, err = nil, apierrors.NewNotFound(mcfgv1.Resource("machineosbuilds"), mosbName)
	}
	if apierrors.IsNotFound(err) {
		if s.releaseRenderPending(ctx, pool.Name, pool.Spec.Configuration.Name) {
			return hold, nil, nil // upgrade.go
		}
		if mosb, err = s.createMOSB(ctx, mosc, pool, mosbName); err != nil {
			return target{}, nil, err
		}
	} else if err != nil {
		return target{}, nil, err
	}
	conds := mosb.Status.Conditions
	if mosc.Annotations[AnnotationCurrentMOSB] != mosbName {
		// The MCO moves the annotation (and clears ImageBuildDegraded) only
		// once the new build's Job exists (openshift/machine-config-operator,
		// release-4.18 … release-4.22, pkg/controller/build/reconciler.go:
		// startBuild stops the other builds, starts the Job, then calls
		// updateMachineOSConfigStatus). Until then the MOSC names the previous
		// build and the pool keeps its build conditions. A finished build the
		// spec returns to is reused at once
		// (reuseExistingMachineOSBuildIfPossible).
		if !conditionTrue(conds, string(mcfgv1.MachineOSBuildSucceeded)) {
			s.ensureBuildRunning(ctx, mosbName)
			return hold, nil, nil
		}
		if _, err := s.startBuild(ctx, mosc.Name, mosbName); err != nil {
			return target{}, nil, err
		}
		return hold, nil, nil // the MOSC update comes back as an event
	}
	switch {
	case conditionTrue(conds, string(mcfgv1.MachineOSBuildSucceeded)):
		digested := mosb.Status.DigestedImagePushSpec
		// Before 4.21 the MCO sets observedGeneration only together with a
		// new currentImagePullSpec (release-4.18 … release-4.20,
		// reconciler.go updateMachineOSConfigStatus): a spec reverted during
		// a build leaves it behind for good. From 4.21 it also follows the
		// annotation (setCurrentBuild).
		if mosc.Status.CurrentImagePullSpec != digested {
			m := mosc.DeepCopy()
			m.Status.CurrentImagePullSpec = digested
			m.Status.ObservedGeneration = mosc.Generation
			if _, err := s.c.MachineConfig.MachineconfigurationV1().MachineOSConfigs().UpdateStatus(ctx, m, metav1.UpdateOptions{}); err != nil {
				return target{}, nil, fmt.Errorf("MOSC %s status: %w", mosc.Name, err)
			}
			s.opts.Logf("sim: MOSC %s currentImagePullSpec %s", mosc.Name, digested)
		}
		return target{config: mosb.Spec.MachineConfig.Name, image: string(digested)}, &buildCondition{stage: buildSucceeded, reason: "BuildSucceeded", message: "Build " + mosbName + " succeeded"}, nil
	case conditionTrue(conds, string(mcfgv1.MachineOSBuildFailed)), conditionTrue(conds, string(mcfgv1.MachineOSBuildInterrupted)):
		c := meta.FindStatusCondition(conds, string(mcfgv1.MachineOSBuildFailed))
		stage := buildFailed
		if !conditionTrue(conds, string(mcfgv1.MachineOSBuildFailed)) {
			c = meta.FindStatusCondition(conds, string(mcfgv1.MachineOSBuildInterrupted))
			stage = buildInterrupted
		}
		if d := s.degradedHeld(mosb.UID); d > 0 {
			s.queue.AddAfter(keyPool+pool.Name, d) // buildorder.go: the pool learns later
			return hold, nil, nil
		}
		return hold, &buildCondition{stage: stage, degraded: true, reason: "BuildFailed",
			message: poolDegradedMessage(pool.Name, mosbName, c.Reason, c.Message)}, nil
	default:
		s.ensureBuildRunning(ctx, mosbName)
		if c := s.earlyDegraded(mosb.UID); c != nil {
			return hold, c, nil // buildorder.go: the pool learns first
		}
		stage := buildPending
		if conditionTrue(conds, string(mcfgv1.MachineOSBuilding)) {
			stage = buildRunning
		}
		return hold, &buildCondition{stage: stage, reason: "BuildPending", message: "Build " + mosbName + " in progress"}, nil
	}
}

// setCurrentBuild moves the MOSC's current-machine-os-build annotation;
// from 4.21 observedGeneration follows (release-4.21,
// pkg/controller/build/reconciler.go updateMachineOSConfigStatus: "When
// annotations are updated (new build starts), also update
// observedGeneration").
func (s *Simulator) setCurrentBuild(ctx context.Context, moscName, mosbName string) error {
	mc := s.c.MachineConfig.MachineconfigurationV1().MachineOSConfigs()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, AnnotationCurrentMOSB, mosbName)
	m, err := mc.Patch(ctx, moscName, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("MOSC %s: annotate current build: %w", moscName, err)
	}
	s.opts.Logf("sim: MOSC %s current build %s", moscName, mosbName)
	if v := s.minorVersion(); (v == 0 || v >= 21) && m.Status.ObservedGeneration != m.Generation {
		m.Status.ObservedGeneration = m.Generation
		if _, err := mc.UpdateStatus(ctx, m, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("MOSC %s observedGeneration: %w", moscName, err)
		}
	}
	return nil
}

// startBuild stops the MOSC's other builds and makes mosbName its current
// build, unless the MOSC or its pool changed while this build was being
// prepared and now want another build: then it reports superseded and
// touches nothing. The MCO's build controller handles one object at a time
// from its work queue (openshift/machine-config-operator, release-4.18 …
// release-4.22, pkg/controller/build/osbuildcontroller.go), so a build it
// has already replaced never stops the one that replaced it; startMu plays
// that queue, and the check reads the live objects, not the informers' copies.
func (s *Simulator) startBuild(ctx context.Context, moscName, mosbName string) (superseded bool, err error) {
	s.startMu.Lock()
	defer s.startMu.Unlock()
	mcapi := s.c.MachineConfig.MachineconfigurationV1()
	mosc, err := mcapi.MachineOSConfigs().Get(ctx, moscName, metav1.GetOptions{})
	if err != nil {
		return false, err
	}
	if mosc.Annotations[AnnotationCurrentMOSB] == mosbName {
		return false, nil
	}
	pool, err := mcapi.MachineConfigPools().Get(ctx, mosc.Spec.MachineConfigPool.Name, metav1.GetOptions{})
	if err != nil {
		return false, err
	}
	want, err := s.MachineOSBuildName(ctx, mosc, pool)
	if err != nil {
		return false, err
	}
	if want != mosbName {
		s.opts.Logf("sim: MOSB %s superseded by %s before its build started", mosbName, want)
		return true, nil
	}
	if err := s.stopOtherBuilds(ctx, mosc, mosbName); err != nil {
		return false, err
	}
	return false, s.setCurrentBuild(ctx, mosc.Name, mosbName)
}

// stopOtherBuilds plays deleteOtherBuildsForMachineOSConfig
// (pkg/controller/build/reconciler.go, release-4.18 … release-4.22): every
// other build of the MOSC that has not succeeded is deleted. One still
// running first turns Interrupted (its Job is gone) and stays so for a
// moment, while the MOSC annotation still names it.
func (s *Simulator) stopOtherBuilds(ctx context.Context, mosc *mcfgv1.MachineOSConfig, keep string) error {
	all, err := s.mosbs.List(labels.SelectorFromSet(labels.Set{LabelMachineOSConfig: mosc.Name}))
	if err != nil {
		return err
	}
	for _, b := range all {
		if b.Name == keep || s.isDeleted(b.UID) || conditionTrue(b.Status.Conditions, string(mcfgv1.MachineOSBuildSucceeded)) {
			continue
		}
		if !terminal(b) {
			s.mu.Lock()
			if cancel, ok := s.builds[b.Name]; ok {
				cancel()
			}
			s.mu.Unlock()
			if err := s.finishMOSB(ctx, b.Name, b, string(mcfgv1.MachineOSBuildInterrupted), "Interrupted", "", "Build Interrupted: superseded by MachineOSBuild "+keep); err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(InterruptedVisible):
			}
		}
		if err := s.deleteBuild(ctx, b.Name); err != nil {
			return err
		}
		s.opts.Logf("sim: MOSB %s deleted (superseded by %s)", b.Name, keep)
	}
	return nil
}

// InterruptedVisible is how long a superseded build shows Interrupted
// before the simulator deletes it.
const InterruptedVisible = 500 * time.Millisecond

func (s *Simulator) isDeleted(uid types.UID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleted[uid]
}

func buildConditions(stage string, reason, msg string, now metav1.Time) []metav1.Condition {
	mk := func(t mcfgv1.BuildProgress, r string) metav1.Condition {
		st := metav1.ConditionFalse
		m := ""
		if string(t) == stage {
			st, m = metav1.ConditionTrue, msg
		}
		if m == "" {
			m = string(t)
		}
		return metav1.Condition{Type: string(t), Status: st, Reason: r, Message: m, LastTransitionTime: now}
	}
	conds := []metav1.Condition{
		mk(mcfgv1.MachineOSBuildPrepared, "Prepared"),
		mk(mcfgv1.MachineOSBuilding, "Building"),
		mk(mcfgv1.MachineOSBuildSucceeded, "Ready"),
		mk(mcfgv1.MachineOSBuildFailed, "Failed"),
		mk(mcfgv1.MachineOSBuildInterrupted, "Interrupted"),
	}
	if reason != "" {
		for i := range conds {
			if conds[i].Type == stage {
				conds[i].Reason = reason
			}
		}
	}
	return conds
}

func jobName(mosb string) string { return "build-" + mosb }

func (s *Simulator) createMOSB(ctx context.Context, mosc *mcfgv1.MachineOSConfig, pool *mcfgv1.MachineConfigPool, name string) (*mcfgv1.MachineOSBuild, error) {
	ann := map[string]string{AnnotationRenderedImagePushSecret: mosc.Spec.RenderedImagePushSecret.Name}
	if installsDoca.MatchString(userContainerfile(mosc)) {
		ann[AnnotationSimInstallsDoca] = "true"
	}
	b := &mcfgv1.MachineOSBuild{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: ann, Labels: map[string]string{
			LabelTargetPool: pool.Name, LabelRenderedConfig: pool.Spec.Configuration.Name, LabelMachineOSConfig: mosc.Name,
		}},
		Spec: mcfgv1.MachineOSBuildSpec{
			MachineConfig:         mcfgv1.MachineConfigReference{Name: pool.Spec.Configuration.Name},
			MachineOSConfig:       mcfgv1.MachineOSConfigReference{Name: mosc.Name},
			RenderedImagePushSpec: s.buildPushSpec(mosc, name), // imagetags.go
		},
	}
	mosbs := s.c.MachineConfig.MachineconfigurationV1().MachineOSBuilds()
	created, err := mosbs.Create(ctx, b, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return mosbs.Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("create MOSB %s: %w", name, err)
	}
	created.Status = mcfgv1.MachineOSBuildStatus{
		Conditions: buildConditions(string(mcfgv1.MachineOSBuildPrepared), "", "Build Prepared and Pending", metav1.Now()),
		Builder: &mcfgv1.MachineOSBuilderReference{ImageBuilderType: mcfgv1.JobBuilder,
			Job: &mcfgv1.ObjectReference{Group: "batch", Resource: "jobs", Namespace: MCONamespace, Name: jobName(name)}},
	}
	created, err = mosbs.UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("MOSB %s status: %w", name, err)
	}
	s.opts.Logf("sim: MOSB %s created (Prepared)", name)
	return created, nil
}

func userContainerfile(mosc *mcfgv1.MachineOSConfig) string {
	for _, cf := range mosc.Spec.Containerfile {
		if cf.ContainerfileArch == mcfgv1.NoArch || cf.ContainerfileArch == "" {
			return cf.Content
		}
	}
	return "" // MCO ignores entries for other architectures
}

func (s *Simulator) ensureBuildRunning(ctx context.Context, mosb string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.builds[mosb]; ok {
		return
	}
	bctx, cancel := context.WithCancel(ctx)
	s.builds[mosb] = cancel
	go func() {
		defer func() {
			s.mu.Lock()
			delete(s.builds, mosb)
			s.mu.Unlock()
			cancel()
		}()
		if err := s.runBuild(bctx, mosb); err != nil && bctx.Err() == nil {
			s.mu.Lock()
			s.buildFailures[mosb]++
			n := s.buildFailures[mosb]
			s.mu.Unlock()
			delay := min(100*time.Millisecond<<min(n, 6), 5*time.Second)
			s.opts.Logf("sim: build %s: %v (retry %d in %s)", mosb, err, n, delay)
			s.noteRejected(err)
			select {
			case <-bctx.Done():
			case <-time.After(delay):
			}
		} else {
			s.mu.Lock()
			delete(s.buildFailures, mosb)
			s.mu.Unlock()
		}
		if bctx.Err() == nil {
			if b, err := s.mosbs.Get(mosb); err == nil {
				s.queue.Add(keyPool + b.Labels[LabelTargetPool])
			}
		}
	}()
}

// deleteBuild removes a MOSB and its build objects (the rebuild annotation,
// or a deleted MOSC).
func (s *Simulator) deleteBuild(ctx context.Context, mosb string) error {
	s.mu.Lock()
	if cancel, ok := s.builds[mosb]; ok {
		cancel()
	}
	s.mu.Unlock()
	if b, err := s.mosbs.Get(mosb); err == nil {
		s.mu.Lock()
		s.deleted[b.UID] = true
		s.mu.Unlock()
	}
	now := deleteNow()
	err := s.c.MachineConfig.MachineconfigurationV1().MachineOSBuilds().Delete(ctx, mosb, now)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete MOSB %s: %w", mosb, err)
	}
	return s.deleteBuildObjects(ctx, mosb)
}

func deleteNow() metav1.DeleteOptions {
	bg := metav1.DeletePropagationBackground
	return metav1.DeleteOptions{GracePeriodSeconds: new(int64), PropagationPolicy: &bg}
}

func (s *Simulator) deleteBuildObjects(ctx context.Context, mosb string) error {
	kube := s.c.Kube
	now := deleteNow()
	sel := metav1.ListOptions{LabelSelector: LabelMachineOSBuild + "=" + mosb}
	podSel := metav1.ListOptions{LabelSelector: "job-name=" + jobName(mosb)}
	if s.opts.Logs != nil {
		if pods, err := kube.CoreV1().Pods(MCONamespace).List(ctx, podSel); err == nil {
			for _, p := range pods.Items {
				s.opts.Logs.Forget(p.Namespace, p.Name)
			}
		}
	}
	if err := kube.CoreV1().Pods(MCONamespace).DeleteCollection(ctx, now, podSel); err != nil {
		return err
	}
	if err := kube.BatchV1().Jobs(MCONamespace).Delete(ctx, jobName(mosb), now); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if err := kube.CoreV1().ConfigMaps(MCONamespace).DeleteCollection(ctx, now, sel); err != nil {
		return err
	}
	return kube.CoreV1().Secrets(MCONamespace).DeleteCollection(ctx, now, sel)
}

func (s *Simulator) deleteBuildsOf(ctx context.Context, mosc, keep string) error {
	all, err := s.mosbs.List(labels.SelectorFromSet(labels.Set{LabelMachineOSConfig: mosc}))
	if err != nil {
		return err
	}
	for _, b := range all {
		if b.Name == keep || s.isDeleted(b.UID) {
			continue
		}
		if err := s.deleteBuild(ctx, b.Name); err != nil {
			return err
		}
		s.opts.Logf("sim: MOSB %s deleted (MOSC %s gone)", b.Name, mosc)
	}
	return nil
}

// runBuild plays the build Job: objects, pod, log, push, conditions.
func (s *Simulator) runBuild(ctx context.Context, mosbName string) error {
	mcapi := s.c.MachineConfig.MachineconfigurationV1()
	kube := s.c.Kube
	mosb, err := mcapi.MachineOSBuilds().Get(ctx, mosbName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if terminal(mosb) {
		return nil
	}
	mosc, err := mcapi.MachineOSConfigs().Get(ctx, mosb.Spec.MachineOSConfig.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	jn := jobName(mosbName)
	objLabels := map[string]string{LabelMachineOSBuild: mosbName, LabelMachineOSConfig: mosc.Name, LabelTargetPool: mosb.Labels[LabelTargetPool], LabelOnClusterBuild: ""}
	containerfile := fullContainerfile(mosc, mosb)

	// Build inputs the MCO prepares, kept on failure for debugging.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "containerfile-" + mosbName, Namespace: MCONamespace, Labels: objLabels},
		Data: map[string]string{"Containerfile": containerfile}}
	if _, err := kube.CoreV1().ConfigMaps(MCONamespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	if _, err := s.machineConfigConfigMap(ctx, mosbName, objLabels, mosb.Spec.MachineConfig.Name); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	pushSecret, pushErr := s.pushSecret(ctx, mosc)
	// The operator keeps global-pull-secret-copy in sync; the build reads
	// its base image pull secret when it starts (pullsecret.go).
	if err := s.syncGlobalPullSecretCopy(ctx); err != nil {
		return err
	}
	baseSecret, baseErr := s.basePullSecret(ctx, mosc)
	for _, sec := range []struct{ name, from string }{{"final-" + mosbName, mosc.Spec.RenderedImagePushSecret.Name}} {
		if pushSecret == nil {
			break
		}
		c := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: sec.name, Namespace: MCONamespace, Labels: objLabels},
			Type: pushSecret.Type, Data: pushSecret.Data}
		if _, err := kube.CoreV1().Secrets(MCONamespace).Create(ctx, c, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	if d := s.getFaults().BuildPrepare; d > 0 && mosc.Annotations[AnnotationCurrentMOSB] != mosbName {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
	job, err := s.ensureJob(ctx, jn, objLabels)
	if err != nil {
		return err
	}
	pod, err := s.ensurePod(ctx, job, objLabels)
	if err != nil {
		return err
	}
	if mosc.Annotations[AnnotationCurrentMOSB] != mosbName {
		if superseded, err := s.startBuild(ctx, mosc.Name, mosbName); err != nil || superseded {
			return err
		}
	}
	now := metav1.Now()
	if !conditionTrue(mosb.Status.Conditions, string(mcfgv1.MachineOSBuilding)) {
		mosb.Status.Conditions = buildConditions(string(mcfgv1.MachineOSBuilding), "", "Image Build In Progress", now)
		if mosb.Status.BuildStart == nil {
			mosb.Status.BuildStart = &now
		}
		// No relatedObjects: the CRD's CEL rule rejects group "" (core
		// ConfigMaps/Secrets) although its own description shows "" as an example.
		if mosb, err = mcapi.MachineOSBuilds().UpdateStatus(ctx, mosb, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("MOSB %s Building: %w", mosbName, err)
		}
		s.opts.Logf("sim: MOSB %s Building", mosbName)
	}
	// Resuming after an error between the pod's end and the MOSB update.
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		cm, err := kube.CoreV1().ConfigMaps(MCONamespace).Get(ctx, "digest-"+mosbName, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("resume %s: digest ConfigMap: %w", mosbName, err)
		}
		ref, err := name.ParseReference(string(mosb.Spec.RenderedImagePushSpec), name.WeakValidation)
		if err != nil {
			return err
		}
		return s.succeed(ctx, mosbName, mosb, pod, ref.Context().Name()+"@"+cm.Data["digest"])
	case corev1.PodFailed:
		msg := "Build Failed"
		for _, cs := range append(pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses...) {
			if cs.Name == containerImageBuild && cs.State.Terminated != nil {
				msg = cs.State.Terminated.Message
			}
		}
		return s.finishMOSB(ctx, mosbName, mosb, string(mcfgv1.MachineOSBuildFailed), "Failed", "", "Failed: "+msg)
	}
	if err := s.setPodRunning(ctx, pod); err != nil {
		return err
	}
	// FROM: the base image is pulled first.
	if baseErr == nil {
		baseErr = s.checkBasePull(ctx, baseSecret)
	}
	if baseErr != nil {
		if s.opts.Logs != nil {
			s.opts.Logs.Append(pod.Namespace, pod.Name, containerImageBuild, "Error: "+baseErr.Error()+"\n")
		}
		s.closeLogs(pod)
		if err := s.setPodTerminated(ctx, pod, 1, "Error", baseErr.Error()); err != nil {
			return err
		}
		return s.finishMOSB(ctx, mosbName, mosb, string(mcfgv1.MachineOSBuildFailed), "Failed", "", "Failed: "+baseErr.Error())
	}

	// The log, streamed over BuildDuration.
	f := s.getFaults()
	steps := buildLogSteps(containerfile)
	if f.BuildFailure != "" {
		return s.failBuild(ctx, mosbName, mosb, job, pod, steps, f.BuildFailure)
	}
	per := time.Duration(0)
	if f.BuildDuration > 0 {
		per = f.BuildDuration / time.Duration(len(steps)+1)
	}
	log := func(text string) {
		if s.opts.Logs != nil {
			s.opts.Logs.Append(pod.Namespace, pod.Name, containerImageBuild, text)
		}
	}
	for i, st := range steps {
		log(st)
		if per > 0 && i < len(steps)-1 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(per):
			}
		}
	}
	f = s.getFaults() // faults set during the build apply to its end
	switch {
	case f.BuildInterrupted:
		log("time=\"" + time.Now().UTC().Format(time.RFC3339) + "\" level=error msg=\"received signal terminated, exiting\"\n")
		s.closeLogs(pod)
		// The MOSB first: a retry after an error must not find the pod gone
		// and start a new one.
		if err := s.finishMOSB(ctx, mosbName, mosb, string(mcfgv1.MachineOSBuildInterrupted), "Interrupted", "", "Build pod "+pod.Name+" was deleted before the build finished"); err != nil {
			return err
		}
		if err := kube.CoreV1().Pods(MCONamespace).Delete(ctx, pod.Name, deleteNow()); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		return nil
	case f.BuildFails:
		msg := "error building at STEP \"RUN dnf install -y doca-openvswitch\": while running runtime: exit status 1"
		log("Error: Unable to find a match: doca-openvswitch\n" + msg + "\n")
		s.closeLogs(pod)
		if err := s.setPodTerminated(ctx, pod, 1, "Error", msg); err != nil {
			return err
		}
		return s.finishMOSB(ctx, mosbName, mosb, string(mcfgv1.MachineOSBuildFailed), "Failed", "", "Failed: Build Failed: "+msg)
	}
	if pushErr != nil {
		log(pushErrorLine(string(mosb.Spec.RenderedImagePushSpec), pushErr))
		s.closeLogs(pod)
		if err := s.setPodTerminated(ctx, pod, 1, "Error", pushErr.Error()); err != nil {
			return err
		}
		return s.finishMOSB(ctx, mosbName, mosb, string(mcfgv1.MachineOSBuildFailed), "Failed", "", "Failed: "+pushErr.Error())
	}
	digested, err := s.push(ctx, string(mosb.Spec.RenderedImagePushSpec), pushSecret, log)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log(pushErrorLine(string(mosb.Spec.RenderedImagePushSpec), err))
		s.closeLogs(pod)
		if err := s.setPodTerminated(ctx, pod, 1, "Error", err.Error()); err != nil {
			return err
		}
		return s.finishMOSB(ctx, mosbName, mosb, string(mcfgv1.MachineOSBuildFailed), "Failed", "", "Failed: error pushing image: "+err.Error())
	}
	log("Writing manifest to image destination\n")
	s.closeLogs(pod)
	digestCM := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "digest-" + mosbName, Namespace: MCONamespace, Labels: objLabels},
		Data: map[string]string{"digest": digested[strings.LastIndex(digested, "@")+1:]}}
	if _, err := kube.CoreV1().ConfigMaps(MCONamespace).Create(ctx, digestCM, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	if err := s.setPodTerminated(ctx, pod, 0, "Completed", ""); err != nil {
		return err
	}
	return s.succeed(ctx, mosbName, mosb, pod, digested)
}

func (s *Simulator) succeed(ctx context.Context, mosbName string, mosb *mcfgv1.MachineOSBuild, pod *corev1.Pod, digested string) error {
	if err := s.finishMOSB(ctx, mosbName, mosb, string(mcfgv1.MachineOSBuildSucceeded), "Ready", digested, "Build Ready"); err != nil {
		return err
	}
	// The MCO deletes a successful build's objects.
	if s.opts.Logs != nil {
		s.opts.Logs.Forget(pod.Namespace, pod.Name)
	}
	return s.deleteBuildObjects(ctx, mosbName)
}

func (s *Simulator) closeLogs(pod *corev1.Pod) {
	if s.opts.Logs != nil {
		s.opts.Logs.CloseLog(pod.Namespace, pod.Name, containerImageBuild)
		s.opts.Logs.CloseLog(pod.Namespace, pod.Name, containerWaitForDone)
		s.opts.Logs.CloseLog(pod.Namespace, pod.Name, containerCreateDigestCM)
	}
}

// finishMOSB moves a build to its terminal condition. The CRD wants
// buildEnd after buildStart, at metav1.Time's one-second resolution: a build
// faster than that waits out the second, as no real build is that fast. A
// build interrupted before it started has no buildStart, so it gets no
// buildEnd either: the CRD's XValidation on MachineOSBuildStatus
// (openshift/api, machineconfiguration/v1/types_machineosbuild.go, the pinned
// v0.0.0-20251015095338) requires buildStart < buildEnd whenever buildEnd is set.
func (s *Simulator) finishMOSB(ctx context.Context, name string, started *mcfgv1.MachineOSBuild, stage, reason, digested, msg string) error {
	mosbs := s.c.MachineConfig.MachineconfigurationV1().MachineOSBuilds()
	b, err := mosbs.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if terminal(b) {
		return nil // immutable once terminal
	}
	start := b.Status.BuildStart
	if start == nil {
		start = started.Status.BuildStart
	}
	if start != nil {
		if wait := time.Until(start.Add(time.Second)); wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
	}
	if stage == string(mcfgv1.MachineOSBuildFailed) {
		if err := s.beforeBuildFailed(ctx, b, reason, msg); err != nil {
			return err
		}
	}
	now := metav1.Now()
	b.Status.Conditions = buildConditions(stage, reason, msg, now)
	if start != nil {
		b.Status.BuildStart = start
		b.Status.BuildEnd = &now
	}
	if digested != "" {
		b.Status.DigestedImagePushSpec = mcfgv1.ImageDigestFormat(digested)
	}
	if _, err := mosbs.UpdateStatus(ctx, b, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("MOSB %s %s: %w", name, stage, err)
	}
	s.opts.Logf("sim: MOSB %s %s %s", name, stage, digested)
	return nil
}

func (s *Simulator) ensureJob(ctx context.Context, name string, l map[string]string) (*batchv1.Job, error) {
	jobs := s.c.Kube.BatchV1().Jobs(MCONamespace)
	if j, err := jobs.Get(ctx, name, metav1.GetOptions{}); err == nil {
		return j, nil
	}
	backoff := int32(3)
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: MCONamespace, Labels: l},
		Spec: batchv1.JobSpec{BackoffLimit: &backoff, Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: l},
			Spec:       buildPodSpec(s.podShape()),
		}},
	}
	created, err := jobs.Create(ctx, j, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return jobs.Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("create Job %s: %w", name, err)
	}
	now := metav1.Now()
	created.Status.StartTime = &now
	created.Status.Active = 1
	if created, err = jobs.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return nil, fmt.Errorf("Job %s status: %w", name, err)
	}
	return created, nil
}

// Build pod containers, by release.
const (
	containerImageBuild = "image-build"
	// containerWaitForDone reads buildah's digest file and writes the
	// digest ConfigMap before 4.20; containerCreateDigestCM from 4.20.
	containerWaitForDone    = "wait-for-done"
	containerCreateDigestCM = "create-digest-configmap"
)

// buildPodShape says how a release lays out the build pod.
type buildPodShape struct {
	// initBuild: image-build is an init container (4.20 on), so the pod is
	// Pending while it builds and its status is in initContainerStatuses.
	initBuild bool
	// digest is the container that writes the digest ConfigMap.
	digest string
}

// podShape follows the MCO's build pod per release:
//   - openshift/machine-config-operator, release-4.18 and release-4.19,
//     pkg/controller/build/buildrequest/buildrequest.go (toBuildahPod):
//     Containers "image-build" and "wait-for-done";
//   - release-4.20, release-4.21, release-4.22 and main, same file:
//     InitContainers "image-build" ("Run the build process in an init
//     container so that we can report accurate status if the build process
//     is successful but the configmap creation container fails"), Containers
//     "create-digest-configmap".
//
// (4.16 and 4.17, pkg/controller/build/image_build_request.go, have the
// 4.18 layout.) An unknown version gets the newest layout.
func (s *Simulator) podShape() buildPodShape {
	if m := s.minorVersion(); m != 0 && m < 20 {
		return buildPodShape{digest: containerWaitForDone}
	}
	return buildPodShape{initBuild: true, digest: containerCreateDigestCM}
}

func buildPodSpec(shape buildPodShape) corev1.PodSpec {
	priv := true
	build := corev1.Container{Name: containerImageBuild, Image: "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:" + strings.Repeat("b", 64),
		Command: []string{"/bin/bash", "-c", "/tmp/done/buildah-build.sh"}, SecurityContext: &corev1.SecurityContext{Privileged: &priv},
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError}
	digest := corev1.Container{Name: shape.digest, Image: "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:" + strings.Repeat("c", 64),
		Command: []string{"/bin/bash", "-c", "/tmp/done/" + shape.digest + ".sh"}, TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError}
	spec := corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, ServiceAccountName: "machine-os-builder"}
	if shape.initBuild {
		spec.InitContainers = []corev1.Container{build}
		spec.Containers = []corev1.Container{digest}
	} else {
		spec.Containers = []corev1.Container{build, digest}
	}
	return spec
}

func (s *Simulator) ensurePod(ctx context.Context, job *batchv1.Job, l map[string]string) (*corev1.Pod, error) {
	pods := s.c.Kube.CoreV1().Pods(MCONamespace)
	existing, err := pods.List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + job.Name})
	if err != nil {
		return nil, err
	}
	for i := range existing.Items {
		if existing.Items[i].DeletionTimestamp == nil {
			return &existing.Items[i], nil
		}
	}
	pl := map[string]string{"job-name": job.Name, "batch.kubernetes.io/job-name": job.Name,
		"controller-uid": string(job.UID), "batch.kubernetes.io/controller-uid": string(job.UID)}
	for k, v := range l {
		pl[k] = v
	}
	ctrl := true
	spec := buildPodSpec(s.podShape())
	spec.NodeName = s.buildNode()
	if err := s.mountSharedInputs(ctx, &spec); err != nil { // sharedinputs.go
		return nil, err
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: job.Name + "-" + suffix(), Namespace: MCONamespace, Labels: pl,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID, Controller: &ctrl, BlockOwnerDeletion: &ctrl}}},
		Spec: spec,
	}
	created, err := pods.Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create build pod: %w", err)
	}
	return created, nil
}

// buildNode picks where the build pod runs: the first ready worker, else any node.
func (s *Simulator) buildNode() string {
	nodes, _ := s.nodes.List(labels.Everything())
	best := ""
	for _, n := range nodes {
		if !nodeReady(n) {
			continue
		}
		if best == "" || nodeLess(n.Name, best) {
			best = n.Name
		}
	}
	return best
}

func suffix() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

// setPodRunning starts the build container: with image-build a plain
// container (before 4.20) the pod is Running; as an init container (4.20
// on) the pod stays Pending, Initialized=False, the digest container
// waiting in PodInitializing, as a kubelet reports it.
func (s *Simulator) setPodRunning(ctx context.Context, pod *corev1.Pod) error {
	if pod.Status.StartTime != nil {
		return nil
	}
	now := metav1.Now()
	running := func(c corev1.Container) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: true, Started: boolp(true),
			ContainerID: "cri-o://" + strings.Repeat("a", 64),
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}
	}
	pod.Status = corev1.PodStatus{
		Phase: corev1.PodRunning, StartTime: &now, HostIP: "127.0.0.1", PodIP: "10.128.0.42",
		Conditions: []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now}},
	}
	if len(pod.Spec.InitContainers) > 0 {
		pod.Status.Phase = corev1.PodPending
		pod.Status.Conditions[0].Status, pod.Status.Conditions[0].Reason = corev1.ConditionFalse, "ContainersNotInitialized"
		pod.Status.Conditions[1].Status, pod.Status.Conditions[1].Reason = corev1.ConditionFalse, "ContainersNotReady"
		for _, c := range pod.Spec.InitContainers {
			cs := running(c)
			cs.Ready = false
			pod.Status.InitContainerStatuses = append(pod.Status.InitContainerStatuses, cs)
		}
		for _, c := range pod.Spec.Containers {
			pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{Name: c.Name, Image: c.Image, Started: boolp(false),
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}})
		}
	} else {
		for _, c := range pod.Spec.Containers {
			pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, running(c))
		}
	}
	updated, err := s.c.Kube.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("build pod %s Running: %w", pod.Name, err)
	}
	*pod = *updated
	return nil
}

// setPodTerminated ends the build pod: image-build exits with code. A
// failed init container leaves the digest container never started.
func (s *Simulator) setPodTerminated(ctx context.Context, pod *corev1.Pod, code int32, reason, msg string) error {
	cur, err := s.c.Kube.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	now := metav1.Now()
	cur.Status.Phase = corev1.PodSucceeded
	if code != 0 {
		cur.Status.Phase = corev1.PodFailed
	}
	terminate := func(cs *corev1.ContainerStatus) {
		var started metav1.Time
		if cs.State.Running != nil {
			started = cs.State.Running.StartedAt
		} else {
			started = now
		}
		c, r, m := int32(0), "Completed", ""
		if cs.Name == containerImageBuild {
			c, r, m = code, reason, msg
		}
		id := cs.ContainerID
		if id == "" {
			id = "cri-o://" + strings.Repeat("d", 64)
		}
		cs.Ready, cs.Started = false, boolp(false)
		cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: c, Reason: r, Message: m, StartedAt: started, FinishedAt: now, ContainerID: id}}
	}
	for i := range cur.Status.InitContainerStatuses {
		terminate(&cur.Status.InitContainerStatuses[i])
	}
	initFailed := code != 0 && len(cur.Status.InitContainerStatuses) > 0
	for i := range cur.Status.ContainerStatuses {
		if initFailed {
			continue // still PodInitializing: it never runs
		}
		terminate(&cur.Status.ContainerStatuses[i])
	}
	for i := range cur.Status.Conditions {
		switch cur.Status.Conditions[i].Type {
		case corev1.PodReady:
			cur.Status.Conditions[i].Status, cur.Status.Conditions[i].Reason = corev1.ConditionFalse, "PodCompleted"
		case corev1.PodInitialized:
			if !initFailed {
				cur.Status.Conditions[i].Status, cur.Status.Conditions[i].Reason = corev1.ConditionTrue, ""
			}
		}
	}
	if _, err := s.c.Kube.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("build pod %s terminated: %w", pod.Name, err)
	}
	return nil
}

// pushSecret reads the MOSC's push secret, as the build pod mounts it.
func (s *Simulator) pushSecret(ctx context.Context, mosc *mcfgv1.MachineOSConfig) (*corev1.Secret, error) {
	name := mosc.Spec.RenderedImagePushSecret.Name
	sec, err := s.c.Kube.CoreV1().Secrets(MCONamespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("could not get rendered image push secret %q: %w", name, err)
	}
	return sec, nil
}

// credentialsFor finds user and password for host in a dockerconfigjson or
// dockercfg secret.
func credentialsFor(sec *corev1.Secret, host string) (string, string, bool) {
	var auths map[string]struct {
		Auth     string `json:"auth"`
		Username string `json:"username"`
		Password string `json:"password"`
	}
	switch {
	case len(sec.Data[corev1.DockerConfigJsonKey]) > 0:
		var cfg struct {
			Auths map[string]struct {
				Auth     string `json:"auth"`
				Username string `json:"username"`
				Password string `json:"password"`
			} `json:"auths"`
		}
		if json.Unmarshal(sec.Data[corev1.DockerConfigJsonKey], &cfg) != nil {
			return "", "", false
		}
		auths = cfg.Auths
	case len(sec.Data[corev1.DockerConfigKey]) > 0:
		if json.Unmarshal(sec.Data[corev1.DockerConfigKey], &auths) != nil {
			return "", "", false
		}
	}
	for k, a := range auths {
		k = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(k, "https://"), "http://"), "/")
		if k != host {
			continue
		}
		if a.Username != "" {
			return a.Username, a.Password, true
		}
		raw, err := base64.StdEncoding.DecodeString(a.Auth)
		if err != nil {
			return "", "", false
		}
		u, p, ok := strings.Cut(string(raw), ":")
		return u, p, ok
	}
	return "", "", false
}

// push makes a small random image and pushes it where the build would.
func (s *Simulator) push(ctx context.Context, pushSpec string, sec *corev1.Secret, log func(string)) (string, error) {
	ref, err := name.ParseReference(pushSpec, name.WeakValidation)
	if err != nil {
		return "", fmt.Errorf("invalid push spec %q: %w", pushSpec, err)
	}
	host := ref.Context().RegistryStr()
	img, err := random.Image(2048, 2)
	if err != nil {
		return "", err
	}
	digest, err := img.Digest()
	if err != nil {
		return "", err
	}
	logPush(img, log)
	user, pass, ok := credentialsFor(sec, host)
	switch {
	case s.opts.RegistryHost != "" && host == s.opts.RegistryHost:
		if !ok {
			return "", fmt.Errorf("authentication required: push secret %q has no credentials for %s", sec.Name, host)
		}
		if err := remote.Write(ref, img, remote.WithContext(ctx), remote.WithAuth(&authn.Basic{Username: user, Password: pass})); err != nil {
			return "", err
		}
	case host == InternalRegistryHost:
		// OpenShift's registry accepts any user name with a service-account
		// token as the password, checked by a TokenReview.
		if !ok {
			return "", fmt.Errorf("unauthorized: authentication required: push secret %q has no credentials for %s", sec.Name, host)
		}
		tr, err := s.c.Kube.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: pass}}, metav1.CreateOptions{})
		if err != nil {
			return "", fmt.Errorf("token review: %w", err)
		}
		if !tr.Status.Authenticated {
			return "", fmt.Errorf("unauthorized: authentication required (push secret %q: token rejected: %s)", sec.Name, tr.Status.Error)
		}
		if exp, expired := s.tokenExpired(pass); expired { // on the simulator's clock (pushcred.go)
			return "", fmt.Errorf("unauthorized: authentication required (push secret %q: token expired at %s)", sec.Name, exp.UTC().Format(time.RFC3339))
		}
		if s.opts.RegistryHost != "" && s.opts.RegistryAuth != nil {
			alias, err := name.ParseReference(s.opts.RegistryHost+"/"+ref.Context().RepositoryStr()+":"+ref.Identifier(), name.WeakValidation)
			if err != nil {
				return "", err
			}
			if err := remote.Write(alias, img, remote.WithContext(ctx), remote.WithAuth(s.opts.RegistryAuth)); err != nil {
				return "", err
			}
		}
	}
	return ref.Context().Name() + "@" + digest.String(), nil
}

func logPush(img v1.Image, log func(string)) {
	log("Getting image source signatures\n")
	if layers, err := img.Layers(); err == nil {
		for _, l := range layers {
			if d, err := l.Digest(); err == nil {
				log("Copying blob " + d.String() + "\n")
			}
		}
	}
	if cn, err := img.ConfigName(); err == nil {
		log("Copying config " + cn.String() + "\n")
	}
}

// fullContainerfile is the MCO's own Containerfile with the user's appended.
func fullContainerfile(mosc *mcfgv1.MachineOSConfig, mosb *mcfgv1.MachineOSBuild) string {
	base := "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:" + strings.Repeat("5", 64)
	ext := "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:" + strings.Repeat("e", 64)
	return fmt.Sprintf(`# Pull the extensions image
FROM %s AS extensions
FROM %s AS configs
COPY ./machineconfig/machineconfig.json.gz /etc/machine-config-daemon/currentconfig.gz
LABEL machineconfiguration.openshift.io/rendered-config=%s
LABEL io.openshift.machineconfiguration.osbuilder=true
%s
LABEL machineconfiguration.openshift.io/machine-os-build=%s
`, ext, base, mosb.Spec.MachineConfig.Name, userContainerfile(mosc), mosb.Name)
}

// buildLogSteps renders buildah's output for a Containerfile: one STEP per
// instruction, a little output under RUN steps.
func buildLogSteps(containerfile string) []string {
	var instrs []string
	cur := ""
	for _, line := range strings.Split(containerfile, "\n") {
		t := strings.TrimSpace(line)
		if cur == "" && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if strings.HasSuffix(t, "\\") {
			cur += strings.TrimSuffix(t, "\\") + " "
			continue
		}
		instrs = append(instrs, strings.Join(strings.Fields(cur+t), " "))
		cur = ""
	}
	if cur != "" {
		instrs = append(instrs, strings.Join(strings.Fields(cur), " "))
	}
	var out []string
	for i, in := range instrs {
		line := fmt.Sprintf("STEP %d/%d: %s\n", i+1, len(instrs), in)
		if strings.HasPrefix(strings.ToUpper(in), "RUN ") {
			line += "Updating and loading repositories:\nRepositories loaded.\n"
			if m := installsDoca.FindString(in); m != "" {
				line += "Installing: " + m + "-3.3.0040-1.el9.x86_64\nComplete!\n"
			}
		}
		if i+1 == len(instrs) {
			line += "COMMIT\n"
		}
		out = append(out, line)
	}
	return out
}
