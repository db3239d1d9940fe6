// Package deploy bisects between the deployments of a sysroot: it finds
// the default endpoints (the rollback deployment good, the default one
// bad), stages each candidate as the next boot deployment for an admin to
// reboot into and judge, keeps the deployments the bisect depends on
// pinned meanwhile, and at the end puts the sysroot back as it found it:
// the candidates undeployed, the pins it added removed, the original
// default deployment first again.
//
// The sysroot mechanics are core/sysroot's (Deploy, WriteDeployments,
// pins, cleanup); what is recorded is bisect.Admin, saved with the rest
// of the bisect state by the caller, who holds the sysroot lock. Cleanups
// here never prune: the bisect's history may be commit objects only that
// no ref keeps. It never prints.
package deploy
