package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/fetch"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/pull"
	"github.com/groveos/grove/core/remote"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/textual"
)

func init() { register(newPullCmd) }

type pullFlags struct {
	commitOnly, mirror, dryRun, untrusted, httpTrusted, timestampCheck bool
	disableDeltas, requireDeltas, disableBindings, disableFsync        bool
	depth, retries, progressFD                                         int
	url                                                                string
	subpaths, headers, caches                                          []string
	// accepted for ostree compatibility, without effect here
	perObjectFsync, bareuseronlyFiles, noRetryAll                  bool
	frequency, lowSpeedLimit, lowSpeedTime, maxOutstandingRequests int
	cacheDir, timestampFromRev                                     string
}

func newPullCmd() *cobra.Command {
	var o pullFlags
	cmd := &cobra.Command{
		Use:   "pull [OPTION…] REMOTE [BRANCH…]",
		Short: "Download data from a remote repository",
		Long: "Pull BRANCHes (or REF@COMMIT, or commit checksums) from REMOTE; with no branch, the\n" +
			"remote's configured branches, or with --mirror every ref of its summary.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("REMOTE must be specified")
			}
			return runPull(cmd.Context(), o, args[0], args[1:])
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.commitOnly, "commit-metadata-only", false, "Fetch only the commit metadata")
	f.StringVar(&o.cacheDir, "cache-dir", "", "Use custom cache dir")
	f.BoolVar(&o.disableFsync, "disable-fsync", false, "Do not invoke fsync()")
	f.BoolVar(&o.perObjectFsync, "per-object-fsync", false, "Perform writes in such a way that avoids stalling concurrent processes")
	f.BoolVar(&o.disableDeltas, "disable-static-deltas", false, "Do not use static deltas")
	f.BoolVar(&o.requireDeltas, "require-static-deltas", false, "Require static deltas")
	f.BoolVar(&o.noRetryAll, "disable-retry-on-network-errors", false, "Do not retry when network issues happen, instead fail automatically")
	f.BoolVar(&o.mirror, "mirror", false, "Write refs suitable for a mirror and fetches all refs if none provided")
	f.StringArrayVar(&o.subpaths, "subpath", nil, "Only pull the provided subpath(s)")
	f.BoolVar(&o.untrusted, "untrusted", false, "Verify checksums of local sources (always enabled for HTTP pulls)")
	f.BoolVar(&o.httpTrusted, "http-trusted", false, "Do not verify checksums of HTTP sources (mostly useful when mirroring)")
	f.BoolVar(&o.bareuseronlyFiles, "bareuseronly-files", false, "Reject regular files with mode outside of 0775 (world writable, suid, etc.)")
	f.BoolVar(&o.dryRun, "dry-run", false, "Only print information on what will be downloaded (requires static deltas)")
	f.IntVar(&o.depth, "depth", 0, "Traverse DEPTH parents (-1=infinite) (default: 0)")
	f.StringVar(&o.url, "url", "", "Pull objects from this URL instead of the one from the remote config")
	f.StringArrayVar(&o.headers, "http-header", nil, "Add NAME=VALUE as HTTP header to all requests")
	f.IntVar(&o.frequency, "update-frequency", 0, "Sets the update frequency, in milliseconds (0=1000ms) (default: 0)")
	f.IntVar(&o.retries, "network-retries", -1, "Specifies how many times each download should be retried upon error (default: 5)")
	f.IntVar(&o.lowSpeedLimit, "low-speed-limit-bytes", -1, "accepted for compatibility (grove aborts a transfer that stalls for 30 s)")
	f.IntVar(&o.lowSpeedTime, "low-speed-time-seconds", -1, "accepted for compatibility (grove aborts a transfer that stalls for 30 s)")
	f.IntVar(&o.maxOutstandingRequests, "max-outstanding-fetcher-requests", -1, "The max amount of concurrent connections allowed. (default: 8)")
	f.StringArrayVarP(&o.caches, "localcache-repo", "L", nil, "Add REPO as local cache source for objects during this pull")
	f.BoolVarP(&o.timestampCheck, "timestamp-check", "T", false, "Require fetched commits to have newer timestamps")
	f.StringVar(&o.timestampFromRev, "timestamp-check-from-rev", "", "Require fetched commits to have newer timestamps than given rev")
	f.BoolVar(&o.disableBindings, "disable-verify-bindings", false, "Do not verify commit bindings")
	f.IntVar(&o.progressFD, "progress-fd", 0, "Write progress as JSON lines (phase, done, total, bytes, rate) to file descriptor FD")
	return cmd
}

func runPull(ctx context.Context, o pullFlags, remoteArg string, refs []string) error {
	r, err := openRepo(ctx)
	if err != nil {
		return err
	}
	if o.disableFsync {
		r.SetDisableFsync(true)
	}
	if o.dryRun && !o.requireDeltas {
		return errors.New("--dry-run requires --require-static-deltas")
	}
	name := remoteArg
	if !strings.HasPrefix(name, "file://") && strings.Contains(name, ":") {
		// REMOTE:REF, one ref.
		rem, ref, err := oid.ParseRefspec(name)
		if err != nil {
			return err
		}
		name, refs = rem, []string{ref}
	}
	for _, ref := range refs {
		if at := strings.LastIndexByte(ref, '@'); at >= 0 && !oid.IsChecksum(ref[at+1:]) {
			return fmt.Errorf("Invalid checksum '%s'", ref[at+1:])
		}
	}
	rem, err := remote.Get(r, remote.Where{}, name)
	if err != nil {
		return err
	}
	if len(refs) == 0 && !o.mirror {
		if refs = rem.Branches(); len(refs) == 0 {
			return fmt.Errorf("No configured branches for remote %s", name)
		}
	}
	var headers [][2]string
	for _, h := range o.headers {
		k, v, ok := strings.Cut(h, "=")
		if !ok {
			return errors.New("Missing '=' in --http-header")
		}
		headers = append(headers, [2]string{k, v})
	}
	var found pullVerification
	verify, err := verifiersFor(r, rem, remote.Where{}, found.add)
	if err != nil {
		return err
	}
	so := remote.SourceOptions{URL: o.url, Headers: headers, Retries: o.retries, VerifySummary: verify.Summary}
	if o.noRetryAll {
		so.Retries = 0
	}
	if o.maxOutstandingRequests > 0 {
		so.Fetch = func(fo *fetch.Options) { fo.MaxConns = o.maxOutstandingRequests }
	}
	src, err := remote.Open(ctx, r, rem, so)
	if err != nil {
		return err
	}
	_, local := src.(*remote.Source)
	local = !local
	var caches []*repo.Repo
	for _, p := range o.caches {
		c, err := repo.Open(ctx, p)
		if err != nil {
			return fmt.Errorf("opening local cache repo %s: %w", p, err)
		}
		caches = append(caches, c)
	}
	bar, clearBar := progressBar("Receiving objects")
	fdProgress, err := progressFD(o.progressFD)
	if err != nil {
		return err
	}
	opts := pull.Options{
		Refs: refs, Depth: o.depth, CommitMetadataOnly: o.commitOnly, Subpaths: o.subpaths,
		Remote: name, DisableVerifyBindings: o.disableBindings, TimestampCheck: o.timestampCheck,
		Verify: verify.Commit, RequireDelta: o.requireDeltas, DryRun: o.dryRun,
		Progress: bothProgress(bar, fdProgress), LocalCaches: caches,
		// What arrived survives even kill -9: the next pull fetches the rest.
		Checkpoint: 2 * time.Second,
		Trusted:    (local && !o.untrusted) || (!local && o.httpTrusted && !o.untrusted),
	}
	if o.mirror {
		opts.Remote = ""
	}
	// Static deltas, as ostree: not from file:// remotes or into archive
	// repositories unless required, never with --disable-static-deltas.
	var dstats deltaStats
	if hs, ok := src.(*remote.Source); !o.disableDeltas && (o.requireDeltas || (ok && r.Mode() != repo.ModeArchive)) {
		var sum *remote.Summary
		if ok {
			sum = hs.Summary()
		}
		opts.Delta = pullDeltas(sum, &dstats)
	}
	start := time.Now()
	res, err := pull.Pull(ctx, r, src, opts)
	clearBar()
	if err != nil {
		return err
	}
	hs, isHTTP := src.(*remote.Source)
	if o.mirror && len(refs) == 0 && isHTTP && hs.Summary() != nil {
		// A mirror of all refs keeps the remote's summary, as ostree's.
		if err := remote.WriteMirrorSummary(r, hs.Summary()); err != nil {
			return err
		}
	}
	if o.dryRun {
		return nil
	}
	if term.IsTerminal(os.Stdout.Fd()) {
		// On a terminal ostree shows each GPG verification.
		for _, v := range found.found {
			if v.GPG != nil {
				fmt.Println()
				printGPGResult(os.Stdout, v.GPG)
			}
		}
	}
	// ostree's closing status line.
	st := res.Stats
	var b strings.Builder
	if local {
		fmt.Fprintf(&b, "%d metadata, %d content objects imported", st.MetaFetched, st.ContentFetched)
	} else {
		if n := dstats.parts.Load(); n > 0 {
			fmt.Fprintf(&b, "%d delta parts, %d loose fetched", n, st.MetaFetched+st.ContentFetched)
		} else {
			fmt.Fprintf(&b, "%d metadata, %d content objects fetched", st.MetaFetched, st.ContentFetched)
		}
		if st.Local > 0 {
			fmt.Fprintf(&b, " (%d local)", st.Local)
		}
		if n := hs.BytesReceived(); n > 0 {
			unit, div := "B", int64(1)
			if n >= 1024 {
				unit, div = "KiB", 1024
			}
			fmt.Fprintf(&b, "; %d %s transferred in %d seconds", n/div, unit, int(time.Since(start).Seconds()))
		}
	}
	fmt.Fprintf(&b, "; %s content written", textual.FormatSize(uint64(st.ContentWritten)))
	fmt.Println(b.String())
	return nil
}
