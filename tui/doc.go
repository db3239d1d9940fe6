// Package tui is grove's terminal UI: the root model (screen stack, global
// keys, help, error banner, progress bar, command log) and Services, which
// implements the views' source interfaces over core/*.
package tui
