package main

import (
	"fmt"
	"io"
	"sync"

	"github.com/groveos/grove/core/remote"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/sign"
)

// pullVerification gathers what a pull's signature checks found, to be
// printed as ostree prints them on a terminal.
type pullVerification struct {
	mu    sync.Mutex
	found []*sign.Verification
}

func (p *pullVerification) add(v *sign.Verification) {
	p.mu.Lock()
	p.found = append(p.found, v)
	p.mu.Unlock()
}

// verifiersFor builds the checks rem's configuration asks of a pull.
func verifiersFor(r *repo.Repo, rem *remote.Remote, w remote.Where, report func(*sign.Verification)) (remote.Verifiers, error) {
	p, err := remote.Policy(r, rem, w)
	if err != nil {
		return remote.Verifiers{}, err
	}
	return remote.VerifiersFor(p, report), nil
}

// printGPGResult prints a GPG verification like ostree's
// ostree_print_gpg_verify_result.
func printGPGResult(w io.Writer, res *sign.Result) {
	n := len(res.Signatures)
	plural := "s"
	if n == 1 {
		plural = ""
	}
	fmt.Fprintf(w, "GPG: Verification enabled, found %d signature%s:\n%s", n, plural, res.Describe("  "))
}
