// Command checker is the test program of bisect's tests: built static, it
// is put into the trees of a bisecttest History and run by bisect run
// inside them. It exits 125 when the tree carries etc/untestable, 0 when
// etc/behaviour says "ok", 1 when it says "broken", 3 otherwise (the
// files are looked for in usr/share/bisect when etc has none).
//
//	checker [-print] [-write PATH] [-exit N]
//
// -print prints $GROVE_BISECT_ROOT, $GROVE_BISECT_COMMIT and the working
// directory; -write tries to write PATH and says whether it could;
// -exit N exits with N whatever the tree says.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	print := flag.Bool("print", false, "print the environment bisect run sets")
	write := flag.String("write", "", "try to write this file")
	exit := flag.Int("exit", -1, "exit with this code")
	flag.Parse()
	root := os.Getenv("GROVE_BISECT_ROOT")
	if root == "" {
		root = "/"
	}
	if *print {
		wd, _ := os.Getwd()
		fmt.Printf("root=%s commit=%s wd=%s\n", root, os.Getenv("GROVE_BISECT_COMMIT"), wd)
	}
	if *write != "" {
		if err := os.WriteFile(*write, []byte("written by checker\n"), 0o644); err != nil {
			fmt.Printf("write %s: failed\n", *write)
		} else {
			fmt.Printf("write %s: ok\n", *write)
		}
	}
	if *exit >= 0 {
		os.Exit(*exit)
	}
	dir := filepath.Join(root, "etc")
	if _, err := os.Stat(filepath.Join(dir, "behaviour")); err != nil {
		dir = filepath.Join(root, "usr/share/bisect") // a deployable tree's
	}
	if _, err := os.Stat(filepath.Join(dir, "untestable")); err == nil {
		fmt.Println("untestable")
		os.Exit(125)
	}
	b, err := os.ReadFile(filepath.Join(dir, "behaviour"))
	if err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
	switch strings.TrimSpace(string(b)) {
	case "ok":
		fmt.Println("behaviour ok")
		os.Exit(0)
	case "broken":
		fmt.Println("behaviour broken")
		os.Exit(1)
	}
	os.Exit(3)
}
