package bls

// States and results of glibc's strverscmp automaton.
const (
	sN  = 0 // normal
	sI  = 3 // comparing integral part
	sF  = 6 // comparing fractional part
	sZ  = 9 // idem but with leading zeroes only
	cmp = 2
	ln  = 3
)

var nextState = [...]int{
	/*        x   d   0 */
	/* sN */ sN, sI, sZ,
	/* sI */ sN, sI, sI,
	/* sF */ sN, sF, sF,
	/* sZ */ sN, sF, sZ,
}

var resultType = [...]int{
	/*        x/x  x/d  x/0  d/x  d/d  d/0  0/x  0/d  0/0 */
	/* sN */ cmp, cmp, cmp, cmp, ln, cmp, cmp, cmp, cmp,
	/* sI */ cmp, -1, -1, +1, ln, ln, +1, ln, ln,
	/* sF */ cmp, cmp, cmp, cmp, cmp, cmp, cmp, cmp, cmp,
	/* sZ */ cmp, +1, +1, -1, cmp, cmp, -1, cmp, cmp,
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// class is 0 for a non-digit, 1 for 1-9 and 2 for '0'.
func class(c byte) int {
	n := 0
	if c == '0' {
		n++
	}
	if isDigit(c) {
		n++
	}
	return n
}

// Strverscmp compares two strings like glibc's strverscmp(3): runs of
// digits compare as numbers, and leading zeroes as fractional parts. The
// strings are treated as NUL-terminated (a NUL ends them).
func Strverscmp(s1, s2 string) int {
	at := func(s string, i int) byte {
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	i := 0
	c1, c2 := at(s1, 0), at(s2, 0)
	state := sN + class(c1)
	for c1 == c2 {
		if c1 == 0 {
			return 0
		}
		state = nextState[state]
		i++
		c1, c2 = at(s1, i), at(s2, i)
		state += class(c1)
	}
	diff := int(c1) - int(c2)
	switch r := resultType[state*3+class(c2)]; r {
	case cmp:
		return diff
	case ln:
		// glibc: while (isdigit (*p1++)) if (!isdigit (*p2++)) return 1;
		p1, p2 := i+1, i+1
		for {
			d1 := isDigit(at(s1, p1))
			p1++
			if !d1 {
				break
			}
			d2 := isDigit(at(s2, p2))
			p2++
			if !d2 {
				return 1
			}
		}
		if isDigit(at(s2, p2)) {
			return -1
		}
		return diff
	default:
		return r
	}
}
