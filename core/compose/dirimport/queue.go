package dirimport

import "github.com/groveos/grove/core/internal/workq"

// newJobQueue hands regular files to the workers largest first. The walk
// lists files far faster than they are hashed and compressed, so the big
// ones start early instead of being the single-threaded tail of a commit
// (the bench tree's 50 MB apt list). It is unbounded, so the walk never
// waits; a queued file costs a few hundred bytes.
func newJobQueue() *workq.Queue[fileJob] {
	return workq.NewQueue(func(j fileJob) int64 { return j.st.Size })
}
