package serve

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/groveos/grove/core/repo"
)

// ErrNotArchive: only archive repositories can be served (clients ask for
// .filez objects).
var ErrNotArchive = errors.New("serve: not an archive repository")

// Handler serves r. Close the returned closer when done.
func Handler(r *repo.Repo) (http.Handler, func() error, error) {
	if r.Mode() != repo.ModeArchive {
		return nil, nil, fmt.Errorf("%w: %s is %s", ErrNotArchive, r.Path(), r.Mode())
	}
	root, err := os.OpenRoot(r.Path())
	if err != nil {
		return nil, nil, fmt.Errorf("serve: %w", err)
	}
	return &handler{root: root}, root.Close, nil
}

type handler struct {
	root *os.Root
}

func (h *handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "read-only", http.StatusMethodNotAllowed)
		return
	}
	name, ok := clean(req.URL.Path)
	if !ok {
		http.NotFound(w, req)
		return
	}
	// os.Root refuses to leave the repository, symlinks included.
	f, err := h.root.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		http.NotFound(w, req) // missing, or a path that escapes
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(w, req) // no directory listings
		return
	}
	w.Header().Set("ETag", etag(st))
	if repo.Immutable(name) {
		// Named by their content: they never change.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, req, "", st.ModTime(), f)
}

// clean maps a URL path to a repository-relative file name, refusing
// anything that is not plainly inside a published directory.
func clean(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") || strings.Contains(p, "\x00") || strings.Contains(p, "\\") {
		return "", false
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == ".." || seg == "." {
			return "", false
		}
	}
	c := path.Clean(p)[1:]
	if !repo.Published(c) {
		return "", false
	}
	return c, true
}

// etag identifies a file's version: inode, size and modification time.
func etag(st fs.FileInfo) string {
	var ino uint64
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		ino = sys.Ino
	}
	return fmt.Sprintf(`"%x-%x-%x"`, ino, st.Size(), st.ModTime().UnixNano())
}
