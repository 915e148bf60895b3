//go:build !unix

package bundle

import "os"

// readFileTo appends the file at path to dst (size is a hint).
func readFileTo(dst []byte, path string, size int64) ([]byte, error) {
	b, err := os.ReadFile(path)
	return append(dst, b...), err
}
