//go:build !linux

package bundle

import (
	"io"
	"os"
	"path/filepath"
)

// readDirNames lists dir (see rawfs_linux.go); scratch is unused here.
func readDirNames(dir string, _ *[]byte) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}

// writeNew writes data through a temporary file and a rename, with mode set
// explicitly (see rawfs_linux.go).
func writeNew(path string, data []byte, mode os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".mosc-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			os.Remove(name)
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(name, path)
}

func hasHeader(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, len(headerPrefix))
	if _, err := io.ReadFull(f, buf); err != nil {
		return false, nil
	}
	return string(buf) == headerPrefix, nil
}
