package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/inspect"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

func init() { register(newLogCmd) }

func newLogCmd() *cobra.Command {
	var raw bool
	cmd := &cobra.Command{
		Use:   "log [OPTION…] REV",
		Short: "Show log starting at commit or ref",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("A rev argument is required")
			}
			ctx := cmd.Context()
			r, sum, err := openRepoRev(ctx, args[0])
			if err != nil {
				return err
			}
			w := bufio.NewWriter(os.Stdout)
			defer w.Flush()
			first := true
			for {
				c, data, err := loadCommitRaw(ctx, r, sum)
				if err != nil {
					if !first && errors.Is(err, repo.ErrNotFound) {
						fmt.Fprintln(w, "<< History beyond this commit not fetched >>")
						return nil
					}
					return err
				}
				first = false
				if err := dumpCommit(w, sum, c, data, raw); err != nil {
					return err
				}
				if !c.HasParent() {
					return nil
				}
				sum = c.Parent
			}
		},
	}
	cmd.Flags().BoolVar(&raw, "raw", false, "Show raw variant data")
	return cmd
}

var commitType = gvariant.MustParseType("(a{sv}aya(say)sstayay)")

func loadCommitRaw(ctx context.Context, r *repo.Repo, sum oid.Checksum) (*object.Commit, []byte, error) {
	data, err := r.ReadMeta(ctx, oid.Commit, sum)
	if err != nil {
		return nil, nil, err
	}
	c, err := object.UnmarshalCommit(data)
	if err != nil {
		return nil, nil, fmt.Errorf("commit %s: %w", sum, err)
	}
	return c, data, nil
}

// printSwapped prints a value like ostree's ot_dump_variant: byte-swapped
// (little-endian host), annotated, then a newline.
func printSwapped(w io.Writer, t *gvariant.Type, v any) error {
	s, err := inspect.Byteswap(t, v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, gvariant.Print(t, s, true))
	return err
}

// dumpCommit prints a commit exactly like ostree's ot_dump_object.
func dumpCommit(w io.Writer, sum oid.Checksum, c *object.Commit, data []byte, raw bool) error {
	fmt.Fprintf(w, "commit %s\n", sum)
	if raw {
		v, err := gvariant.Unmarshal(commitType, data)
		if err != nil {
			return fmt.Errorf("commit %s: %w", sum, err)
		}
		return printSwapped(w, commitType, v)
	}
	return dumpCommitFields(w, c)
}

// dumpCommitFields prints what ostree's dump_commit prints after the
// "commit CSUM" line.
func dumpCommitFields(w io.Writer, c *object.Commit) error {
	if c.HasParent() {
		fmt.Fprintf(w, "Parent:  %s\n", c.Parent)
	}
	fmt.Fprintf(w, "ContentChecksum:  %s\n", c.ContentChecksum())
	fmt.Fprintf(w, "Date:  %s\n", c.Time().UTC().Format("2006-01-02 15:04:05 +0000"))
	if v, ok := c.Lookup(object.MetaVersion); ok {
		if s, ok := v.Value.(string); ok {
			fmt.Fprintf(w, "Version: %s\n", s)
		}
	}
	if c.Subject != "" {
		fmt.Fprintln(w)
		dumpIndented(w, c.Subject)
	} else {
		fmt.Fprintln(w, "(no subject)")
	}
	if c.Body != "" {
		fmt.Fprintln(w)
		dumpIndented(w, c.Body)
	}
	_, err := fmt.Fprintln(w)
	return err
}

func dumpIndented(w io.Writer, s string) {
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			if s != "" {
				fmt.Fprintf(w, "    %s\n", s)
			}
			return
		}
		fmt.Fprintf(w, "    %s", s[:i+1])
		s = s[i+1:]
	}
}
