// Package theme holds the TUI's palette and styles, adapting to light and
// dark terminals, plus small layout helpers shared by every screen. Colour
// downsampling (and NO_COLOR) is left to the terminal output: bubbletea
// detects the colour profile and converts what the styles emit.
package theme
