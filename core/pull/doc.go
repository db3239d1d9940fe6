// Package pull copies a commit graph from a Source into a repository, in
// one transaction: metadata verified (hash, structure, normal form),
// content verified unless the source is a trusted local repository (as
// ostree does), content work spread over every core largest first, refs
// written only after every object is in place. pull-local is a Source over
// another local repository of any mode (bare-user → archive compresses,
// archive → bare-user inflates).
//
// It owns the pull algorithm, not storage (core/repo) nor transport: a new
// place to pull from is a new Source. It never prints; progress goes
// through core/progress.
package pull
