package textual

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors returned by this package. Their texts are ostree's own; use
// errors.Is to tell them apart.
var (
	ErrBool = errors.New("textual: invalid boolean")
	ErrDate = errors.New("textual: invalid date")
)

// textError carries ostree's message while matching a sentinel.
type textError struct {
	msg string
	is  error
}

func (e *textError) Error() string        { return e.msg }
func (e *textError) Is(target error) bool { return target == e.is }

// ParseBool accepts what ostree's ot_parse_boolean accepts: 1, true, yes
// and 0, false, no, none, in any case.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "true", "yes":
		return true, nil
	case "0", "false", "no", "none":
		return false, nil
	}
	return false, &textError{fmt.Sprintf("invalid boolean: %s", s), ErrBool}
}

var (
	isoRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(?i:(z|utc|gmt)|([+-])(\d{1,2})(?::?(\d{2}))?)?$`)
	})
	unixRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^@([+-]?\d+)(?:[.,]\d+)?$`) })
	relRE  = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(\d+)\s*(second|sec|minute|min|hour|day|week|fortnight|month|year)s?(\s+ago)?$`)
	})
)

// ParseDate reads a date as ostree's --timestamp and --keep-younger-than
// do (gnulib's parse_datetime), in the forms that matter in practice:
// "now", "today", "yesterday", "@UNIX", "N units [ago]", RFC 3339 / ISO
// 8601 with or without a zone, "YYYY-MM-DD HH:MM[:SS] [+ZONE|UTC]" and a
// bare date. A time without a zone is local time ($TZ), as in ostree.
// now anchors the relative forms.
func ParseDate(s string, now time.Time) (time.Time, error) {
	bad := &textError{fmt.Sprintf("Could not parse '%s'", s), ErrDate}
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "now":
		return now, nil
	case "today":
		y, m, d := now.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, now.Location()), nil
	case "yesterday":
		return now.AddDate(0, 0, -1), nil
	}
	if m := unixRE().FindStringSubmatch(t); m != nil {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return time.Time{}, bad
		}
		return time.Unix(n, 0).UTC(), nil
	}
	if m := relRE().FindStringSubmatch(strings.ToLower(t)); m != nil {
		n, _ := strconv.Atoi(m[1])
		if m[3] == "" {
			n = -n // "3 days" means three days from now
		}
		switch m[2] {
		case "second", "sec":
			return now.Add(-time.Duration(n) * time.Second), nil
		case "minute", "min":
			return now.Add(-time.Duration(n) * time.Minute), nil
		case "hour":
			return now.Add(-time.Duration(n) * time.Hour), nil
		case "day":
			return now.AddDate(0, 0, -n), nil
		case "week":
			return now.AddDate(0, 0, -7*n), nil
		case "fortnight":
			return now.AddDate(0, 0, -14*n), nil
		case "month":
			return now.AddDate(0, -n, 0), nil
		case "year":
			return now.AddDate(-n, 0, 0), nil
		}
	}
	m := isoRE().FindStringSubmatch(t)
	if m == nil {
		return time.Time{}, bad
	}
	num := func(i int) int { n, _ := strconv.Atoi(m[i]); return n }
	loc := time.Local
	switch {
	case m[8] != "":
		loc = time.UTC
	case m[9] != "":
		off := num(10)*3600 + num(11)*60
		if m[9] == "-" {
			off = -off
		}
		loc = time.FixedZone("", off)
	}
	y, mo, d, h, mi, sec := num(1), num(2), num(3), num(4), num(5), num(6)
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 {
		return time.Time{}, bad
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, 0, loc), nil
}

// FormatSize is GLib's g_format_size as Debian's GLib 2.74 prints it: SI
// units with one decimal and a no-break space before the unit; bytes
// keep a plain space.
func FormatSize(n uint64) string {
	if n < 1000 {
		if n == 1 {
			return "1 byte"
		}
		return fmt.Sprintf("%d bytes", n)
	}
	units := []string{"kB", "MB", "GB", "TB", "PB", "EB"}
	f := float64(1000)
	for i, u := range units {
		if i == len(units)-1 || float64(n) < f*1000 {
			return fmt.Sprintf("%.1f\u00a0%s", float64(n)/f, u)
		}
		f *= 1000
	}
	return ""
}
