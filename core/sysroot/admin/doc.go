// Package admin holds the `ostree admin` operations that create or
// rearrange deployments on a sysroot opened with package sysroot: deploy a
// commit (hardlink checkout, /etc copy and three-way merge, origin,
// kernel-argument flags), upgrade and switch from the origin (through a
// Puller seam; file:// remotes are built in), undeploy, pin, rollback
// (which ostree lacks), set-origin, kernel arguments in place and unlock.
// Callers hold the sysroot lock; nothing here prints (messages go to the
// sysroot's OnMessage/OnWarning).
package admin
