package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func init() { register(newConfigCmd) }

func newConfigCmd() *cobra.Command {
	var group string
	cmd := &cobra.Command{
		Use:   "config [OPTION…] (get KEY|set KEY VALUE|unset KEY)",
		Short: "Change repo configuration settings",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := openRepo(ctx)
			if err != nil {
				return err
			}
			if len(args) < 1 {
				return errors.New("OPERATION must be specified")
			}
			op := args[0]
			want := 2
			if op == "set" {
				want = 3
			}
			if len(args) > want {
				return errors.New("Too many arguments given")
			}
			hasGroup := cmd.Flags().Changed("group")
			// sectionKey splits "section.key" at the first dot, as ostree does.
			sectionKey := func() (string, string, error) {
				if hasGroup {
					return group, args[1], nil
				}
				s, k, ok := strings.Cut(args[1], ".")
				if !ok {
					return "", "", errors.New(`Key must be of the form "sectionname.keyname"`)
				}
				return s, k, nil
			}
			switch op {
			case "set":
				if len(args) < 3 {
					if hasGroup {
						return errors.New("GROUP name, KEY and VALUE must be specified")
					}
					return errors.New("KEY and VALUE must be specified")
				}
				s, k, err := sectionKey()
				if err != nil {
					return err
				}
				kf := r.Config()
				kf.Set(s, k, args[2])
				return r.SaveConfig(ctx, kf)
			case "get", "unset":
				if len(args) < 2 {
					if hasGroup {
						return errors.New("Group name and key must be specified")
					}
					return errors.New("KEY must be specified")
				}
				s, k, err := sectionKey()
				if err != nil {
					return err
				}
				kf := r.Config()
				if op == "unset" {
					if kf.Delete(s, k) {
						return r.SaveConfig(ctx, kf)
					}
					return nil
				}
				v, ok := kf.Get(s, k)
				if !ok {
					for _, gname := range kf.Groups() {
						if gname == s {
							return fmt.Errorf("Key file does not have key “%s” in group “%s”", k, s)
						}
					}
					return fmt.Errorf("Key file does not have group “%s”", s)
				}
				fmt.Println(v)
				return nil
			}
			return fmt.Errorf("Unknown operation %s", op)
		},
	}
	cmd.Flags().StringVar(&group, "group", "", "Group name")
	return cmd
}
