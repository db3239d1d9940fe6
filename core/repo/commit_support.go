package repo

// SetDisableFsync turns syncing off for this handle only, for `commit
// --fsync=false` / `--disable-fsync` (ostree_repo_set_disable_fsync).
func (r *Repo) SetDisableFsync(disable bool) {
	if disable {
		r.fsync = false
	}
}
