package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/groveos/grove/core/checkout"
	"github.com/spf13/cobra"
)

func init() { register(newExportCmd) }

type exportFlags struct {
	output, subpath, prefix string
	noXattrs                bool
}

func newExportCmd() *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "export [OPTION…] COMMIT",
		Short: "Stream COMMIT to stdout in tar format",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("A COMMIT argument is required")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExport(cmd.Context(), &f, args[0])
		},
	}
	fl := cmd.Flags()
	// The GNU tar format ostree writes has no xattrs, so --no-xattrs
	// changes nothing; it is accepted for compatibility.
	fl.BoolVar(&f.noXattrs, "no-xattrs", false, "Skip output of extended attributes")
	fl.StringVar(&f.subpath, "subpath", "", "Checkout sub-directory PATH")
	fl.StringVar(&f.prefix, "prefix", "", "Add PATH as prefix to archive pathnames")
	fl.StringVarP(&f.output, "output", "o", "", "Output to PATH ")
	return cmd
}

func runExport(ctx context.Context, f *exportFlags, rev string) error {
	r, err := openRepo(ctx)
	if err != nil {
		return err
	}
	sum, err := r.ResolveRev(ctx, rev)
	if err != nil {
		return err
	}
	var w io.Writer = os.Stdout
	var out *os.File
	// Like libarchive: standard output and non-regular files are padded
	// to 10240-byte blocks, regular output files are not.
	opts := checkout.ExportOptions{Subpath: f.subpath, Prefix: f.prefix, BlockSize: 10240}
	if f.output != "" {
		out, err = os.Create(f.output)
		if err != nil {
			return err
		}
		defer out.Close()
		w = out
		if st, err := out.Stat(); err == nil && st.Mode().IsRegular() {
			opts.BlockSize = 0
		}
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := checkout.Export(ctx, r, sum, bw, opts); err != nil {
		return fmt.Errorf("exporting %s: %w", rev, err)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if out != nil {
		return out.Close()
	}
	return nil
}
