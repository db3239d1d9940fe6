package checkout

import (
	"bytes"
	"os"
	"strconv"
)

// processUmask is the process umask, read at each checkout's start:
// /proc/self/status has it (Linux ≥ 4.7); umask(2) cannot be read without
// setting it, which would race with other goroutines.
func processUmask() (uint32, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("Umask:")); ok {
			n, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 8, 32)
			if err != nil {
				return 0, false
			}
			return uint32(n), true
		}
	}
	return 0, false
}
