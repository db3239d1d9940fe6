package main

import (
	"fmt"
	"strings"

	"github.com/groveos/grove/core/repo"
	"github.com/spf13/cobra"
)

func init() {
	register(func() *cobra.Command {
		var mode, collectionID string
		cmd := &cobra.Command{
			Use:   "init",
			Short: "Initialize a new empty repository",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				p, err := repoPath()
				if err != nil {
					return err
				}
				m, err := repo.ParseMode(mode)
				if err != nil {
					return err
				}
				if collectionID != "" {
					if !validCollectionID(collectionID) {
						return fmt.Errorf("invalid collection ID %s", collectionID)
					}
				}
				if _, err := repo.Create(cmd.Context(), p, repo.CreateOptions{Mode: m, CollectionID: collectionID}); err != nil {
					return fmt.Errorf("creating repo %s: %w", p, err)
				}
				return nil
			},
		}
		cmd.Flags().StringVar(&mode, "mode", "bare", "initialize repository in given mode (bare, bare-user, bare-user-only, archive)")
		cmd.Flags().StringVar(&collectionID, "collection-id", "", "globally unique ID for this repository as a collection of refs")
		return cmd
	})
}

// validCollectionID applies g_dbus_is_interface_name, which ostree uses for
// collection IDs: two or more dot-separated elements of [A-Za-z0-9_], none
// starting with a digit, 255 bytes at most.
func validCollectionID(s string) bool {
	parts := strings.Split(s, ".")
	if len(s) > 255 || len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || (p[0] >= '0' && p[0] <= '9') {
			return false
		}
		for _, c := range p {
			if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}
