package textual

import (
	"errors"
	"testing"
	"time"
)

func TestParseBool(t *testing.T) {
	for s, want := range map[string]bool{"1": true, "TRUE": true, "yes": true, "0": false, "False": false, "no": false, "none": false} {
		if got, err := ParseBool(s); err != nil || got != want {
			t.Errorf("ParseBool(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseBool("maybe"); !errors.Is(err, ErrBool) || err.Error() != "invalid boolean: maybe" {
		t.Errorf("ParseBool(maybe) = %v", err)
	}
}

func TestParseDate(t *testing.T) {
	now := time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)
	utc := func(y int, mo time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	}
	for s, want := range map[string]time.Time{
		"now":                       now,
		"today":                     utc(2024, 3, 10, 0, 0, 0),
		"yesterday":                 utc(2024, 3, 9, 12, 0, 0),
		"@1577836800":               utc(2020, 1, 1, 0, 0, 0),
		"@1577836800.5":             utc(2020, 1, 1, 0, 0, 0),
		"3 days ago":                utc(2024, 3, 7, 12, 0, 0),
		"2 weeks ago":               utc(2024, 2, 25, 12, 0, 0),
		"1 hour":                    utc(2024, 3, 10, 13, 0, 0),
		"2020-01-01T00:00:00Z":      utc(2020, 1, 1, 0, 0, 0),
		"2020-01-01 10:30 UTC":      utc(2020, 1, 1, 10, 30, 0),
		"2020-01-01T10:30:00+02:00": utc(2020, 1, 1, 8, 30, 0),
	} {
		got, err := ParseDate(s, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseDate(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"garbage", "2020-13-01", "2020-01-01 25:00", "@x"} {
		if _, err := ParseDate(s, now); !errors.Is(err, ErrDate) || err.Error() != "Could not parse '"+s+"'" {
			t.Errorf("ParseDate(%q) = %v", s, err)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 bytes", 1: "1 byte", 999: "999 bytes", 1000: "1.0\u00a0kB",
		1400: "1.4\u00a0kB", 4700: "4.7\u00a0kB", 999_999: "1000.0\u00a0kB", 1_500_000: "1.5\u00a0MB", 3e12: "3.0\u00a0TB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// The --timestamp forms commit took before the parsers were merged.
func TestParseDateTimestampForms(t *testing.T) {
	plus1 := time.FixedZone("", 3600)
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"@0", time.Unix(0, 0)},
		{"@1234567890", time.Unix(1234567890, 0)},
		{"2020-01-01T00:00:00Z", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"2020-01-01T01:00:00+01:00", time.Date(2020, 1, 1, 1, 0, 0, 0, plus1)},
		{"2020-01-01 01:00:00 +0100", time.Date(2020, 1, 1, 1, 0, 0, 0, plus1)},
		{"2020-01-01 00:00:00 UTC", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"2020-01-01 00:00 Z", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"2020-01-01T00:00:00.75Z", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"2020-6-7", time.Date(2020, 6, 7, 0, 0, 0, 0, time.Local)},
	} {
		got, err := ParseDate(c.in, time.Now())
		if err != nil || got.Unix() != c.want.Unix() {
			t.Errorf("ParseDate(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "yesterday-ish", "2020-13-01", "2020-01-01T25:00:00Z", "@x"} {
		if _, err := ParseDate(bad, time.Now()); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
}
