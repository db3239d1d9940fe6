# BENCHFLAGS passes flags to the benchmark, e.g.
#   make bench BENCHFLAGS='-runs 3 -rows commit'
BENCHFLAGS ?=

.PHONY: build test bench bench-go bench-tui

# build makes a static binary, bin/grove (no cgo: it starts faster, and
# runs on any Linux of the same architecture).
build:
	CGO_ENABLED=0 go build -o bin/grove ./cmd/grove

# test runs every test: unit, real-ostree interop, FUSE and tmux tests.
test:
	go vet ./...
	go test -count=1 -timeout 60m ./...

bench:
	go run ./bench/cmd/bench $(BENCHFLAGS)

# bench-go runs the Go micro-benchmarks (GVariant, headers, hashing,
# .filez deflate/inflate); compare two runs with benchstat.
bench-go:
	go test -run '^$$' -bench . -benchmem -count=6 ./core/gvariant ./core/object ./core/repo ./core/fsck ./core/internal/inflate

# bench-tui times the terminal UI on a 10,000-commit, 50,000-file repository
# (cached in bench/_cache/tui-repo) and writes bench/results/tui.md.
bench-tui:
	go run ./bench/tui
