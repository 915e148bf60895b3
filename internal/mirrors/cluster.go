package mirrors

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	configv1 "github.com/openshift/api/config/v1"
	operatorv1alpha1 "github.com/openshift/api/operator/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// Resources read from the cluster.
var (
	GVRIDMS  = schema.GroupVersionResource{Group: "config.openshift.io", Version: "v1", Resource: "imagedigestmirrorsets"}
	GVRITMS  = schema.GroupVersionResource{Group: "config.openshift.io", Version: "v1", Resource: "imagetagmirrorsets"}
	GVRICSP  = schema.GroupVersionResource{Group: "operator.openshift.io", Version: "v1alpha1", Resource: "imagecontentsourcepolicies"}
	GVRProxy = schema.GroupVersionResource{Group: "config.openshift.io", Version: "v1", Resource: "proxies"}
	GVRImage = schema.GroupVersionResource{Group: "config.openshift.io", Version: "v1", Resource: "images"}
)

// ConfigNamespace holds the ConfigMaps the cluster config objects name.
const ConfigNamespace = "openshift-config"

// UserCABundle is the ConfigMap of the cluster-wide additional trust bundle
// (installer's additionalTrustBundle; MCO pkg/operator/sync.go reads it
// always, the Proxy's trustedCA in addition).
const UserCABundle = "user-ca-bundle"

// RulesFromObjects converts the cluster's objects to rules, in the order
// the MCO hands them to EditRegistriesConfig (IDMS, then ICSP; ITMS).
func RulesFromObjects(idms []configv1.ImageDigestMirrorSet, itms []configv1.ImageTagMirrorSet, icsp []operatorv1alpha1.ImageContentSourcePolicy) []Rule {
	var out []Rule
	for _, o := range idms {
		for i, m := range o.Spec.ImageDigestMirrors {
			out = append(out, Rule{Source: m.Source, Mirrors: imageMirrors(m.Mirrors), NeverContactSource: m.MirrorSourcePolicy == configv1.NeverContactSource,
				Origin: fmt.Sprintf("%s/%s spec.imageDigestMirrors[%d]", KindIDMS, o.Name, i)})
		}
	}
	for _, o := range icsp {
		for i, m := range o.Spec.RepositoryDigestMirrors {
			out = append(out, Rule{Source: m.Source, Mirrors: append([]string(nil), m.Mirrors...),
				Origin: fmt.Sprintf("%s/%s spec.repositoryDigestMirrors[%d]", KindICSP, o.Name, i)})
		}
	}
	for _, o := range itms {
		for i, m := range o.Spec.ImageTagMirrors {
			out = append(out, Rule{Source: m.Source, Mirrors: imageMirrors(m.Mirrors), NeverContactSource: m.MirrorSourcePolicy == configv1.NeverContactSource, Tag: true,
				Origin: fmt.Sprintf("%s/%s spec.imageTagMirrors[%d]", KindITMS, o.Name, i)})
		}
	}
	return out
}

func imageMirrors(ms []configv1.ImageMirror) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m)
	}
	return out
}

// ConfigMapGetter reads a ConfigMap (kube.ConfigMapInterface's Get).
type ConfigMapGetter func(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)

// ReadCluster reads the cluster's mirror rules (IDMS, ITMS and, where the
// API still serves it, ICSP), its Proxy and its trusted CAs. A kind the
// cluster does not serve counts as none.
func ReadCluster(ctx context.Context, dyn dynamic.Interface, getCM ConfigMapGetter) ([]Rule, *Network, error) {
	var idms []configv1.ImageDigestMirrorSet
	var itms []configv1.ImageTagMirrorSet
	var icsp []operatorv1alpha1.ImageContentSourcePolicy
	if err := list(ctx, dyn, GVRIDMS, &idms); err != nil {
		return nil, nil, err
	}
	if err := list(ctx, dyn, GVRITMS, &itms); err != nil {
		return nil, nil, err
	}
	if err := list(ctx, dyn, GVRICSP, &icsp); err != nil {
		return nil, nil, err
	}
	rules := RulesFromObjects(idms, itms, icsp)

	net := &Network{}
	var proxy configv1.Proxy
	found, err := get(ctx, dyn, GVRProxy, "cluster", &proxy)
	if err != nil {
		return nil, nil, err
	}
	if found && (proxy.Status.HTTPProxy != "" || proxy.Status.HTTPSProxy != "") {
		// The status holds the effective values (the network operator adds
		// the cluster's own networks to noProxy), as the MCO passes them on.
		net.ClusterProxy = true
		net.HTTPProxy, net.HTTPSProxy, net.NoProxy = proxy.Status.HTTPProxy, proxy.Status.HTTPSProxy, proxy.Status.NoProxy
	}
	bundles := []string{UserCABundle}
	if found && proxy.Spec.TrustedCA.Name != "" && proxy.Spec.TrustedCA.Name != UserCABundle {
		bundles = append(bundles, proxy.Spec.TrustedCA.Name)
	}
	for _, name := range bundles {
		cm, err := getCM(ctx, ConfigNamespace, name)
		switch {
		case apierrors.IsNotFound(err) && name == UserCABundle:
			continue
		case err != nil:
			return nil, nil, fmt.Errorf("the Proxy's trustedCA ConfigMap %s/%s: %w", ConfigNamespace, name, err)
		}
		pem := cm.Data["ca-bundle.crt"]
		if pem == "" {
			if name == UserCABundle {
				continue
			}
			return nil, nil, fmt.Errorf("the Proxy's trustedCA ConfigMap %s/%s has no ca-bundle.crt", ConfigNamespace, name)
		}
		net.TrustBundle = append(net.TrustBundle, []byte(strings.TrimSpace(pem)+"\n")...)
		net.TrustSources = append(net.TrustSources, ConfigNamespace+"/"+name)
	}

	var image configv1.Image
	found, err = get(ctx, dyn, GVRImage, "cluster", &image)
	if err != nil {
		return nil, nil, err
	}
	if found && image.Spec.AdditionalTrustedCA.Name != "" {
		name := image.Spec.AdditionalTrustedCA.Name
		cm, err := getCM(ctx, ConfigNamespace, name)
		if err != nil {
			// The MCO only warns then (pkg/operator/sync.go); the registries
			// it names will fail TLS, and the read says so.
			return rules, net, fmt.Errorf("image.config.openshift.io/cluster spec.additionalTrustedCA: ConfigMap %s/%s: %w", ConfigNamespace, name, err)
		}
		net.RegistryCAs = RegistryCAs(cm)
		net.RegistryCASource = fmt.Sprintf("%s/%s (image.config.openshift.io/cluster spec.additionalTrustedCA)", ConfigNamespace, name)
	}
	return rules, net, nil
}

// RegistryCAs maps the ConfigMap's keys to registry host[:port] ("..":
// a port, as the MCO's certificate writer turns it into ':'). A value may
// be base64 of the PEM, as the MCO accepts (pkg/operator/sync.go).
func RegistryCAs(cm *corev1.ConfigMap) map[string][]byte {
	out := map[string][]byte{}
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := []byte(cm.Data[k])
		if raw, err := base64.StdEncoding.DecodeString(cm.Data[k]); err == nil {
			v = raw
		}
		out[strings.ReplaceAll(k, "..", ":")] = v
	}
	for k, v := range cm.BinaryData {
		out[strings.ReplaceAll(k, "..", ":")] = v
	}
	return out
}

func list[T any](ctx context.Context, dyn dynamic.Interface, gvr schema.GroupVersionResource, into *[]T) error {
	l, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) || isNotServed(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing %s: %w", gvr.GroupResource(), err)
	}
	for _, u := range l.Items {
		var t T
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &t); err != nil {
			return fmt.Errorf("%s %s: %w", gvr.GroupResource(), u.GetName(), err)
		}
		*into = append(*into, t)
	}
	return nil
}

func get(ctx context.Context, dyn dynamic.Interface, gvr schema.GroupVersionResource, name string, into any) (bool, error) {
	u, err := dyn.Resource(gvr).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) || isNotServed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s/%s: %w", gvr.GroupResource(), name, err)
	}
	return true, fromUnstructured(u, into)
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}

func isNotServed(err error) bool {
	return err != nil && strings.Contains(err.Error(), "the server could not find the requested resource")
}
