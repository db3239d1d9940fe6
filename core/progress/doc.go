// Package progress is the engine's one progress contract. Every long core
// call (commit, checkout, pull, fsck, prune, delta generation and apply,
// deploy) takes a Func in its options and calls it with Event snapshots as
// it goes, as often as it likes: throttling is the consumer's business
// (the CLI's bar, the TUI's task strip), done with a Throttle.
//
// A nil Func is valid and costs one comparison. Cancellation is not part of
// this contract: it travels in the ctx every such call takes first.
package progress
