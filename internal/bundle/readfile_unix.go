//go:build unix

package bundle

import (
	"io/fs"
	"syscall"
)

// readFileTo appends the file at path, of the size a Lstat just gave, to
// dst with plain system calls: for mosc's few-KB files, os.File's set-up
// (poller registration, finalizer, its own fstat) costs more than the read
// (render --all reads 594 of them on a re-render). One read asks for a byte
// more than size: a regular file returns less only at its end, so a file
// that changed size since the Lstat comes back with another length and
// compares unequal; dst never grows past len(dst)+size+1.
func readFileTo(dst []byte, path string, size int64) ([]byte, error) {
	var fd int
	var err error
	for {
		if fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0); err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return dst, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	want := int(size) + 1
	if cap(dst)-len(dst) < want {
		dst = append(dst[:cap(dst)], make([]byte, want)...)[:len(dst)]
	}
	var n int
	for {
		if n, err = syscall.Read(fd, dst[len(dst):len(dst)+want]); err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return dst, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	return dst[:len(dst)+n], nil
}
