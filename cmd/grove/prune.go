package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/groveos/grove/core/prune"
	"github.com/spf13/cobra"
)

func init() { register(newPruneCmd) }

func newPruneCmd() *cobra.Command {
	var opts prune.Options
	var deleteCommit, keepYounger string
	var staticDeltasOnly bool
	var retain, only []string
	cmd := &cobra.Command{
		Use:   "prune [OPTION…]",
		Short: "Search for unreachable objects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := openRepo(ctx)
			if err != nil {
				return err
			}
			if staticDeltasOnly {
				return errors.New("--static-deltas-only is not supported yet")
			}
			if deleteCommit != "" {
				if opts.NoPrune {
					return errors.New("Cannot specify both --delete-commit and --no-prune")
				}
				sum, err := r.ResolveRev(ctx, deleteCommit)
				if err != nil {
					return err
				}
				if err := prune.DeleteCommit(ctx, r, sum); err != nil {
					return err
				}
			}
			if keepYounger != "" {
				t, err := parseDate(keepYounger, time.Now())
				if err != nil {
					return err
				}
				opts.KeepYoungerThan = t
			}
			for _, bd := range retain {
				b, d, ok := strings.Cut(bd, "=")
				if !ok {
					return fmt.Errorf("Invalid value %s, must specify BRANCH=DEPTH", bd)
				}
				n, err := strconv.Atoi(d)
				if err != nil {
					return fmt.Errorf("Invalid depth %s", d)
				}
				if opts.RetainBranchDepth == nil {
					opts.RetainBranchDepth = map[string]int{}
				}
				opts.RetainBranchDepth[b] = n
			}
			opts.OnlyBranches = only
			res, err := prune.Prune(ctx, r, opts)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if opts.CommitOnly {
				fmt.Fprintf(out, "Total (commit only) objects: %d\n", res.Total)
			} else {
				fmt.Fprintf(out, "Total objects: %d\n", res.Total)
			}
			switch {
			case res.Pruned == 0:
				fmt.Fprintln(out, "No unreachable objects")
			case opts.NoPrune:
				fmt.Fprintf(out, "Would delete: %d objects, freeing %s\n", res.Pruned, gFormatSize(res.Freed))
			default:
				fmt.Fprintf(out, "Deleted %d objects, %s freed\n", res.Pruned, gFormatSize(res.Freed))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.NoPrune, "no-prune", false, "Only display unreachable objects; don't delete")
	fl.BoolVar(&opts.RefsOnly, "refs-only", false, "Only compute reachability via refs")
	fl.IntVar(&opts.Depth, "depth", -1, "Only traverse DEPTH parents for each commit (default: -1=infinite)")
	fl.StringVar(&deleteCommit, "delete-commit", "", "Specify a commit to delete")
	fl.StringVar(&keepYounger, "keep-younger-than", "", "Prune all commits older than the specified date")
	fl.BoolVar(&staticDeltasOnly, "static-deltas-only", false, "Change the behavior of delete-commit and keep-younger-than to prune only static deltas")
	fl.StringArrayVar(&retain, "retain-branch-depth", nil, "Additionally retain BRANCH=DEPTH commits")
	fl.StringArrayVar(&only, "only-branch", nil, "Only prune BRANCH (may be specified multiple times)")
	fl.BoolVar(&opts.CommitOnly, "commit-only", false, "Only traverse and delete commit objects.")
	return cmd
}

// gFormatSize is GLib's g_format_size: SI units, one decimal, and (since
// GLib 2.73) a no-break space before the unit; bytes keep a plain space.
func gFormatSize(n uint64) string {
	if n < 1000 {
		if n == 1 {
			return "1 byte"
		}
		return fmt.Sprintf("%d bytes", n)
	}
	units := []string{"kB", "MB", "GB", "TB", "PB", "EB"}
	f := float64(1000)
	for i, u := range units {
		if i == len(units)-1 || float64(n) < f*1000 {
			return fmt.Sprintf("%.1f\u00a0%s", float64(n)/f, u)
		}
		f *= 1000
	}
	return ""
}

var relDate = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(\d+)\s*(second|sec|minute|min|hour|day|week|fortnight|month|year)s?(\s+ago)?$`)
})

// parseDate accepts the common forms of gnulib's parse_datetime that
// --keep-younger-than is used with: "@EPOCH", "now", "today", "yesterday",
// "N units ago", RFC 3339 and "YYYY-MM-DD[ HH:MM[:SS]]" (local time).
func parseDate(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	switch s {
	case "now":
		return now, nil
	case "today":
		y, m, d := now.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, now.Location()), nil
	case "yesterday":
		return now.AddDate(0, 0, -1), nil
	}
	if strings.HasPrefix(s, "@") {
		n, err := strconv.ParseInt(s[1:], 10, 64)
		if err == nil {
			return time.Unix(n, 0), nil
		}
	}
	if m := relDate().FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		if m[3] == "" {
			n = -n // "3 days" means three days from now
		}
		switch m[2] {
		case "second", "sec":
			return now.Add(-time.Duration(n) * time.Second), nil
		case "minute", "min":
			return now.Add(-time.Duration(n) * time.Minute), nil
		case "hour":
			return now.Add(-time.Duration(n) * time.Hour), nil
		case "day":
			return now.AddDate(0, 0, -n), nil
		case "week":
			return now.AddDate(0, 0, -7*n), nil
		case "fortnight":
			return now.AddDate(0, 0, -14*n), nil
		case "month":
			return now.AddDate(0, -n, 0), nil
		case "year":
			return now.AddDate(-n, 0, 0), nil
		}
	}
	if t, err := time.Parse(time.RFC3339, strings.ToUpper(s)); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02t15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("Could not parse '%s'", s)
}
