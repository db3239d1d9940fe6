// Package workq holds the work queues the engine's worker pools share:
// a max-heap by a size (largest first: big files start early instead of
// being a run's single-threaded tail) and a blocking, unbounded queue on
// top of it for producer/consumer pools (a producer never waits, so a
// walk that queues work never blocks on the workers it feeds).
package workq
