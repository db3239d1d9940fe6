package pull

import (
	"context"

	"github.com/groveos/grove/core/internal/workq"
	"github.com/groveos/grove/core/oid"
)

// job is a content object to copy and its size hint: the workers take
// the largest first, since the walk queues faster than objects are
// compressed and the big files should start early instead of being the
// single-threaded tail of the pull.
type job struct {
	sum  oid.Checksum
	size int64
}

func newJobQueue() *workq.Queue[job] { return workq.NewQueue(func(j job) int64 { return j.size }) }

// sizeHint is the size of the source's loose object (compressed for
// archive sources, which is as good for ordering); 0 when unknown.
func (p *puller) sizeHint(ctx context.Context, name oid.ObjectName) int64 {
	size, err := p.src.StoredSize(ctx, name)
	if err != nil {
		return 0
	}
	return size
}
