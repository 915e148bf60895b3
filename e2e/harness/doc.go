// Package harness runs the nearest real thing to an OpenShift cluster for
// mosc's end-to-end tests: a real etcd and a real kube-apiserver v1.34.1 with
// the real OpenShift CRDs from the pinned github.com/openshift/api module
// (their OpenAPI schemas and CEL rules enforced by the server), a fake kubelet
// for pods/log, an in-process OCI registry with basic auth, and a seed that
// makes it look like a fresh cluster. The Machine Config Operator is played
// by package e2e/sim.
//
// # Use from the e2e package
//
//	var env *harness.Cluster
//	func TestMain(m *testing.M) { os.Exit(harness.Main(m, harness.Options{}, &env)) }
//
//	func TestSomething(t *testing.T) {
//		resetEnv(t)                       // env.Reset(ctx): fresh seeded state
//		s := startSim(t, sim.Faults{})    // MCO simulator for this test only
//		out, errOut, code := runMosc(t, "apply", "--site", f)
//		...
//	}
//
// Tests share one API server and run one after another (no t.Parallel):
// Reset deletes what tests create and re-seeds. Stop a test's simulator before
// the next Reset (startSim does this in t.Cleanup).
//
// # What is seeded (Seed, idempotent)
//
//   - Namespaces openshift-config, openshift-machine-config-operator,
//     openshift-image-registry.
//   - openshift-config/pull-secret (kubernetes.io/dockerconfigjson) with auths
//     for cloud.openshift.com, quay.io, registry.connect.redhat.com and
//     registry.redhat.io, each with an "email"; SeededPullSecretAuths returns
//     host → auth for assertions.
//   - ServiceAccount builder in openshift-machine-config-operator (TokenRequest
//     works; no token secrets, no default service accounts).
//   - ClusterVersion "version": status.desired.version = Options.OpenShiftVersion
//     (default 4.20.15), channel stable-4.20, one Completed history entry.
//   - Image registry Config "cluster" as the registry operator leaves it on a
//     bare-metal/SNO cluster: managementState Removed, replicas 1, status
//     Available=True reason Removed, observedGeneration = generation.
//     Options.RegistryPlatform / SeedRegistry(ctx, PlatformAWS) seed an IPI
//     cloud cluster's instead: Managed on S3, 2 replicas, Available=True Ready.
//   - MachineConfigs 00-master, 00-worker (label machineconfiguration.openshift.io/role)
//     and their rendered-<pool>-<md5> configs.
//   - MachineConfigPools master and worker: machineConfigSelector on the role
//     label, nodeSelector node-role.kubernetes.io/<pool>, maxUnavailable
//     Options.MaxUnavailable (default 1), spec/status.configuration rendered-…,
//     all counts equal to the node count, Updated=True.
//   - Nodes master-0… and worker-0… (Options.MasterNodes, default 1;
//     WorkerNodes, default 3; -1 for none): node-role labels, masters with the
//     control-plane label and NoSchedule taint, MCO annotations currentConfig
//     = desiredConfig = rendered config and state Done, Ready, InternalIP
//     127.0.0.1 and the fake kubelet's port (so pods/log works for any pod
//     bound to a seeded node).
//   - A MachineConfigNode per node (4.19+ shape).
//
// Seeded objects carry the label sim.mosc.dev/seed=true.
//
// # Identities
//
//   - Kubeconfig / RESTConfig / Clients: admin (static token, system:masters).
//   - UserKubeconfig(name, groups): a user with no RBAC rights until the test
//     grants them. StaticUsers (alice, bob, carol, dave, erin; group
//     mosc-e2e:users) use bearer tokens; other names or explicit groups use a
//     client certificate (CN=name, O=groups). Label RoleBindings and
//     ClusterRoleBindings you create with mosc-e2e/test so Reset removes them.
//
// # What is not there (no controllers, no kubelet)
//
// No scheduler, controller-manager, garbage collector or kubelet: Jobs make no
// Pods, deleting an owner does not delete dependants, deleted namespaces stay
// Terminating (use the seeded ones or fresh names), Jobs deleted without
// propagationPolicy Background/Foreground keep an orphan finalizer forever.
// A pod bound to a seeded node and deleted gracefully would stay Terminating:
// the simulator's node agent plays the kubelet and finishes such deletes for
// mosc's check pods; completed pods are deleted at once by the API server.
//
// # The simulator (e2e/sim), what mosc sees
//
//   - MOSC created/changed: a MOSB <mosc>-<md5(spec, rendered config)> with the
//     labels machineconfiguration.openshift.io/{target-machine-config-pool,
//     rendered-machine-config,machine-os-config}; the MOSC annotation
//     machineconfiguration.openshift.io/current-machine-os-build. Conditions
//     (all five always present, at most one True): Prepared → Building
//     (buildStart, builder.job) → Succeeded (reason Ready, buildEnd,
//     digestedImagePushSpec) or Failed / Interrupted.
//   - Build objects in openshift-machine-config-operator: ConfigMap
//     containerfile-<mosb> (the MCO's Containerfile with the user's NoArch
//     one appended), Secret final-<mosb>, Job build-<mosb> and its Pod
//     build-<mosb>-<5 chars> (labels job-name and batch.kubernetes.io/job-name
//     = build-<mosb>, like a Job controller's pod) with containers image-build
//     and create-digest-configmap. The image-build log (pods/log, also
//     follow) shows buildah's STEP i/N lines, then the push. Kept on failure,
//     deleted on success (as the MCO does), with ConfigMap digest-<mosb>.
//   - The image is really pushed (a small random image) when the push spec's
//     host is the test registry (credentials from the MOSC's push secret in
//     the cluster; wrong ones fail the build) or the internal registry
//     image-registry.openshift-image-registry.svc:5000 (the push secret's
//     password must be a service-account token that passes a TokenReview, as
//     OpenShift's registry checks; the image then lands in the test registry
//     under the same repository). Other hosts get a locally computed digest.
//   - MOSC status.currentImagePullSpec = the digested push spec once Succeeded.
//   - The rebuild annotation: the MOSB is deleted and created again (same
//     name, new UID), the annotation removed.
//   - MachineConfigs matching a pool's selector re-render the pool
//     (spec.configuration rendered-<pool>-<md5>); a layered pool then builds
//     again and rolls out config and image together after the build.
//   - Rollout: nodes in name order, at most maxUnavailable at once, paused
//     pools wait: desiredConfig/desiredImage set, state Working (cordoned) →
//     Rebooting (Ready=Unknown) → Done (currentConfig/currentImage, Ready,
//     uncordoned, new bootID); MachineConfigNode conditions follow; pool
//     counts and conditions Updated/Updating/Degraded/NodeDegraded/
//     RenderDegraded/ImageBuildDegraded (before 4.20, by the ClusterVersion:
//     BuildPending/Building/BuildSuccess/BuildFailed/BuildInterrupted instead);
//     status.configuration when all updated.
//     Deleting the MOSC deletes its MOSBs and rolls nodes back to the base
//     image (image annotations removed).
//   - Node agent for mosc's check pods (internal/node protocol): completes
//     them with the termination message a real node would produce: rpm -q,
//     rpm -qa, ovs-vsctl JSON (stock OVS lacks the doca_* columns: rc=1);
//     doca-openvswitch only on nodes booted from an image whose Containerfile
//     installs OVS-DOCA; doca_initialized true once enable-doca-init ran on
//     that node (kept on the node as annotation sim.mosc.dev/doca-init) or a
//     MachineConfig of the node's config sets other_config:doca-init=true.
//   - Faults (sim.Faults, SetFaults at any time): BuildFails, BuildInterrupted,
//     BuildDuration (slow build, log streamed over it), DegradeNode +
//     DegradeReason, StuckNode (stays Working), NodeStep (time per node state).
//   - RestartAPIServer mid-rollout: the simulator's informers resume and the
//     rollout completes.
//   - The image registry operator (RegistryOperator, also usable alone):
//     status of the registry Config as the real operator reports it —
//     Removed → Available=True reason Removed; Managed → rollout
//     (Options.RegistryRollout) with Available=False NoReplicasAvailable, then
//     Available=True Ready; Managed without storage → StorageNotConfigured;
//     a missing PVC claim never gets ready; observedGeneration follows.
//   - Every write the API server rejects as invalid is recorded
//     (Simulator.Rejected); startSim fails the test on any.
//
// # Binaries
//
// kube-apiserver: $MOSC_KUBE_APISERVER, else
// ${XDG_CACHE_HOME:-~/.cache}/mosc/k8s-v1.34.1/bin/kube-apiserver, built by
// hack/kube-apiserver.sh (Main runs it when missing: 5–10 min cold). etcd:
// $MOSC_ETCD, else etcd on PATH (Debian etcd-server). Logs of both are in
// Cluster.Dir; set MOSC_E2E_KEEP=1 to keep the directory.
package harness
