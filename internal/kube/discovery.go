package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/rest"
)

// DiscoveryInterface is the part of client-go's discovery.DiscoveryInterface
// mosc uses (so client-go's fake discovery satisfies it).
type DiscoveryInterface interface {
	ServerGroups() (*metav1.APIGroupList, error)
	ServerResourcesForGroupVersion(groupVersion string) (*metav1.APIResourceList, error)
	ServerVersion() (*version.Info, error)
}

// Discovery reads /api, /apis, /apis/GROUP/VERSION and /version, as
// client-go's DiscoveryClient does without aggregated discovery
// (k8s.io/client-go/discovery/discovery_client.go, v0.34.1).
type Discovery struct {
	rc rest.Interface
}

// client-go's discovery defaults (discovery_client.go): discovery is bursty.
const (
	discoveryTimeout = 32 * time.Second
	discoveryBurst   = 300
)

// NewDiscoveryForConfigAndClient builds the discovery client.
func NewDiscoveryForConfigAndClient(cfg *rest.Config, httpClient *http.Client) (*Discovery, error) {
	c := *cfg
	c.APIPath, c.GroupVersion = "", nil
	if c.Timeout == 0 {
		c.Timeout = discoveryTimeout
	}
	if c.Burst == 0 {
		c.Burst = discoveryBurst
	}
	c.NegotiatedSerializer = theCodecs().codecs.WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	rc, err := rest.UnversionedRESTClientForConfigAndClient(&c, httpClient)
	if err != nil {
		return nil, err
	}
	return &Discovery{rc: rc}, nil
}

// RESTClient is the unversioned client discovery uses.
func (d *Discovery) RESTClient() rest.Interface { return d.rc }

func (d *Discovery) getJSON(path string, into any) error {
	body, err := d.rc.Get().AbsPath(path).SetHeader("Accept", "application/json").Do(context.TODO()).Raw()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("discovery: decoding %s: %w", path, err)
	}
	return nil
}

// ServerGroups lists the served groups, the legacy core group first.
func (d *Discovery) ServerGroups() (*metav1.APIGroupList, error) {
	var legacy metav1.APIVersions
	err := d.getJSON("/api", &legacy)
	// Tolerate 404, since aggregated api servers can return it (client-go).
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, err
	}
	groups := &metav1.APIGroupList{}
	if len(legacy.Versions) > 0 {
		g := metav1.APIGroup{}
		for _, v := range legacy.Versions {
			g.Versions = append(g.Versions, metav1.GroupVersionForDiscovery{GroupVersion: v, Version: v})
		}
		g.PreferredVersion = g.Versions[0]
		groups.Groups = append(groups.Groups, g)
	}
	var named metav1.APIGroupList
	if err := d.getJSON("/apis", &named); err != nil && !apierrors.IsNotFound(err) {
		return nil, err
	}
	groups.Groups = append(groups.Groups, named.Groups...)
	return groups, nil
}

// ServerResourcesForGroupVersion lists the resources of one group version.
func (d *Discovery) ServerResourcesForGroupVersion(groupVersion string) (*metav1.APIResourceList, error) {
	if groupVersion == "" {
		return nil, errors.New("groupVersion shouldn't be empty")
	}
	path := "/apis/" + groupVersion
	if groupVersion == "v1" {
		path = "/api/v1"
	}
	rl := &metav1.APIResourceList{GroupVersion: groupVersion}
	if err := d.getJSON(path, rl); err != nil {
		// client-go tolerates a 404 of core/v1 with an empty list.
		if groupVersion == "v1" && apierrors.IsNotFound(err) {
			return rl, nil
		}
		return nil, err
	}
	return rl, nil
}

// ServerVersion reads /version.
func (d *Discovery) ServerVersion() (*version.Info, error) {
	var info version.Info
	if err := d.getJSON("/version", &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// Mapper is a meta.RESTMapper over discovery that reads only the groups it
// is asked about, each once: mosc maps a handful of kinds in a few groups,
// and an OpenShift cluster serves a hundred group versions. (client-go's
// DeferredDiscoveryRESTMapper over a memory cache reads them all; this one
// builds each group's mapping with the same rules as restmapper's
// NewDiscoveryRESTMapper, k8s.io/client-go/restmapper/discovery.go v0.34.1.)
type Mapper struct {
	d      DiscoveryInterface
	mu     sync.Mutex
	groups *metav1.APIGroupList
	byName map[string]meta.RESTMapper
}

var _ meta.RESTMapper = (*Mapper)(nil)

// NewMapper maps kinds to resources through d, lazily.
func NewMapper(d DiscoveryInterface) *Mapper {
	return &Mapper{d: d, byName: map[string]meta.RESTMapper{}}
}

// group returns the mapper of one API group (an empty one for a group the
// server does not serve, which answers every question with a NoMatch error).
func (m *Mapper) group(name string) (meta.RESTMapper, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if gm, ok := m.byName[name]; ok {
		return gm, nil
	}
	if m.groups == nil {
		gl, err := m.d.ServerGroups()
		if err != nil {
			return nil, err
		}
		m.groups = gl
	}
	var gm meta.RESTMapper = meta.NewDefaultRESTMapper(nil)
	for _, g := range m.groups.Groups {
		if g.Name != name {
			continue
		}
		resources := map[string][]metav1.APIResource{}
		for _, v := range g.Versions {
			rl, err := m.d.ServerResourcesForGroupVersion(v.GroupVersion)
			if err != nil {
				// As restmapper: a version that fails discovery is left out
				// (an aggregated API may be down), the others still map.
				continue
			}
			resources[v.Version] = rl.APIResources
		}
		gm = groupMapper(g, resources)
	}
	m.byName[name] = gm
	return gm, nil
}

// groupMapper is restmapper.NewDiscoveryRESTMapper for one group.
func groupMapper(group metav1.APIGroup, versioned map[string][]metav1.APIResource) meta.RESTMapper {
	union := meta.MultiRESTMapper{}
	var resourcePriority []schema.GroupVersionResource
	var kindPriority []schema.GroupVersionKind
	if pv := group.PreferredVersion.Version; pv != "" {
		if _, ok := versioned[pv]; ok {
			resourcePriority = append(resourcePriority, schema.GroupVersionResource{Group: group.Name, Version: pv, Resource: meta.AnyResource})
			kindPriority = append(kindPriority, schema.GroupVersionKind{Group: group.Name, Version: pv, Kind: meta.AnyKind})
		}
	}
	for _, dv := range group.Versions {
		resources, ok := versioned[dv.Version]
		if !ok {
			continue
		}
		if dv.Version != group.PreferredVersion.Version {
			resourcePriority = append(resourcePriority, schema.GroupVersionResource{Group: group.Name, Version: dv.Version, Resource: meta.AnyResource})
			kindPriority = append(kindPriority, schema.GroupVersionKind{Group: group.Name, Version: dv.Version, Kind: meta.AnyKind})
		}
		gv := schema.GroupVersion{Group: group.Name, Version: dv.Version}
		vm := meta.NewDefaultRESTMapper([]schema.GroupVersion{gv})
		for _, r := range resources {
			if strings.Contains(r.Name, "/") { // a subresource
				continue
			}
			scope := meta.RESTScopeNamespace
			if !r.Namespaced {
				scope = meta.RESTScopeRoot
			}
			plural, singular := gv.WithResource(r.Name), gv.WithResource(r.SingularName)
			if r.SingularName == "" {
				_, singular = meta.UnsafeGuessKindToResource(gv.WithKind(r.Kind))
			}
			vm.AddSpecific(gv.WithKind(strings.ToLower(r.Kind)), plural, singular, scope)
			vm.AddSpecific(gv.WithKind(r.Kind), plural, singular, scope)
			vm.Add(gv.WithKind(r.Kind+"List"), scope)
		}
		vm.Add(gv.WithKind("List"), meta.RESTScopeRoot)
		union = append(union, vm)
	}
	resourcePriority = append(resourcePriority, schema.GroupVersionResource{Group: group.Name, Version: meta.AnyVersion, Resource: meta.AnyResource})
	kindPriority = append(kindPriority, schema.GroupVersionKind{Group: group.Name, Version: meta.AnyVersion, Kind: meta.AnyKind})
	return meta.PriorityRESTMapper{Delegate: union, ResourcePriority: resourcePriority, KindPriority: kindPriority}
}

func (m *Mapper) KindFor(r schema.GroupVersionResource) (schema.GroupVersionKind, error) {
	gm, err := m.group(r.Group)
	if err != nil {
		return schema.GroupVersionKind{}, err
	}
	return gm.KindFor(r)
}

func (m *Mapper) KindsFor(r schema.GroupVersionResource) ([]schema.GroupVersionKind, error) {
	gm, err := m.group(r.Group)
	if err != nil {
		return nil, err
	}
	return gm.KindsFor(r)
}

func (m *Mapper) ResourceFor(r schema.GroupVersionResource) (schema.GroupVersionResource, error) {
	gm, err := m.group(r.Group)
	if err != nil {
		return schema.GroupVersionResource{}, err
	}
	return gm.ResourceFor(r)
}

func (m *Mapper) ResourcesFor(r schema.GroupVersionResource) ([]schema.GroupVersionResource, error) {
	gm, err := m.group(r.Group)
	if err != nil {
		return nil, err
	}
	return gm.ResourcesFor(r)
}

func (m *Mapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	gm, err := m.group(gk.Group)
	if err != nil {
		return nil, err
	}
	return gm.RESTMapping(gk, versions...)
}

func (m *Mapper) RESTMappings(gk schema.GroupKind, versions ...string) ([]*meta.RESTMapping, error) {
	gm, err := m.group(gk.Group)
	if err != nil {
		return nil, err
	}
	return gm.RESTMappings(gk, versions...)
}

// ResourceSingularizer is only asked of the core group here (mosc never
// singularizes; meta.RESTMapper requires the method).
func (m *Mapper) ResourceSingularizer(resource string) (string, error) {
	gm, err := m.group("")
	if err != nil {
		return "", err
	}
	return gm.ResourceSingularizer(resource)
}
