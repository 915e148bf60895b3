package release

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Where an OS image keeps its rpm database. rpm-ostree composes RHCOS with
// `%_dbpath /usr/share/rpm` (coreos/rpm-ostree, main,
// rust/src/composepost.rs: RPMOSTREE_RPMDB_LOCATION, the macros.rpm-ostree
// it writes) and links /usr/lib/sysimage/rpm and /var/lib/rpm to it
// (compose_postprocess_rpmdb); a tree composed the other way round has the
// database in /usr/lib/sysimage/rpm (mutate_source_root). The node image is
// the base CoreOS image, one layer that installs OpenShift's packages
// (rpm-ostree compose treefile-apply, which rewrites the database), and the
// metalayer (openshift/os, release-4.20 … release-4.22, Containerfile and
// build-node-image.sh): the database the build sees is the top-most copy.
var RPMDBDirs = []string{"usr/share/rpm", "usr/lib/sysimage/rpm"}

// maxRPMDBBytes bounds one database file (RHCOS's rpmdb.sqlite is tens of MB).
const maxRPMDBBytes = 1 << 30

// RPMDB is the rpm database found in an image.
type RPMDB struct {
	// Dir is the directory in the image ("usr/share/rpm").
	Dir string `json:"dir"`
	// Files are the database's files, written to the destination directory.
	Files []string `json:"files"`
	// Layer is the index of the layer holding it (0 = the base layer) of
	// Layers; Digest is that layer's digest.
	Layer  int    `json:"layer"`
	Layers int    `json:"layers"`
	Digest string `json:"digest"`
	// Read is the compressed size of the layers read to find it.
	Read int64 `json:"bytesRead"`
}

// FetchRPMDB writes the rpm database of image ref into dst (a directory that
// exists) and says where it was found. Layers are read from the top down and
// the first that holds a database file wins (an upper layer's copy replaces
// the lower ones); only those layers are downloaded.
func FetchRPMDB(ctx context.Context, ref string, opts Options, dst string) (*RPMDB, error) {
	ro, err := opts.remoteOptions(ctx)
	if err != nil {
		return nil, err
	}
	img, _, err := opts.fetch(ref, ro) // the cluster's mirrors first (mirrors: Options.Mirrors)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	db := &RPMDB{Layers: len(layers)}
	for i := len(layers) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if n, err := layers[i].Size(); err == nil {
			db.Read += n
		}
		r, err := layers[i].Uncompressed()
		if err != nil {
			return nil, fmt.Errorf("image %s: layer %d: %w", ref, i, err)
		}
		dir, files, err := extractRPMDB(r, dst)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("image %s: layer %d: %w", ref, i, err)
		}
		if len(files) > 0 {
			d, _ := layers[i].Digest()
			db.Dir, db.Files, db.Layer, db.Digest = dir, files, i, d.String()
			return db, nil
		}
	}
	return nil, fmt.Errorf("image %s: %w: none of its %d layers holds one (/%s)", ref, ErrNoRPMDB, len(layers), strings.Join(RPMDBDirs, ", /"))
}

// ErrNoRPMDB: the image has no rpm database (not an RHEL CoreOS image).
var ErrNoRPMDB = errors.New("no rpm database")

// extractRPMDB copies the regular files directly in one of RPMDBDirs from a
// layer tar into dst. A layer with files in both directories (not seen in
// practice) yields the first directory's.
func extractRPMDB(r io.Reader, dst string) (string, []string, error) {
	tr := tar.NewReader(r)
	found := map[string][]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		p := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		dir, base := path.Split(p)
		dir = strings.TrimSuffix(dir, "/")
		if !isRPMDBDir(dir) || strings.HasPrefix(base, ".wh.") || base == ".rpm.lock" {
			continue
		}
		if h.Size > maxRPMDBBytes {
			return "", nil, fmt.Errorf("/%s is larger than %d bytes", p, maxRPMDBBytes)
		}
		sub := filepath.Join(dst, filepath.FromSlash(dir))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return "", nil, err
		}
		f, err := os.OpenFile(filepath.Join(sub, base), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err != nil {
			return "", nil, err
		}
		_, err = io.Copy(f, io.LimitReader(tr, maxRPMDBBytes))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", nil, fmt.Errorf("/%s: %w", p, err)
		}
		found[dir] = append(found[dir], base)
	}
	for _, d := range RPMDBDirs {
		for _, f := range found[d] {
			// rpm's sqlite, ndb and bdb backends' main files: a layer with
			// only a -shm or -wal file does not replace the database.
			if f == "rpmdb.sqlite" || f == "Packages.db" || f == "Packages" {
				return d, found[d], nil
			}
		}
	}
	return "", nil, nil
}

func isRPMDBDir(d string) bool {
	for _, x := range RPMDBDirs {
		if d == x {
			return true
		}
	}
	return false
}
