# BENCHFLAGS passes flags to the benchmark, e.g.
#   make bench BENCHFLAGS='-runs 3 -rows commit'
BENCHFLAGS ?=

.PHONY: test bench

test:
	go test ./...

bench:
	go run ./bench/cmd/bench $(BENCHFLAGS)
