// Package deps pins the module's dependencies while packages are written in
// parallel, so `go mod tidy` keeps them. Removed once every import is real.
package deps

import (
	_ "github.com/Masterminds/sprig/v3"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/google/go-containerregistry/pkg/crane"
	_ "github.com/google/go-containerregistry/pkg/registry"
	_ "github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/openshift/api/config/v1"
	_ "github.com/openshift/api/imageregistry/v1"
	_ "github.com/openshift/api/machineconfiguration/v1"
	_ "github.com/openshift/client-go/config/informers/externalversions"
	_ "github.com/openshift/client-go/machineconfiguration/informers/externalversions"
	_ "github.com/urfave/cli/v2"
	_ "k8s.io/api/authentication/v1"
	_ "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	_ "k8s.io/client-go/informers"
	_ "k8s.io/client-go/kubernetes/fake"
	_ "k8s.io/client-go/tools/watch"
	_ "sigs.k8s.io/yaml"
)
