package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/delta/apply"
	"github.com/groveos/grove/core/delta/generate"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/textual"
)

func init() { register(newStaticDeltaCmd) }

func newStaticDeltaCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "static-delta COMMAND",
		Short: "Static delta related commands",
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.Usage()
			return errors.New("No command specified")
		},
	}
	cmd.AddCommand(newDeltaListCmd(), newDeltaShowCmd(), newDeltaDeleteCmd(), newDeltaGenerateCmd(),
		newDeltaApplyCmd(), newDeltaVerifyCmd(), newDeltaIndexesCmd(), newDeltaReindexCmd())
	return cmd
}

func newDeltaListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List static delta files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := openRepo(cmd.Context())
			if err != nil {
				return err
			}
			names, err := delta.List(cmd.Context(), r)
			if err != nil {
				return err
			}
			if len(names) == 0 {
				fmt.Println("(No static deltas)")
			}
			for _, n := range names {
				fmt.Println(n)
			}
			return nil
		},
	}
}

func newDeltaIndexesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "indexes",
		Short: "List static delta indexes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := openRepo(cmd.Context())
			if err != nil {
				return err
			}
			idx, err := delta.ListIndexes(cmd.Context(), r)
			if err != nil {
				return err
			}
			if len(idx) == 0 {
				fmt.Println("(No static deltas indexes)")
			}
			for _, c := range idx {
				fmt.Println(c)
			}
			return nil
		},
	}
}

func newDeltaReindexCmd() *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "reindex",
		Short: "Regenerate static delta indexes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := openRepo(cmd.Context())
			if err != nil {
				return err
			}
			var target *oid.Checksum
			if to != "" {
				c, err := r.ResolveRev(cmd.Context(), to)
				if err != nil {
					return err
				}
				target = &c
			}
			return delta.Reindex(cmd.Context(), r, target)
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "Only update delta index to revision REV")
	return cmd
}

func newDeltaDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete DELTA",
		Short: "Remove a delta",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("DELTA must be specified")
			}
			r, err := openRepo(cmd.Context())
			if err != nil {
				return err
			}
			n, err := delta.ParseName(args[0])
			if err != nil {
				return err
			}
			return delta.Delete(cmd.Context(), r, n)
		},
	}
}

// resolveDelta finds the delta a show/verify argument names: a path to a
// superblock file (it has a '/'), a delta name, or a revision that
// exactly one delta ends at. It returns the superblock path and the
// directory of its parts.
func resolveDelta(cmd *cobra.Command, r *repo.Repo, arg string) (sbPath, label string, err error) {
	if strings.Contains(arg, "/") {
		return arg, arg, nil
	}
	n, perr := delta.ParseName(arg)
	if perr == nil {
		return filepath.Join(r.Path(), n.SuperblockPath()), arg, nil
	}
	to, err := r.ResolveRev(cmd.Context(), arg)
	if err != nil {
		return "", "", perr
	}
	names, err := delta.List(cmd.Context(), r)
	if err != nil {
		return "", "", err
	}
	var match []delta.Name
	for _, n := range names {
		if n.To == to {
			match = append(match, n)
		}
	}
	switch len(match) {
	case 0:
		return "", "", fmt.Errorf("%w: no delta ends at %s (%s)", delta.ErrNotFound, arg, to)
	case 1:
		return filepath.Join(r.Path(), match[0].SuperblockPath()), match[0].String(), nil
	}
	var s []string
	for _, m := range match {
		s = append(s, m.String())
	}
	return "", "", fmt.Errorf("%s: %d deltas end at %s; name one: %s", delta.ErrName, len(match), to, strings.Join(s, ", "))
}

func newDeltaShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show DELTA",
		Short: "Dump information on a delta",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("DELTA must be specified")
			}
			r, err := openRepo(cmd.Context())
			if err != nil {
				return err
			}
			path, label, err := resolveDelta(cmd, r, args[0])
			if err != nil {
				return err
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sb, signed, err := delta.ParseFile(raw)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(os.Stdout)
			defer w.Flush()
			dir := filepath.Dir(path)
			return showDelta(w, label, sb, signed != nil, func(i int, h delta.PartHeader) ([]byte, error) {
				return apply.ReadLimited(filepath.Join(dir, fmt.Sprint(i)), h.Size)
			})
		},
	}
}

// showDelta prints ostree's static-delta show report; unlike ostree it
// also shows inline deltas.
func showDelta(w io.Writer, label string, sb *delta.Superblock, signed bool, read func(int, delta.PartHeader) ([]byte, error)) error {
	fmt.Fprintf(w, "Delta: %s\n", label)
	fmt.Fprintf(w, "Signed: %s\n", map[bool]string{true: "yes", false: "no"}[signed])
	if sb.From.IsZero() {
		fmt.Fprintln(w, "From <scratch>")
	} else {
		fmt.Fprintf(w, "From: %s\n", sb.From)
	}
	fmt.Fprintf(w, "To: %s\n", sb.To)
	e := sb.Endian.String()
	if sb.Heuristic {
		e += " (heuristic)"
	}
	fmt.Fprintf(w, "Endianness: %s\n", e)
	fmt.Fprintf(w, "Timestamp: %d\n", sb.Timestamp)
	fmt.Fprintf(w, "Number of parents: %d\n", len(sb.Recurse)/64)
	fmt.Fprintf(w, "Number of fallback entries: %d\n", len(sb.Fallbacks))
	var fsize, fusize uint64
	for _, f := range sb.Fallbacks {
		fmt.Fprintf(w, "  %s\n", f.Object.Checksum)
		fsize += f.Size
		fusize += f.USize
	}
	fmt.Fprintf(w, "Total Fallback Size: %d (%s)\n", fsize, textual.FormatSize(fsize))
	fmt.Fprintf(w, "Total Fallback Uncompressed Size: %d (%s)\n", fusize, textual.FormatSize(fusize))
	fmt.Fprintf(w, "Number of parts: %d\n", len(sb.Parts))
	infos, err := delta.DescribeParts(sb, read)
	if err != nil {
		return err
	}
	var size, usize uint64
	for i, p := range infos {
		h := p.Header
		size += h.Size
		usize += h.USize
		fmt.Fprintf(w, "PartMeta%d: nobjects=%d size=%d usize=%d\n", i, len(h.Objects), h.Size, h.USize)
		fmt.Fprintf(w, "PartPayload%d: nmodes=%d nxattrs=%d blobsize=%d opsize=%d\n", i, p.Modes, p.Xattrs, p.BlobSize, p.OpSize)
		s := p.Stats
		fmt.Fprintf(w, "PartPayloadOps%d: openspliceclose=%d open=%d write=%d setread=%d unsetread=%d close=%d bspatch=%d\n",
			i, s[0], s[1], s[2], s[3], s[4], s[5], s[6])
	}
	fmt.Fprintf(w, "Total Part Size: %d (%s)\n", size, textual.FormatSize(size))
	fmt.Fprintf(w, "Total Part Uncompressed Size: %d (%s)\n", usize, textual.FormatSize(usize))
	fmt.Fprintf(w, "Total Size: %d (%s)\n", size+fsize, textual.FormatSize(size+fsize))
	fmt.Fprintf(w, "Total Uncompressed Size: %d (%s)\n", usize+fusize, textual.FormatSize(usize+fusize))
	return nil
}

func newDeltaApplyCmd() *cobra.Command {
	var signType string
	var keysFile, keysDir string
	cmd := &cobra.Command{
		Use:   "apply-offline PATH [KEY…]",
		Short: "Apply static delta file",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("PATH must be specified")
			}
			ctx := cmd.Context()
			r, err := openRepo(ctx)
			if err != nil {
				return err
			}
			verify, err := deltaVerifyPolicy(ctx, r, signType, args[1:], keysFile, keysDir)
			if err != nil {
				return err
			}
			report, done := progressBar("apply-offline")
			defer done()
			_, err = apply.Offline(ctx, r, args[0], apply.Options{Verify: verify, Progress: report})
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&signType, "sign-type", "", "Signature type to use (defaults to 'ed25519')")
	f.StringVar(&keysFile, "keys-file", "", "Read key(s) from file")
	f.StringVar(&keysDir, "keys-dir", "", "Redefine system-wide directories with public and revoked keys for verification")
	return cmd
}

func newDeltaGenerateCmd() *cobra.Command {
	var (
		from, to, endianness, filename, signType, keysFile string
		minFallback, maxBsdiff, maxChunk                   string
		empty, inline, disableBsdiff, ifNotExists, swap    bool
		signKeys                                           []string
	)
	cmd := &cobra.Command{
		Use:   "generate [OPTION…] [TO]",
		Short: "Generate static delta files",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if to == "" && len(args) > 0 {
				to = args[0]
			}
			if to == "" {
				return errors.New("TO revision must be specified")
			}
			r, err := openRepo(ctx)
			if err != nil {
				return err
			}
			opts := generate.Options{MinFallbackSize: -1, MaxBsdiffSize: -1, DisableBsdiff: disableBsdiff,
				Inline: inline, Filename: filename}
			fromRev := from
			if empty {
				if from != "" {
					return errors.New("Cannot specify both --empty and --from=REV")
				}
			} else if from == "" {
				fromRev = to + "^"
			}
			if fromRev != "" {
				c, err := r.ResolveRev(ctx, fromRev)
				if err != nil {
					return err
				}
				opts.From = &c
			}
			if opts.To, err = r.ResolveRev(ctx, to); err != nil {
				return err
			}
			name := delta.Name{To: opts.To}
			if opts.From != nil {
				name.From = *opts.From
			}
			if ifNotExists && delta.Exists(r, name) {
				fmt.Printf("Delta %s already exists.\n", name)
				return nil
			}
			opts.Endian = delta.Little
			switch endianness {
			case "", "l", "little":
			case "B", "big":
				opts.Endian = delta.Big
			default:
				return fmt.Errorf("Invalid endianness '%s'", endianness)
			}
			if swap {
				opts.Endian = map[delta.Endianness]delta.Endianness{delta.Little: delta.Big, delta.Big: delta.Little}[opts.Endian]
			}
			for _, s := range []struct {
				v   string
				dst *int64
			}{{minFallback, &opts.MinFallbackSize}, {maxBsdiff, &opts.MaxBsdiffSize}, {maxChunk, &opts.MaxChunkSize}} {
				if s.v != "" {
					*s.dst = megabytes(s.v)
				}
			}
			keys := append([]string(nil), signKeys...)
			if keysFile != "" {
				b, err := os.ReadFile(keysFile)
				if err != nil {
					return err
				}
				for _, l := range strings.Split(string(b), "\n") {
					if l = strings.TrimSpace(l); l != "" {
						keys = append(keys, l)
					}
				}
			}
			for _, k := range keys {
				s, err := newDeltaSigner(signType, k)
				if err != nil {
					return err
				}
				opts.Signers = append(opts.Signers, s)
			}
			fmt.Println("Generating static delta:")
			if opts.From != nil {
				fmt.Printf("  From: %s\n", opts.From)
			} else {
				fmt.Println("  From: empty")
			}
			fmt.Printf("  To:   %s\n", opts.To)
			var done func()
			opts.Progress, done = progressBar("generate")
			res, err := generate.Generate(ctx, r, opts)
			done()
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "uncompressed=%d compressed=%d loose=%d\n", res.Uncompressed, res.Compressed, res.Loose)
			fmt.Fprintf(os.Stderr, "rollsum=%d objects, %d bytes\n", res.Rollsum, res.RollsumBytes)
			fmt.Fprintf(os.Stderr, "bsdiff=%d objects\n", res.Bsdiff)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "Create delta from revision REV")
	f.BoolVar(&empty, "empty", false, "Create delta from scratch")
	f.BoolVar(&inline, "inline", false, "Inline delta parts into main delta")
	f.StringVar(&to, "to", "", "Create delta to revision REV")
	f.BoolVar(&disableBsdiff, "disable-bsdiff", false, "Disable use of bsdiff")
	f.BoolVarP(&ifNotExists, "if-not-exists", "n", false, "Only generate if a delta does not already exist")
	f.StringVar(&endianness, "set-endianness", "", "Choose metadata endianness ('l' or 'B')")
	f.StringVar(&endianness, "endianness", "", "Same as --set-endianness (also 'little' or 'big')")
	f.BoolVar(&swap, "swap-endianness", false, "Swap metadata endianness from host order")
	f.StringVar(&minFallback, "min-fallback-size", "", "Minimum uncompressed size in megabytes for individual HTTP request")
	f.StringVar(&maxBsdiff, "max-bsdiff-size", "", "Maximum size in megabytes to consider bsdiff compression for input files")
	f.StringVar(&maxChunk, "max-chunk-size", "", "Maximum size of delta chunks in megabytes")
	f.StringVar(&filename, "filename", "", "Write the delta superblock to PATH (parts beside it). If not specified, the OSTree repository is used")
	f.StringArrayVar(&signKeys, "sign", nil, "Sign the delta with")
	f.StringVar(&signType, "sign-type", "", "Signature type to use (defaults to 'ed25519')")
	f.StringVar(&keysFile, "keys-file", "", "Read key(s) from file")
	return cmd
}

// megabytes parses ostree's size options: decimal megabytes, read like
// g_ascii_strtoull (leading digits; garbage gives 0).
func megabytes(s string) int64 {
	var n int64
	for _, c := range strings.TrimSpace(s) {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n * 1_000_000
}
