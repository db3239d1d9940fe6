# BENCHFLAGS passes flags to the benchmark, e.g.
#   make bench BENCHFLAGS='-runs 3 -rows commit'
BENCHFLAGS ?=

.PHONY: test bench

# test runs every test: unit, real-ostree interop, FUSE and tmux tests.
test:
	go vet ./...
	go test -count=1 -timeout 60m ./...

bench:
	go run ./bench/cmd/bench $(BENCHFLAGS)
