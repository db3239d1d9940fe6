#!/usr/bin/env python3
"""Regenerates strverscmp.json: sign(strverscmp(a, b)) from the host glibc
for fixed version-like strings and random strings over digits, dots and
letters. Run from this directory: python3 gen_strverscmp.py"""
import ctypes, json, random
libc = ctypes.CDLL('libc.so.6')
libc.strverscmp.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
random.seed(7)
alpha = "0012345679.-ab~"
cases = set()
fixed = ["", "0", "1", "a", "00", "01", "010", "09", "9", "10", "1.0", "1.01", "1.001", "1.1", "1.10", "1.9", "2",
         "alpha", "alpha1", "alpha01", "a0", "a00", "a01", "a1", "000", "001", "0010", "1a", "1b", "10a", "3.6.0",
         "3.10.0", "20", "100", "099", "0.9", "0.09"]
for a in fixed:
    for b in fixed:
        cases.add((a, b))
while len(cases) < 3000:
    a = "".join(random.choice(alpha) for _ in range(random.randint(0, 6)))
    b = "".join(random.choice(alpha) for _ in range(random.randint(0, 6)))
    cases.add((a, b))
out = []
for a, b in sorted(cases):
    r = libc.strverscmp(a.encode(), b.encode())
    out.append([a, b, (r > 0) - (r < 0)])
json.dump(out, open('strverscmp.json', 'w'))
