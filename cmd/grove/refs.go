package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/inspect"
	"github.com/groveos/grove/core/oid"
)

func init() { register(newRefsCmd) }

type refsOpts struct {
	del, list, alias, force bool
	create                  string
}

func newRefsCmd() *cobra.Command {
	var o refsOpts
	cmd := &cobra.Command{
		Use:   "refs [OPTION…] [PREFIX]",
		Short: "List refs",
		RunE: func(cmd *cobra.Command, args []string) error {
			create := cmd.Flags().Changed("create")
			if len(args) == 0 {
				if o.del {
					return errors.New("At least one PREFIX is required when deleting refs")
				}
				if create {
					return errors.New("You must specify a revision when creating a new ref")
				}
				args = []string{""}
			} else if create && len(args) > 1 {
				return errors.New("You must specify only 1 existing ref when creating a new ref")
			}
			w := bufio.NewWriter(os.Stdout)
			defer w.Flush()
			for _, a := range args {
				if err := doRefs(cmd, w, a, create, &o); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.del, "delete", false, "Delete refs which match PREFIX, rather than listing them")
	f.BoolVar(&o.list, "list", false, "Do not remove the prefix from the refs")
	f.BoolVarP(&o.alias, "alias", "A", false, "If used with --create, create an alias, otherwise just list aliases")
	f.StringVar(&o.create, "create", "", "Create a new ref for an existing commit")
	f.BoolVar(&o.force, "force", false, "Overwrite existing refs when creating")
	return cmd
}

// doRefs follows ostree's do_ref for one PREFIX ("" for none).
func doRefs(cmd *cobra.Command, w *bufio.Writer, prefix string, create bool, o *refsOpts) error {
	ctx := cmd.Context()
	r, err := openRepo(ctx)
	if err != nil {
		return err
	}
	var aliases map[string]string
	if o.alias || o.del {
		if aliases, err = r.RefsWithPrefix(ctx, "", false, true); err != nil {
			return err
		}
	}
	var refs map[string]string
	switch {
	case o.del || o.list || (!create && o.alias):
		refs, err = r.RefsWithPrefix(ctx, prefix, false, o.alias)
	case create:
		refs, err = r.RefsWithPrefix(ctx, "", false, false)
	default:
		refs, err = r.RefsWithPrefix(ctx, prefix, true, false)
	}
	if err != nil {
		return err
	}
	switch {
	case !o.del && !create:
		// ostree prints in hash-table order; grove sorts.
		names := make([]string, 0, len(refs))
		for n := range refs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if o.alias {
				fmt.Fprintf(w, "%s -> %s\n", n, refs[n])
			} else {
				fmt.Fprintln(w, n)
			}
		}
		return nil
	case create:
		existing := false
		if _, err := inspect.ResolveRev(ctx, r, o.create); err == nil {
			existing = true
		} else if !errors.Is(err, inspect.ErrNotFound) {
			return err
		}
		_, replacingAlias := aliases[o.create]
		replacingAlias = replacingAlias && o.alias
		if !replacingAlias && !o.force && existing {
			return fmt.Errorf("--create specified but ref %s already exists", o.create)
		}
		remote, ref, err := oid.ParseRefspec(o.create)
		if err != nil {
			return fmt.Errorf("Invalid refspec %s: %w", o.create, err)
		}
		if o.alias {
			if remote != "" {
				return fmt.Errorf("Cannot create alias to remote ref: %s", remote)
			}
			if _, ok := refs[prefix]; !ok {
				return fmt.Errorf("Cannot create alias to non-existent ref: %s", prefix)
			}
			return r.CreateAlias(ctx, ref, prefix)
		}
		sum, err := inspect.ResolveRev(ctx, r, prefix)
		if err != nil {
			return err
		}
		return r.SetRef(ctx, remote, ref, sum)
	}
	names := make([]string, 0, len(refs))
	for n := range refs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, spec := range names {
		remote, ref, err := oid.ParseRefspec(spec)
		if err != nil {
			return fmt.Errorf("Invalid refspec %s", spec)
		}
		for alias, target := range aliases {
			if target == ref {
				return fmt.Errorf("Ref '%s' has an active alias: '%s'", ref, alias)
			}
		}
		if err := r.DeleteRef(ctx, remote, ref); err != nil {
			return err
		}
	}
	return nil
}
