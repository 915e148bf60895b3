package bundle

import (
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// WriteDir's directory listing and file writes, in plain system calls as
// readFileTo does its reads. os.Open of the directory was the first
// pollable file of a render: it set up the runtime's network poller
// (epoll_create1, eventfd2, two epoll_ctl, four fcntl, and a thread parked
// in epoll_pwait) to list ten names; os.CreateTemp registered every temp
// file with it again, and os.Rename Lstat'ed each target the caller had
// just Lstat'ed. hasHeader reads like readFileTo. The errors are the ones the os functions return.

// readDirNames is os.Open(dir) + Readdirnames(-1): the names in dir but
// "." and "..", in the order the kernel lists them. *scratch is overwritten
// (and grown to a page if smaller, for the next caller of its pool).
func readDirNames(dir string, scratch *[]byte) ([]string, error) {
	fd, err := openRetry(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	defer syscall.Close(fd)
	if cap(*scratch) < 4096 {
		*scratch = make([]byte, 4096)
	}
	buf := (*scratch)[:cap(*scratch)]
	var names []string
	for {
		n, err := syscall.ReadDirent(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return names, &fs.PathError{Op: "readdirent", Path: dir, Err: err}
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = syscall.ParseDirent(buf[:n], -1, names)
	}
}

// hasHeader reports whether path starts with mosc's header; false (and no
// error) for a file that cannot be read, a directory say.
func hasHeader(path string) (bool, error) {
	fd, err := openRetry(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return false, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var buf [len(headerPrefix)]byte
	for have := 0; have < len(buf); {
		n, err := syscall.Read(fd, buf[have:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return false, nil
		}
		have += n
	}
	return string(buf[:]) == headerPrefix, nil
}

// createTemp is os.CreateTemp(dir, ".mosc-*") without the os.File: a new
// file only this process opened (O_EXCL, mode 0600 until fchmod), under a
// random name, retried on a collision as os.CreateTemp does.
func createTemp(dir string) (int, string, error) {
	prefix := dir + "/.mosc-" // joined as os.CreateTemp joins
	if len(dir) > 0 && os.IsPathSeparator(dir[len(dir)-1]) {
		prefix = dir + ".mosc-"
	}
	for try := 0; ; try++ {
		name := prefix + strconv.FormatUint(uint64(rand.Uint32()), 10)
		fd, err := openRetry(name, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o600)
		if err == nil {
			return fd, name, nil
		}
		if err == syscall.EEXIST && try < 10000 {
			continue
		}
		if err == syscall.EEXIST {
			return -1, "", &fs.PathError{Op: "createtemp", Path: prefix + "*", Err: fs.ErrExist}
		}
		return -1, "", &fs.PathError{Op: "open", Path: name, Err: err}
	}
}

// writeNew writes data to a new temporary file next to path, gives it mode
// (explicitly, so the umask can neither widen nor narrow it) and renames it
// over path: a reader, or an interrupted render, never sees half a file.
func writeNew(path string, data []byte, mode os.FileMode) (err error) {
	fd, name, err := createTemp(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(name)
		}
	}()
	if err := ignoringEINTR(func() error { return syscall.Fchmod(fd, syscallMode(mode)) }); err != nil {
		syscall.Close(fd)
		return &fs.PathError{Op: "chmod", Path: name, Err: err}
	}
	for rest := data; len(rest) > 0; {
		n, err := syscall.Write(fd, rest)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			syscall.Close(fd)
			return &fs.PathError{Op: "write", Path: name, Err: err}
		}
		rest = rest[n:]
	}
	if err := syscall.Close(fd); err != nil {
		return &fs.PathError{Op: "close", Path: name, Err: err}
	}
	if err := ignoringEINTR(func() error { return syscall.Rename(name, path) }); err != nil {
		// os.Rename refuses a directory at path with EEXIST before
		// trying; rename(2) says EISDIR.
		if err == syscall.EISDIR {
			err = syscall.EEXIST
		}
		return &os.LinkError{Op: "rename", Old: name, New: path, Err: err}
	}
	return nil
}

// syscallMode is os's conversion of a FileMode for chmod(2).
func syscallMode(mode os.FileMode) uint32 {
	m := uint32(mode.Perm())
	if mode&os.ModeSetuid != 0 {
		m |= syscall.S_ISUID
	}
	if mode&os.ModeSetgid != 0 {
		m |= syscall.S_ISGID
	}
	if mode&os.ModeSticky != 0 {
		m |= syscall.S_ISVTX
	}
	return m
}

func openRetry(path string, flags int, mode uint32) (int, error) {
	for {
		fd, err := syscall.Open(path, flags, mode)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

func ignoringEINTR(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}
