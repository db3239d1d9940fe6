package kernel

import (
	"errors"
	"strings"
)

// ParseOSRelease reads os-release(5) text as libostree does: one KEY=VALUE
// per line, lines starting with '#' skipped, values shell-unquoted (a line
// whose value does not unquote is skipped); a repeated key keeps the last.
func ParseOSRelease(contents string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(contents, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		u, err := ShellUnquote(v)
		if err != nil {
			continue
		}
		out[k] = u
	}
	return out
}

var errUnquote = errors.New("sysroot: unmatched quotation mark")

// ShellUnquote is GLib's g_shell_unquote: single quotes are literal,
// double quotes honour backslash before " \ ` $ and newline, and outside
// quotes a backslash escapes any character (a backslash-newline vanishes).
func ShellUnquote(s string) (string, error) {
	var b strings.Builder
	i := 0
	for i < len(s) {
		for i < len(s) && s[i] != '"' && s[i] != '\'' {
			if s[i] == '\\' {
				i++
				if i < len(s) {
					if s[i] != '\n' {
						b.WriteByte(s[i])
					}
					i++
				}
				continue
			}
			b.WriteByte(s[i])
			i++
		}
		if i >= len(s) {
			break
		}
		q := s[i]
		i++
		closed := false
		for i < len(s) {
			c := s[i]
			if c == q {
				i++
				closed = true
				break
			}
			if q == '"' && c == '\\' {
				i++
				if i < len(s) {
					switch s[i] {
					case '"', '\\', '`', '$', '\n':
						b.WriteByte(s[i])
						i++
						continue
					}
				}
				b.WriteByte('\\')
				continue
			}
			b.WriteByte(c)
			i++
		}
		if !closed {
			return "", errUnquote
		}
	}
	return b.String(), nil
}
