package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/inspect"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

func init() { register(newShowCmd) }

var (
	dirmetaType = gvariant.MustParseType("(uuua(ayay))")
	dirtreeType = gvariant.MustParseType("(a(say)a(sayay))")
	metaType    = gvariant.MustParseType("a{sv}")
	xattrsType  = gvariant.MustParseType("a(ayay)")
)

type showOpts struct {
	related, raw, noByteswap bool
	metaKey, detachedKey     string
	gpgHome, gpgRemote       string
	gpgVerify                bool
}

func newShowCmd() *cobra.Command {
	var o showOpts
	cmd := &cobra.Command{
		Use:   "show [OPTION…] OBJECT",
		Short: "Output a metadata object",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("An object argument is required")
			}
			w := bufio.NewWriter(os.Stdout)
			defer w.Flush()
			return runShow(cmd, w, args[0], &o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.related, "print-related", false, "Show the \"related\" commits")
	f.StringVar(&o.metaKey, "print-metadata-key", "", "Print string value of metadata key")
	f.StringVar(&o.detachedKey, "print-detached-metadata-key", "", "Print string value of detached metadata key")
	f.BoolVar(&o.raw, "raw", false, "Show raw variant data")
	f.BoolVarP(&o.noByteswap, "no-byteswap", "B", false, "Do not automatically convert variant data from big endian")
	f.StringVar(&o.gpgHome, "gpg-homedir", "", "GPG Homedir to use when looking for keyrings")
	f.StringVar(&o.gpgRemote, "gpg-verify-remote", "", "Use REMOTE name for GPG configuration")
	f.BoolVar(&o.gpgVerify, "gpg-verify", false, "Fail unless the commit has a valid GPG signature")
	return cmd
}

func runShow(cmd *cobra.Command, w *bufio.Writer, rev string, o *showOpts) error {
	ctx := cmd.Context()
	r, err := openRepo(ctx)
	if err != nil {
		return err
	}
	f := cmd.Flags()
	switch {
	case f.Changed("print-metadata-key") || f.Changed("print-detached-metadata-key"):
		sum, err := inspect.ResolveRev(ctx, r, rev)
		if err != nil {
			return err
		}
		var dict []gvariant.DictEntry
		key := o.metaKey
		if f.Changed("print-detached-metadata-key") {
			key = o.detachedKey
			if dict, err = r.LoadCommitMeta(ctx, sum); err != nil {
				return err
			}
			if dict == nil {
				return fmt.Errorf("No detached metadata for commit %s", sum)
			}
		} else {
			c, err := r.LoadCommit(ctx, sum)
			if err != nil {
				return err
			}
			dict = c.Metadata
		}
		v, ok := object.LookupMeta(dict, key)
		if !ok {
			return fmt.Errorf("No such metadata key '%s'", key)
		}
		if o.noByteswap {
			_, err = fmt.Fprintln(w, gvariant.Print(v.Type, v.Value, true))
			return err
		}
		return printSwapped(w, v.Type, v.Value)
	case o.related:
		sum, err := inspect.ResolveRev(ctx, r, rev)
		if err != nil {
			return err
		}
		c, err := r.LoadCommit(ctx, sum)
		if err != nil {
			return err
		}
		for _, rel := range c.Related {
			fmt.Fprintf(w, "%s %s\n", rel.Name, rel.Checksum)
		}
		return nil
	}
	if !oid.IsChecksum(rev) {
		sum, err := inspect.ResolveRev(ctx, r, rev)
		if err != nil {
			return err
		}
		return showMeta(cmd, w, r, oid.Commit, sum, o)
	}
	sum, err := oid.Parse(rev)
	if err != nil {
		return err
	}
	for _, typ := range []oid.ObjectType{oid.Commit, oid.DirMeta, oid.DirTree} {
		ok, err := r.HasObject(ctx, oid.ObjectName{Checksum: sum, Type: typ})
		if err != nil {
			return err
		}
		if ok {
			return showMeta(cmd, w, r, typ, sum, o)
		}
	}
	c, err := r.OpenContent(ctx, sum)
	if err != nil {
		if errors.Is(err, repo.ErrNotFound) {
			if r.Mode() != repo.ModeArchive {
				return fmt.Errorf("Opening content object %s: Couldn't find file object '%s'", rev, rev)
			}
			return fmt.Errorf("Couldn't find file object '%s'", rev)
		}
		return err
	}
	c.Close()
	h := c.Header
	fmt.Fprintf(w, "Object: %s\nType: file\nFile Type: ", rev)
	if h.Mode&object.ModeType == object.ModeLink {
		fmt.Fprintf(w, "symlink\nTarget: %s\n", h.SymlinkTarget)
	} else {
		fmt.Fprintf(w, "regular\nSize: %d\n", c.Size)
	}
	fmt.Fprintf(w, "Mode: 0%04o\nUid: %d\nGid: %d\n", h.Mode, h.UID, h.GID)
	xs, err := xattrsText(h.Xattrs)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Extended Attributes: { %s }\n", xs)
	return nil
}

// xattrsText prints xattrs as g_variant_print(a(ayay), TRUE) does.
func xattrsText(xs []object.Xattr) (string, error) {
	v, err := gvariant.Unmarshal(xattrsType, object.MarshalXattrs(xs))
	if err != nil {
		return "", err
	}
	return gvariant.Print(xattrsType, v, true), nil
}

func showMeta(cmd *cobra.Command, w *bufio.Writer, r *repo.Repo, typ oid.ObjectType, sum oid.Checksum, o *showOpts) error {
	ctx := cmd.Context()
	data, err := r.ReadMeta(ctx, typ, sum)
	if err != nil {
		return err
	}
	var t *gvariant.Type
	switch typ {
	case oid.Commit:
		t = commitType
	case oid.DirMeta:
		t = dirmetaType
	case oid.DirTree:
		t = dirtreeType
	default:
		t = metaType
	}
	fmt.Fprintf(w, "%s %s\n", typ, sum)
	if o.noByteswap || o.raw {
		v, err := gvariant.Unmarshal(t, data)
		if err != nil {
			return fmt.Errorf("%s %s: %w", typ, sum, err)
		}
		if o.noByteswap {
			fmt.Fprintln(w, gvariant.Print(t, v, true))
		} else {
			return printSwapped(w, t, v)
		}
	}
	if typ != oid.Commit {
		return nil
	}
	c, err := object.UnmarshalCommit(data)
	if err != nil {
		return fmt.Errorf("commit %s: %w", sum, err)
	}
	if err := dumpCommitFields(w, c); err != nil {
		return err
	}
	return showSignatures(cmd, w, r, sum, o)
}
