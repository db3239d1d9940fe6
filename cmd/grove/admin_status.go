package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/sysroot"
	"github.com/groveos/grove/core/sysroot/admin"
)

func init() { registerAdmin(newAdminStatusCmd) }

func newAdminStatusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List deployments",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := openSysroot(ctx, cmd, false)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(cmd.OutOrStdout())
			defer w.Flush()
			if asJSON {
				return statusJSON(ctx, w, s)
			}
			return printStatus(ctx, w, s, g.verbose, isTTY(os.Stdout))
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "Print the deployments as JSON")
	return cmd
}

func isTTY(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// commitInfo reads what status shows of a commit: its version and source
// title, when the commit can be loaded.
func commitInfo(ctx context.Context, r *repo.Repo, csum string) (version, sourceTitle string) {
	sum, err := oid.Parse(csum)
	if err != nil {
		return "", ""
	}
	c, err := r.LoadCommit(ctx, sum)
	if err != nil {
		return "", ""
	}
	str := func(k string) string {
		if v, ok := c.Lookup(k); ok {
			if s, ok := v.Value.(string); ok {
				return s
			}
		}
		return ""
	}
	return str("version"), str("ostree.source-title")
}

// marks returns booted, pending and rollback as `ostree admin status`
// marks them (pending and rollback only on a booted system).
func marks(s *sysroot.Sysroot) (booted, pending, rollback *sysroot.Deployment) {
	booted = s.Booted()
	if booted != nil {
		pending, rollback = s.PendingRollback("")
	}
	return
}

// printStatus prints what `ostree admin status` prints; verbose adds the
// boot entry's details under each deployment.
func printStatus(ctx context.Context, w io.Writer, s *sysroot.Sysroot, verbose, tty bool) error {
	deps := s.Deployments()
	if len(deps) == 0 {
		fmt.Fprintln(w, "No deployments.")
		return nil
	}
	booted, pending, rollback := marks(s)
	for _, d := range deps {
		mark := ' '
		if d == booted {
			mark = '*'
		}
		state := ""
		switch {
		case d.Staged:
			state = " (staged)"
		case d == pending:
			state = " (pending)"
		case d == rollback:
			state = " (rollback)"
		}
		fmt.Fprintf(w, "%c %s %s.%d%s\n", mark, d.Stateroot, d.Checksum, d.Serial, state)
		version, title := commitInfo(ctx, s.Repo(), d.Checksum)
		if version != "" {
			fmt.Fprintf(w, "    Version: %s\n", version)
		}
		if d.Unlocked != sysroot.UnlockedNone {
			if tty {
				fmt.Fprintf(w, "    \x1b[31m\x1b[1mUnlocked: %s\x1b[0m\x1b[22m\n", d.Unlocked)
			} else {
				fmt.Fprintf(w, "    Unlocked: %s\n", d.Unlocked)
			}
		}
		if d.Pinned() {
			fmt.Fprintln(w, "    Pinned: yes")
		}
		if d.Origin == nil {
			fmt.Fprintln(w, "    origin: none")
		} else {
			if spec, ok := d.Origin.Get("origin", "refspec"); ok {
				fmt.Fprintf(w, "    origin refspec: %s\n", spec)
			} else {
				fmt.Fprintln(w, "    origin: <unknown origin type>")
			}
			if title != "" {
				fmt.Fprintf(w, "    `- %s\n", title)
			}
		}
		res, err := admin.StatusSignatures(ctx, s, d)
		if err != nil {
			return err
		}
		if res != nil {
			for i := range res.Signatures {
				fmt.Fprint(w, res.Signatures[i].Describe("    GPG: "))
			}
		}
		if verbose {
			fmt.Fprintf(w, "    Index: %d\n", d.Index)
			fmt.Fprintf(w, "    Deployment: /%s\n", d.Dir())
			if d.Boot != nil && !d.Staged {
				fmt.Fprintf(w, "    Boot entry: /boot/loader.%d/entries/ostree-%d-%s.conf\n", s.Bootversion(), len(deps)-d.Index, d.Stateroot)
				fmt.Fprintf(w, "    Boot checksum: %s (serial %d)\n", d.BootChecksum, d.BootSerial)
				fmt.Fprintf(w, "    Kernel arguments: %s\n", d.Kargs())
			}
		}
	}
	return nil
}

// jsonDeployment is one deployment in `grove admin status --json`.
type jsonDeployment struct {
	Index        int      `json:"index"`
	Stateroot    string   `json:"stateroot"`
	Checksum     string   `json:"checksum"`
	Serial       int      `json:"serial"`
	Booted       bool     `json:"booted"`
	Pending      bool     `json:"pending"`
	Rollback     bool     `json:"rollback"`
	Staged       bool     `json:"staged"`
	Pinned       bool     `json:"pinned"`
	Unlocked     string   `json:"unlocked"`
	Version      string   `json:"version,omitempty"`
	SourceTitle  string   `json:"source-title,omitempty"`
	Origin       *string  `json:"origin-refspec"`
	BootChecksum string   `json:"boot-checksum"`
	BootSerial   int      `json:"boot-serial"`
	Kargs        string   `json:"kernel-arguments"`
	Path         string   `json:"path"`
	Overlays     []string `json:"overlay-initrds,omitempty"`
}

func statusJSON(ctx context.Context, w io.Writer, s *sysroot.Sysroot) error {
	booted, pending, rollback := marks(s)
	out := struct {
		Bootversion    int              `json:"bootversion"`
		Subbootversion int              `json:"subbootversion"`
		Booted         bool             `json:"booted"`
		Deployments    []jsonDeployment `json:"deployments"`
	}{s.Bootversion(), s.Subbootversion(), booted != nil, []jsonDeployment{}}
	for _, d := range s.Deployments() {
		version, title := commitInfo(ctx, s.Repo(), d.Checksum)
		j := jsonDeployment{
			Index: d.Index, Stateroot: d.Stateroot, Checksum: d.Checksum, Serial: d.Serial,
			Booted: d == booted, Pending: d == pending, Rollback: d == rollback, Staged: d.Staged,
			Pinned: d.Pinned(), Unlocked: d.Unlocked.String(), Version: version, SourceTitle: title,
			BootChecksum: d.BootChecksum, BootSerial: d.BootSerial, Kargs: d.Kargs(),
			Path: s.Abs(d.Dir()), Overlays: d.OverlayInitrds,
		}
		if d.Origin != nil {
			if spec, ok := d.Origin.Get("origin", "refspec"); ok {
				j.Origin = &spec
			}
		}
		out.Deployments = append(out.Deployments, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
