package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/sign"
	"github.com/groveos/grove/core/summary"
	"github.com/groveos/grove/core/textual"
)

func init() { register(newSummaryCmd) }

func newSummaryCmd() *cobra.Command {
	var update, view, raw bool
	var meta, gpgSign, signKeys []string
	var gpgHome, signType string
	cmd := &cobra.Command{
		Use:   "summary [OPTION…]",
		Short: "Manage summary metadata",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := openRepo(ctx)
			if err != nil {
				return err
			}
			// ostree's summary -v means --view; grove's root owns -v
			// (--verbose), so a bare -v without -u views too.
			if !update && g.verbose {
				view = true
			}
			switch {
			case update:
				var extra []gvariant.DictEntry
				for _, m := range meta {
					k, v, ok := strings.Cut(m, "=")
					if !ok {
						return fmt.Errorf("Missing '=' in KEY=VALUE metadata '%s'", m)
					}
					val, err := gvariant.ParseText(v, nil)
					if err != nil {
						return fmt.Errorf("Error parsing variant ‘%s’: %w", v, err)
					}
					extra = append(extra, gvariant.DictEntry{Key: k, Value: val})
				}
				signer, err := summarySigner(ctx, gpgSign, gpgHome, signKeys, signType)
				if err != nil {
					return err
				}
				return summary.Update(ctx, r, summary.Options{Extra: extra, Sign: signer})
			case view || raw:
				data, err := summary.Read(ctx, r)
				if err != nil {
					return err
				}
				w := bufio.NewWriter(os.Stdout)
				defer w.Flush()
				return dumpSummary(w, data, raw)
			}
			return errors.New("No option specified; use -u to update summary")
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&update, "update", "u", false, "Update the summary")
	f.BoolVar(&view, "view", false, "View the local summary file")
	f.BoolVar(&raw, "raw", false, "View the raw bytes of the summary file")
	f.StringArrayVarP(&meta, "add-metadata", "m", nil, "Additional metadata field to add to the summary")
	f.StringArrayVar(&gpgSign, "gpg-sign", nil, "GPG Key ID to sign the summary with")
	f.StringVar(&gpgHome, "gpg-homedir", "", "GPG Homedir to use when looking for keyrings")
	f.StringArrayVar(&signKeys, "sign", nil, "Key ID to sign the summary with")
	f.StringVar(&signType, "sign-type", "ed25519", "Signature type to use (defaults to 'ed25519')")
	return cmd
}

// dumpSummary prints a summary like ostree's ot_dump_summary_bytes.
func dumpSummary(w io.Writer, data []byte, raw bool) error {
	v, err := gvariant.Unmarshal(summary.Type, data)
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	if raw {
		return printSwapped(w, summary.Type, v)
	}
	top := v.(gvariant.Tuple)
	exts, _ := top[1].([]gvariant.DictEntry)
	var mainID string
	for _, e := range exts {
		if e.Key == summary.KeyCollectionID {
			mainID, _ = e.Value.(gvariant.Variant).Value.(string)
			break
		}
	}
	refs, _ := top[0].([]any)
	for _, ref := range refs {
		t := ref.(gvariant.Tuple)
		name := t[0].(string)
		inner := t[1].(gvariant.Tuple)
		if mainID == "" {
			fmt.Fprintf(w, "* %s\n", name)
		} else {
			fmt.Fprintf(w, "* (%s, %s)\n", mainID, name)
		}
		fmt.Fprintf(w, "    Latest Commit (%s):\n", textual.FormatSize(inner[0].(uint64)))
		csum, _ := inner[1].([]byte)
		if len(csum) == 32 {
			fmt.Fprintf(w, "      %x\n", csum)
		} else {
			fmt.Fprintf(w, "      Invalid checksum of length %d expected 32\n", len(csum))
		}
		md, _ := inner[2].([]gvariant.DictEntry)
		for _, e := range md {
			k, _ := e.Key.(string)
			val := e.Value.(gvariant.Variant)
			switch k {
			case summary.KeyCommitTime:
				fmt.Fprintf(w, "    Timestamp (%s): %s\n", k, isoTime(val))
			case summary.KeyCommitVersion:
				fmt.Fprintf(w, "    Version (%s): %v\n", k, val.Value)
			default:
				fmt.Fprintf(w, "    %s: %s\n", k, gvariant.Print(val.Type, val.Value, false))
			}
		}
		fmt.Fprintln(w)
	}
	for _, e := range exts {
		k, _ := e.Key.(string)
		val := e.Value.(gvariant.Variant)
		var pretty, s string
		switch k {
		case summary.KeyStaticDeltas:
			pretty, s = "Static Deltas", gvariant.Print(val.Type, val.Value, false)
		case summary.KeyLastModified:
			pretty, s = "Last-Modified", isoTime(val)
		case summary.KeyExpires:
			pretty, s = "Expires", isoTime(val)
		case summary.KeyCollectionID:
			pretty, s = "Collection ID", fmt.Sprint(val.Value)
		case "ostree.summary.collection-map":
			pretty, s = "Collection Map", "(printed above)"
		case summary.KeyMode:
			pretty = "Repository Mode"
			m, _ := val.Value.(string)
			if _, err := repo.ParseMode(m); err != nil {
				s = "Invalid (‘" + m + "’)"
			} else {
				s = m
			}
		case summary.KeyTombstones:
			pretty, s = "Has Tombstone Commits", "No"
			if b, _ := val.Value.(bool); b {
				s = "Yes"
			}
		default:
			s = gvariant.Print(val.Type, val.Value, false)
		}
		if pretty != "" {
			fmt.Fprintf(w, "%s (%s): %s\n", pretty, k, s)
		} else {
			fmt.Fprintf(w, "%s: %s\n", k, s)
		}
	}
	return nil
}

// isoTime formats a big-endian uint64 timestamp like ostree's
// uint64_secs_to_iso8601 ("%FT%T%:::z" in local time).
func isoTime(v gvariant.Variant) string {
	n, _ := v.Value.(uint64)
	t := time.Unix(int64(bits.ReverseBytes64(n)), 0).Local()
	_, off := t.Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	z := fmt.Sprintf("%s%02d", sign, off/3600)
	if m := off % 3600 / 60; m != 0 {
		z += fmt.Sprintf(":%02d", m)
	}
	return t.Format("2006-01-02T15:04:05") + z
}

// dumpSummaryKeys lists a summary's metadata keys, sorted
// (ot_dump_summary_metadata_keys).
func dumpSummaryKeys(w io.Writer, data []byte) error {
	v, err := gvariant.Unmarshal(summary.Type, data)
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	exts, _ := v.(gvariant.Tuple)[1].([]gvariant.DictEntry)
	keys := make([]string, 0, len(exts))
	for _, e := range exts {
		k, _ := e.Key.(string)
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintln(w, k)
	}
	return nil
}

// dumpSummaryKey prints one metadata value, byte-swapped and annotated
// (ot_dump_summary_metadata_key).
func dumpSummaryKey(w io.Writer, data []byte, key string) error {
	v, err := gvariant.Unmarshal(summary.Type, data)
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	exts, _ := v.(gvariant.Tuple)[1].([]gvariant.DictEntry)
	val, ok := gvariant.Lookup(exts, key)
	if !ok {
		return fmt.Errorf("No such metadata key '%s'", key)
	}
	vv := val.(gvariant.Variant)
	return printSwapped(w, vv.Type, vv.Value)
}

// summarySigner makes summary.sig for summary -u --gpg-sign/--sign: the
// keys are resolved before anything is written (GPG first, as ostree
// signs); nil when no key is given.
func summarySigner(ctx context.Context, gpgKeys []string, gpgHome string, signKeys []string, signType string) (func(context.Context, []byte) ([]byte, error), error) {
	if len(gpgKeys) == 0 && len(signKeys) == 0 {
		return nil, nil
	}
	var signers []sign.Signer
	for _, k := range gpgKeys {
		s, err := sign.NewGPGSigner(ctx, k, gpgHome)
		if err != nil {
			return nil, err
		}
		signers = append(signers, s)
	}
	for _, k := range signKeys {
		s, err := sign.NewEngineSigner(signType, k)
		if err != nil {
			return nil, err
		}
		signers = append(signers, s)
	}
	return func(ctx context.Context, summary []byte) ([]byte, error) {
		return sign.SignSummary(ctx, summary, nil, signers...)
	}, nil
}
