package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/remote"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/sign"
)

func init() { register(newRemoteCmd) }

func newRemoteCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remote COMMAND",
		Short: "Remote commands that may involve network access",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("No command specified")
		},
	}
	cmd.AddCommand(newRemoteAddCmd(), newRemoteDeleteCmd(), newRemoteListCmd(), newRemoteShowURLCmd(),
		newRemoteRefsCmd(), newRemoteSummaryCmd(), newRemoteGPGImportCmd(), newRemoteListGPGKeysCmd())
	return cmd
}

// openRemoteRepo opens --repo, or with --sysroot=S the sysroot's
// repository S/ostree/repo. As in ostree, remotes go to
// /etc/ostree/remotes.d only on the booted system; a sysroot looked at
// from outside (a physical sysroot) keeps them in the repository config.
func openRemoteRepo(ctx context.Context, sysroot string) (*repo.Repo, remote.Where, error) {
	if sysroot == "" {
		r, err := openRepo(ctx)
		return r, remote.Where{}, err
	}
	p := filepath.Join(sysroot, "ostree", "repo")
	r, err := repo.Open(ctx, p)
	if err != nil {
		return nil, remote.Where{}, fmt.Errorf("opening repo %s: %w", p, err)
	}
	var w remote.Where
	if filepath.Clean(sysroot) == "/" {
		if _, err := os.Stat("/run/ostree-booted"); err == nil {
			w.SysrootDir = "/"
		}
	}
	return r, w, nil
}

func newRemoteAddCmd() *cobra.Command {
	var o remote.AddOptions
	var set []string
	var sysroot, gpgImport string
	cmd := &cobra.Command{
		Use:   "add [OPTION…] NAME [metalink=|mirrorlist=]URL [BRANCH…]",
		Short: "Add a remote repository",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return errors.New("NAME and URL must be specified")
			}
			ctx := cmd.Context()
			r, w, err := openRemoteRepo(ctx, sysroot)
			if err != nil {
				return err
			}
			o.Name, o.URL, o.Branches = args[0], args[1], args[2:]
			for _, kv := range set {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return fmt.Errorf("Missing '=' in KEY=VALUE pair '%s'", kv)
				}
				o.Set = append(o.Set, [2]string{k, v})
			}
			if err := remote.Add(ctx, r, w, o); err != nil {
				return err
			}
			if gpgImport != "" {
				return remoteGPGImport(ctx, r, o.Name, []string{gpgImport}, false, nil)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&set, "set", nil, "Set config option KEY=VALUE for remote")
	f.BoolVar(&o.NoGPGVerify, "no-gpg-verify", false, "Disable GPG verification")
	f.BoolVar(&o.NoSignVerify, "no-sign-verify", false, "Disable signature verification")
	f.StringArrayVar(&o.SignVerify, "sign-verify", nil, "Verify signatures using KEYTYPE=inline:PUBKEY or KEYTYPE=file:/path/to/key")
	f.BoolVar(&o.IfNotExists, "if-not-exists", false, "Do nothing if the provided remote exists")
	f.BoolVar(&o.Force, "force", false, "Replace the provided remote if it exists")
	f.StringVar(&gpgImport, "gpg-import", "", "Import GPG key from FILE")
	f.StringVar(&o.ContentURL, "contenturl", "", "Use URL when fetching content")
	f.StringVar(&o.CollectionID, "collection-id", "", "Globally unique ID for this repository as an collection of refs for redistribution to other repositories")
	f.StringVar(&sysroot, "sysroot", "", "Use sysroot at PATH (overrides --repo)")
	return cmd
}

func newRemoteDeleteCmd() *cobra.Command {
	var ifExists bool
	var sysroot string
	cmd := &cobra.Command{
		Use:   "delete [OPTION…] NAME",
		Short: "Delete a remote repository",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("NAME must be specified")
			}
			ctx := cmd.Context()
			r, w, err := openRemoteRepo(ctx, sysroot)
			if err != nil {
				return err
			}
			return remote.Delete(ctx, r, w, args[0], ifExists)
		},
	}
	cmd.Flags().BoolVar(&ifExists, "if-exists", false, "Do nothing if the provided remote does not exist")
	cmd.Flags().StringVar(&sysroot, "sysroot", "", "Use sysroot at PATH (overrides --repo)")
	return cmd
}

func newRemoteListCmd() *cobra.Command {
	var urls bool
	cmd := &cobra.Command{
		Use:   "list [OPTION…]",
		Short: "List remote repository names",
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := openRepo(cmd.Context())
			if err != nil {
				return err
			}
			all, err := remote.List(r, remote.Where{})
			if err != nil {
				return err
			}
			w := bufio.NewWriter(os.Stdout)
			defer w.Flush()
			width := 0
			for _, rem := range all {
				width = max(width, len(rem.Name))
			}
			for _, rem := range all {
				if !urls {
					fmt.Fprintln(w, rem.Name)
					continue
				}
				u, err := rem.URL()
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "%-*s  %s\n", width, rem.Name, u)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&urls, "show-urls", "u", false, "Show remote URLs in list")
	return cmd
}

func newRemoteShowURLCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show-url NAME",
		Short: "Show remote repository URL",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("NAME must be specified")
			}
			r, err := openRepo(cmd.Context())
			if err != nil {
				return err
			}
			rem, err := remote.Get(r, remote.Where{}, args[0])
			if err != nil {
				return err
			}
			u, err := rem.URL()
			if err != nil {
				return err
			}
			fmt.Println(u)
			return nil
		},
	}
}

// remoteSummary fetches (or takes from the cache) a remote's summary,
// verified as the remote's configuration says.
func remoteSummary(ctx context.Context, name string, report func(*sign.Verification)) (*remote.Summary, error) {
	r, err := openRepo(ctx)
	if err != nil {
		return nil, err
	}
	rem, err := remote.Get(r, remote.Where{}, name)
	if err != nil {
		return nil, err
	}
	verify, err := verifiersFor(r, rem, remote.Where{}, report)
	if err != nil {
		return nil, err
	}
	return remote.FetchRemoteSummary(ctx, r, rem, remote.SourceOptions{VerifySummary: verify.Summary})
}

func newRemoteRefsCmd() *cobra.Command {
	var revision bool
	var cacheDir string
	cmd := &cobra.Command{
		Use:   "refs NAME",
		Short: "List remote refs",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("NAME must be specified")
			}
			s, err := remoteSummary(cmd.Context(), args[0], nil)
			if err != nil {
				return err
			}
			if s == nil {
				return errors.New("Remote refs not available; server has no summary file")
			}
			names := make([]string, 0, len(s.Refs))
			for n := range s.Refs {
				names = append(names, n)
			}
			sort.Strings(names)
			w := bufio.NewWriter(os.Stdout)
			defer w.Flush()
			for _, n := range names {
				if revision {
					fmt.Fprintf(w, "%s:%s\t%s\n", args[0], n, s.Refs[n].Commit)
				} else {
					fmt.Fprintf(w, "%s:%s\n", args[0], n)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&revision, "revision", "r", false, "Show revisions in listing")
	cmd.Flags().StringVar(&cacheDir, "cache-dir", "", "Use custom cache dir")
	return cmd
}

func newRemoteSummaryCmd() *cobra.Command {
	var raw, listKeys bool
	var printKey, cacheDir string
	cmd := &cobra.Command{
		Use:   "summary [OPTION…] NAME",
		Short: "Show remote summary",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("NAME must be specified")
			}
			var found pullVerification
			s, err := remoteSummary(cmd.Context(), args[0], found.add)
			if err != nil {
				return err
			}
			if s == nil {
				return errors.New("Remote server has no summary file")
			}
			w := bufio.NewWriter(os.Stdout)
			defer w.Flush()
			switch {
			case listKeys:
				return dumpSummaryKeys(w, s.Raw)
			case printKey != "":
				return dumpSummaryKey(w, s.Raw, printKey)
			}
			if err := dumpSummary(w, s.Raw, raw); err != nil {
				return err
			}
			// As ostree: the GPG signatures checked, unless --raw.
			for _, v := range found.found {
				if v.GPG != nil && !raw {
					fmt.Fprintln(w)
					printGPGResult(w, v.GPG)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&listKeys, "list-metadata-keys", false, "List the available metadata keys")
	f.StringVar(&printKey, "print-metadata-key", "", "Print string value of metadata key")
	f.StringVar(&cacheDir, "cache-dir", "", "Use custom cache dir")
	f.BoolVar(&raw, "raw", false, "Show raw variant data")
	return cmd
}
