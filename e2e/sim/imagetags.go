package sim

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// One image tag per build, and its deletion with the build, as the MCO does
// (openshift/machine-config-operator, release-4.18 … release-4.22):
//
//   - pkg/controller/build/buildrequest/machineosbuild.go NewMachineOSBuild:
//     the MachineOSBuild's spec.renderedImagePushSpec is the MachineOSConfig's
//     push spec re-tagged with the build's name
//     (reference.WithTag(namedRef, mosbName)), and the build pushes there;
//   - pkg/controller/build/reconciler.go DeleteMachineOSBuild →
//     deleteBuilderForMachineOSBuild → deleteMOSBImage: when a
//     MachineOSBuild is deleted and its MachineOSConfig still exists, the
//     image stays if any node of the pool has it as its currentImage or
//     desiredImage annotation (compared with status.digestedImagePushSpec);
//     otherwise the MCO deletes spec.renderedImagePushSpec: on the internal
//     registry the ImageStreamTag <namespace>/<name>:<tag>
//     (extractNSAndNameWithTag), elsewhere the image by skopeo (4.18, 4.19:
//     daemon.DeleteImage) or pkg/controller/build/imagepruner (4.20 on:
//     containers/image ImageReference.DeleteImage), which resolves the tag to
//     its manifest digest and deletes that manifest. A failed deletion is
//     only logged.
//
// release-4.16 and release-4.17 (v1alpha1, build_controller.go) push every
// build of a pool to the MachineOSConfig's push spec tagged with the
// rendered MachineConfig name and delete no image; the simulator plays only
// the v1 MCO, so it tags and deletes from 4.18 on, like the rebuild
// annotation (an unknown version is taken as the newest).

// AnnotationRenderedImagePushSecret names, on a MachineOSBuild, the push
// secret its image is deleted with (release-4.18 … release-4.22,
// pkg/controller/build/constants/constants.go
// RenderedImagePushSecretAnnotationKey; set by NewMachineOSBuild).
const AnnotationRenderedImagePushSecret = "machineconfiguration.openshift.io/rendered-image-push-secret"

// buildPushSpec is the push spec the MCO gives a new MachineOSBuild.
func (s *Simulator) buildPushSpec(mosc *mcfgv1.MachineOSConfig, mosbName string) mcfgv1.ImageTagFormat {
	spec := string(mosc.Spec.RenderedImagePushSpec)
	if !s.honoursRebuild() {
		return mcfgv1.ImageTagFormat(spec)
	}
	ref, err := name.ParseReference(spec, name.WeakValidation)
	if err != nil {
		return mcfgv1.ImageTagFormat(spec) // the build fails on it later, as the MCO's
	}
	return mcfgv1.ImageTagFormat(ref.Context().Tag(mosbName).String())
}

// mosbDeleted is the MachineOSBuild informer's delete handler.
func (s *Simulator) mosbDeleted(ctx context.Context) cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{DeleteFunc: func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		b, ok := obj.(*mcfgv1.MachineOSBuild)
		if !ok || !s.honoursRebuild() {
			return
		}
		if err := s.deleteBuildImage(ctx, b); err != nil {
			// The MCO logs it: "could not delete image for MachineOSBuild".
			s.opts.Logf("sim: could not delete image for MachineOSBuild %s: %v", b.Name, err)
		}
	}}
}

// deleteBuildImage is the MCO's deleteMOSBImage.
func (s *Simulator) deleteBuildImage(ctx context.Context, b *mcfgv1.MachineOSBuild) error {
	digested := string(b.Status.DigestedImagePushSpec)
	if mosc, err := s.moscs.Get(b.Labels[LabelMachineOSConfig]); err == nil {
		pool, err := s.pools.Get(b.Labels[LabelTargetPool])
		if err != nil {
			return fmt.Errorf("could not get MachineConfigPool from MachineOSBuild %q: %w", b.Name, err)
		}
		sel, err := metav1.LabelSelectorAsSelector(pool.Spec.NodeSelector)
		if err != nil {
			return err
		}
		nodes, err := s.nodes.List(sel)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if n.Annotations[AnnotationCurrentImage] == digested || n.Annotations[AnnotationDesiredImage] == digested {
				s.opts.Logf("sim: image %s is currently applied on a node or desired by a node, will not delete (MOSC %s)", digested, mosc.Name)
				return nil
			}
		}
	} else if !apierrors.IsNotFound(err) {
		return err
	}
	image := string(b.Spec.RenderedImagePushSpec)
	ref, err := name.ParseReference(image, name.WeakValidation)
	if err != nil {
		return err
	}
	target, auth := ref, authn.Authenticator(nil)
	switch host := ref.Context().RegistryStr(); {
	case host == InternalRegistryHost:
		// The ImageStreamTag goes: on the registry standing in for the
		// internal one, its tag.
		if s.opts.RegistryHost == "" || s.opts.RegistryAuth == nil {
			return nil
		}
		if target, err = name.ParseReference(s.opts.RegistryHost+"/"+ref.Context().RepositoryStr()+":"+ref.Identifier(), name.WeakValidation); err != nil {
			return err
		}
		auth = s.opts.RegistryAuth
	case s.opts.RegistryHost != "" && host == s.opts.RegistryHost:
		sec, err := s.c.Kube.CoreV1().Secrets(MCONamespace).Get(ctx, b.Annotations[AnnotationRenderedImagePushSecret], metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("could not get rendered push secret for MachineOSConfig %q: %w", b.Labels[LabelMachineOSConfig], err)
		}
		user, pass, ok := credentialsFor(sec, host)
		if !ok {
			return fmt.Errorf("rendered push secret %s has no credentials for %s", sec.Name, host)
		}
		auth = &authn.Basic{Username: user, Password: pass}
		// containers/image deletes the manifest the tag resolves to.
		desc, err := remote.Head(ref, remote.WithContext(ctx), remote.WithAuth(auth))
		if err != nil {
			return err
		}
		target = ref.Context().Digest(desc.Digest.String())
	default:
		return nil // a registry the simulator cannot reach
	}
	if err := remote.Delete(target, remote.WithContext(ctx), remote.WithAuth(auth)); err != nil {
		return err
	}
	s.opts.Logf("sim: deleted image %s from registry for MachineOSBuild %s", image, b.Name)
	return nil
}
