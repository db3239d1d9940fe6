package main

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"github.com/groveos/grove/core/repotest"
)

func TestExportSameBytesListingAndTreeAsOstree(t *testing.T) {
	repotest.NeedOstree(t)
	for _, m := range repotest.Modes {
		t.Run(m.String(), func(t *testing.T) {
			p, _ := ostreeMadeRepo(t, m)
			for _, flags := range [][]string{nil, {"--subpath=/usr"}, {"--prefix=root/"}} {
				d := t.TempDir()
				args := append([]string{"export", "--repo=" + p}, flags...)
				grove(t, append(args, "--output="+d+"/g.tar", "main")...)
				repotest.Ostree(t, append(args, "--output="+d+"/o.tar", "main")...)
				g, _ := os.ReadFile(d + "/g.tar")
				o, _ := os.ReadFile(d + "/o.tar")
				if !bytes.Equal(g, o) {
					t.Errorf("%v: tar bytes differ (grove %d bytes, ostree %d)", flags, len(g), len(o))
				}
				gl, _ := exec.Command("tar", "-tvf", d+"/g.tar").CombinedOutput()
				ol, _ := exec.Command("tar", "-tvf", d+"/o.tar").CombinedOutput()
				if string(gl) != string(ol) {
					t.Errorf("%v: listings differ:\n%s\n---\n%s", flags, gl, ol)
				}
				for _, n := range []string{"g", "o"} {
					os.Mkdir(d+"/"+n, 0o755)
					if out, err := exec.Command("tar", "-xpf", d+"/"+n+".tar", "-C", d+"/"+n).CombinedOutput(); err != nil {
						t.Fatalf("extracting %s.tar: %v\n%s", n, err, out)
					}
				}
				repotest.SameTree(t, d+"/o", d+"/g")
			}
			// Standard output is padded to libarchive's 10240-byte blocks.
			out := grove(t, "export", "--repo="+p, "main")
			oout, err := exec.Command("ostree", "export", "--repo="+p, "main").Output()
			if err != nil {
				t.Fatal(err)
			}
			if out != string(oout) {
				t.Errorf("stdout export differs (grove %d bytes, ostree %d)", len(out), len(oout))
			}
		})
	}
}
