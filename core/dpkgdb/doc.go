// Package dpkgdb reads the dpkg status database a Debian tree carries
// (var/lib/dpkg/status) out of a commit, and compares the packages of two
// commits the way `rpm-ostree db diff` compares rpmdbs: upgraded,
// downgraded, removed and added packages, versions ordered by dpkg's
// rules. Parsing the Debian control format and comparing versions is
// pault.ag/go/debian's (control, version); this package picks the
// installed packages and pairs them up.
//
// It reads the repository through core/inspect and never prints.
package dpkgdb
