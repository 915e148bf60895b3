package build

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/render"
)

// Inputs are what the cluster's build reads from a rendered bundle.
type Inputs struct {
	Pool string
	// Containerfile is the MachineOSConfig's NoArch Containerfile.
	Containerfile string
	// MachineConfigs are the bundle's MachineConfigs for the pool.
	MachineConfigs []*unstructured.Unstructured
	// RepoFiles is ConfigMap etc-yum-repos-d's data; GPGKeys Secret
	// etc-pki-rpm-gpg's (decoded).
	RepoFiles map[string][]byte
	GPGKeys   map[string][]byte
}

// FromBundle collects the build inputs of a rendered bundle.
func FromBundle(b *bundle.Bundle) (*Inputs, error) {
	in := &Inputs{RepoFiles: map[string][]byte{}, GPGKeys: map[string][]byte{}}
	var mcs []*unstructured.Unstructured
	for _, o := range b.Objects {
		u := o.Content
		switch u.GroupVersionKind() {
		case bundle.GVKMachineOSConfig, bundle.GVKMachineOSConfigV1alpha1:
			if in.Containerfile != "" {
				return nil, fmt.Errorf("the bundle has more than one MachineOSConfig; mosc build builds one pool")
			}
			in.Pool, _, _ = unstructured.NestedString(u.Object, "spec", "machineConfigPool", "name")
			cfPath := []string{"spec", "containerFile"}
			if u.GroupVersionKind() == bundle.GVKMachineOSConfigV1alpha1 {
				cfPath = []string{"spec", "buildInputs", "containerFile"}
			}
			cfs, _, _ := unstructured.NestedSlice(u.Object, cfPath...)
			for _, c := range cfs {
				m, _ := c.(map[string]any)
				if arch, _ := m["containerfileArch"].(string); arch == "" || arch == "NoArch" || arch == "noarch" {
					in.Containerfile, _ = m["content"].(string)
				}
			}
		case bundle.GVKMachineConfig:
			mcs = append(mcs, u)
		case bundle.GVKConfigMap:
			if u.GetName() == YumReposConfigMap {
				data, _, _ := unstructured.NestedStringMap(u.Object, "data")
				for k, v := range data {
					in.RepoFiles[k] = []byte(v)
				}
			}
		case bundle.GVKSecret:
			if u.GetName() == RPMGPGSecret {
				data, _, _ := unstructured.NestedStringMap(u.Object, "data")
				for k, v := range data {
					raw, err := base64.StdEncoding.DecodeString(v)
					if err != nil {
						return nil, fmt.Errorf("Secret %s: data[%q]: not base64", RPMGPGSecret, k)
					}
					in.GPGKeys[k] = raw
				}
				sd, _, _ := unstructured.NestedStringMap(u.Object, "stringData")
				for k, v := range sd {
					in.GPGKeys[k] = []byte(v)
				}
			}
		}
	}
	if in.Containerfile == "" {
		return nil, fmt.Errorf("the bundle has no MachineOSConfig with a NoArch Containerfile: nothing to build")
	}
	for _, mc := range mcs {
		if mc.GetLabels()[render.LabelMCPRole] == in.Pool {
			in.MachineConfigs = append(in.MachineConfigs, mc)
		}
	}
	return in, nil
}

// Prepared is a build context on disk plus the copies mounted as volumes.
type Prepared struct {
	// Dir holds the context: Containerfile, machineconfig/, the rootfs.
	Dir string
	// Containerfile is the generated wrapper (also at Dir/Containerfile).
	Containerfile string
	// ReposDir and KeysDir are copies mounted at /etc/yum.repos.d and
	// /etc/pki/rpm-gpg; "" when the bundle has none.
	ReposDir, KeysDir string
	Extensions        []string
}

// Prepare writes the build context under work (a fresh temporary directory
// the caller removes): the wrapper Containerfile, the merged MachineConfig
// in MCO's gzip+base64 form, the files ignition-apply would write, and
// copies of the repo files and keys. MCO also mounts copies
// (buildah-build.sh: cp -r into mktemp -d, chmod -R 0755), so the user
// Containerfile's `rm -rf /etc/yum.repos.d/*` never touches the originals.
func Prepare(work string, in *Inputs, baseImage, extensionsImage string) (*Prepared, error) {
	p := &Prepared{Dir: filepath.Join(work, "context")}
	mcName := "mosc-local-" + in.Pool
	doc, ext, err := MachineConfig(mcName, in.MachineConfigs)
	if err != nil {
		return nil, err
	}
	p.Extensions = ext
	if _, err := ExtensionPackages(ext); err != nil {
		return nil, fmt.Errorf("MachineConfigs of pool %s: %v", in.Pool, err)
	}
	enc, err := encodeMachineConfig(doc)
	if err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(p.Dir, contextMachineConfig), enc, 0o644); err != nil {
		return nil, err
	}
	if err := writeRootfs(filepath.Join(p.Dir, contextRootfs), doc); err != nil {
		return nil, fmt.Errorf("MachineConfigs of pool %s: %v", in.Pool, err)
	}
	if extensionsImage == "" {
		ext = nil
	}
	p.Containerfile = Containerfile(Spec{BaseImage: baseImage, ExtensionsImage: extensionsImage, Extensions: ext,
		Pool: in.Pool, MachineConfig: mcName, User: in.Containerfile})
	if err := writeFile(filepath.Join(p.Dir, contextContainerfile), []byte(p.Containerfile), 0o644); err != nil {
		return nil, err
	}
	if len(in.RepoFiles) > 0 {
		p.ReposDir = filepath.Join(work, "etc-yum-repos-d")
		if err := writeCopy(p.ReposDir, in.RepoFiles); err != nil {
			return nil, err
		}
	}
	if len(in.GPGKeys) > 0 {
		p.KeysDir = filepath.Join(work, "etc-pki-rpm-gpg")
		if err := writeCopy(p.KeysDir, in.GPGKeys); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// writeCopy writes a ConfigMap's or Secret's keys as files, mode 0755 as
// MCO's volumes (defaultMode 0755) and its chmod -R 0755 make them.
func writeCopy(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for k := range files {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k != filepath.Base(k) || k == "." || k == ".." {
			return fmt.Errorf("key %q is not a plain file name", k)
		}
		if err := os.WriteFile(filepath.Join(dir, k), files[k], 0o755); err != nil {
			return err
		}
	}
	return nil
}
