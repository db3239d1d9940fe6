package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/inspect"
	"github.com/groveos/grove/core/object"
)

func init() { register(newLsCmd) }

type lsOpts struct {
	dironly, recursive, checksum, xattrs, nul bool
}

func newLsCmd() *cobra.Command {
	var o lsOpts
	cmd := &cobra.Command{
		Use:   "ls [OPTION…] COMMIT [PATH…]",
		Short: "List file paths",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("An COMMIT argument is required")
			}
			ctx := cmd.Context()
			r, sum, err := openRepoRev(ctx, args[0])
			if err != nil {
				return err
			}
			root, err := inspect.Root(ctx, r, sum)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(os.Stdout)
			defer w.Flush()
			paths := args[1:]
			if len(paths) == 0 {
				paths = []string{"/"}
			}
			print := func(e *inspect.Entry) error { return lsPrint(w, e, &o) }
			for _, p := range paths {
				err := func() error {
					e, err := inspect.Lookup(ctx, r, root, p)
					if err != nil {
						return err
					}
					if err := print(e); err != nil {
						return err
					}
					if !e.IsDir() || (o.dironly && !o.recursive) {
						return nil
					}
					depth := 1
					if o.recursive {
						depth = -1
					}
					return inspect.Walk(ctx, r, e, depth, print)
				}()
				if err != nil {
					if len(args) > 1 {
						return fmt.Errorf("Inspecting path '%s': %w", p, err)
					}
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.dironly, "dironly", "d", false, "Do not recurse into directory arguments")
	f.BoolVarP(&o.recursive, "recursive", "R", false, "Print directories recursively")
	f.BoolVarP(&o.checksum, "checksum", "C", false, "Print checksum")
	f.BoolVarP(&o.xattrs, "xattrs", "X", false, "Print extended attributes")
	f.BoolVar(&o.nul, "nul-filenames-only", false, "Print only filenames, NUL separated")
	return cmd
}

// lsPrint writes one line the way ostree's print_one_file does.
func lsPrint(w io.Writer, e *inspect.Entry, o *lsOpts) error {
	if o.nul {
		_, err := io.WriteString(w, e.Path+"\x00")
		return err
	}
	var b strings.Builder
	switch e.Mode & object.ModeType {
	case object.ModeReg:
		b.WriteByte('-')
	case object.ModeDir:
		b.WriteByte('d')
	case object.ModeLink:
		b.WriteByte('l')
	default:
		b.WriteByte('?')
	}
	fmt.Fprintf(&b, "0%04o %d %d %6d ", e.Mode&^object.ModeType, e.UID, e.GID, e.Size)
	if o.checksum {
		if e.IsDir() {
			fmt.Fprintf(&b, "%s ", e.Tree)
		}
		fmt.Fprintf(&b, "%s ", e.Checksum)
	}
	if o.xattrs {
		xs, err := xattrsText(e.Xattrs)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "{ %s } ", xs)
	}
	b.WriteString(e.Path)
	if e.IsSymlink() {
		b.WriteString(" -> " + e.Target)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}
