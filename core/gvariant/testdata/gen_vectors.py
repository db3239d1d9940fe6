#!/usr/bin/python3
"""Generate GVariant test vectors with real GLib (python3-gi).

Run: /usr/bin/python3 gen_vectors.py > vectors.json

For every vector: the type, GLib's normal-form bytes (hex), and
g_variant_print(v, TRUE/FALSE). "mutations" are derived byte strings
(flipped bytes, truncations, extensions, widened offsets) with GLib's verdict
from g_variant_is_normal_form, so the Go decoder can be checked
differentially against GLib.
"""
import json
import sys

from gi.repository import GLib

V = GLib.Variant
SUM = bytes(range(32))
SUM2 = bytes(range(100, 132))


def vec(t, val):
    return (t, V(t, val))


vectors = [
    vec('y', 0), vec('y', 255), vec('b', True), vec('b', False),
    vec('n', -32768), vec('n', 1234), vec('q', 65535), vec('i', -1), vec('i', 42),
    vec('u', 4294967295), vec('u', 5), vec('x', -9223372036854775808), vec('x', 5),
    vec('t', 18446744073709551615), vec('t', 5), vec('h', 3),
    vec('d', 1.5), vec('d', 0.1), vec('d', -0.0), vec('d', 1e300), vec('d', 100.0),
    vec('d', float('inf')), vec('d', float('-inf')), vec('d', 1e-7), vec('d', 123456789012345678.0),
    vec('s', ''), vec('s', 'hello'), vec('s', "it's"), vec('s', 'say "hi"'),
    vec('s', 'both \' and "'), vec('s', 'tab\tnl\nbs\\ bell\x07 del\x7f'),
    vec('s', 'ünïcödé ☃ 😀'), vec('s', '\u200b zero width \u2028 ls \ue000 pua'),
    vec('o', '/'), vec('o', '/org/freedesktop/DBus'), vec('g', ''), vec('g', 'a{sv}(ii)'),
    vec('ay', b''), vec('ay', b'\x01\x02\xff'), vec('ay', b'hello\x00'),
    vec('ay', b"it's\x00"), vec('ay', b'a"b\\c\n\x01\x7f\xff\x00'), vec('ay', b'\x00'),
    vec('ay', b'a\x00b\x00'), vec('ay', SUM),
    vec('ab', [True, False]), vec('an', [1, -2]), vec('ai', [1, 2, 3]), vec('au', []),
    vec('at', [1, 2]), vec('ad', [1.0, 2.5]), vec('ax', [-1]),
    vec('as', []), vec('as', ['']), vec('as', ['a', 'b']), vec('as', ['test']),
    vec('ao', ['/a', '/b/c']), vec('ag', ['s', 'a{sv}']),
    vec('aay', [b'', b'ab', b'\x00']), vec('aas', [['a'], [], ['b', 'c']]),
    vec('aai', [[1], [], [2, 3]]), vec('aax', [[], [1]]),
    vec('()', ()), vec('(y)', (1,)), vec('(yu)', (1, 2)), vec('(uy)', (1, 2)),
    vec('(yqy)', (1, 2, 3)), vec('(ty)', (1, 2)), vec('(s)', ('a',)), vec('(ys)', (1, 'x')),
    vec('(sy)', ('x', 1)), vec('(ss)', ('a', 'bc')), vec('(sss)', ('a', '', 'c')),
    vec('(syx)', ('a', 1, 2)), vec('(ayay)', (b'k', b'v\x00')), vec('(asai)', (['a'], [1])),
    vec('(()())', ((), ())), vec('(y())', (1, ())), vec('((yy)s)', ((1, 2), 'z')),
    vec('(yax)', (1, [])), vec('(yax)', (1, [7])), vec('(smy)', ('a', None)),
    vec('a()', [(), ()]), vec('a(yu)', [(1, 2), (3, 4)]), vec('a(uy)', [(1, 2)]),
    vec('{sv}', ('k', V('i', 1))), vec('{ys}', (1, 'a')), vec('{yy}', (1, 2)),
    vec('a{yy}', {1: 2}), vec('a{ss}', {'a': 'b', 'c': ''}), vec('a{sv}', {}),
    vec('a{sv}', {'version': V('s', '1.0')}),
    vec('a{sv}', {'ostree.ref-binding': V('as', ['test'])}),
    vec('a{sv}', {'a': V('i', 42), 'b': V('b', True), 'c': V('t', 7), 'd': V('ay', b'xy'),
                  'e': V('(ii)', (1, 2)), 'f': V('v', V('s', 'nested')), 'g': V('ms', None),
                  'h': V('a{sv}', {}), 'i': V('d', 2.0), 'j': V('y', 0), 'k': V('as', []),
                  'l': V('ms', 'x'), 'm': V('mi', 5), 'n': V('aay', [b'q\x00']),
                  'o': V('o', '/x'), 'p': V('g', 'ii'), 'q': V('()', ()),
                  'r': V('n', -5), 's': V('q', 5), 'u': V('u', 5), 'x': V('x', -5),
                  'h2': V('h', 1), 'mm': V('mmi', None)}),
    vec('a{iv}', {1: V('s', 'one')}),
    vec('v', V('s', 'x')), vec('v', V('v', V('i', 1))), vec('v', V('ay', b'')),
    vec('v', V('()', ())), vec('v', V('a{sv}', {'k': V('u', 1)})),
    vec('av', [V('i', 1), V('s', 'two'), V('as', ['x'])]),
    vec('my', None), vec('my', 5), vec('mi', 7), vec('ms', None), vec('ms', 'hi'),
    vec('ms', ''), vec('mas', []), vec('mas', ['a']), vec('may', b''),
    vec('mmi', None), vec('mmi', 3), vec('mms', 'x'), vec('m(ii)', (1, 2)), vec('m(si)', ('a', 1)),
    vec('amy', [None, 1]), vec('ams', [None, 'x', '']), vec('(mymsmi)', (None, 'a', 3)),
    vec('mv', V('i', 1)), vec('ab', []),
    # OSTree types
    vec('(a{sv}aya(say)sstayay)', ({}, b'', [], 'subject', '', 0x00e10b5e00000000, SUM, SUM2)),
    vec('(a{sv}aya(say)sstayay)', ({'ostree.ref-binding': V('as', ['test']), 'version': V('s', '1')},
                                   SUM, [('rel', SUM2)], 'subj', 'body\nline', 1, SUM, SUM2)),
    vec('(a(say)a(sayay))', ([], [])),
    vec('(a(say)a(sayay))', ([('hello', SUM)], [])),
    vec('(a(say)a(sayay))', ([('a', SUM), ('b', SUM2)], [('d', SUM, SUM2), ('e', SUM2, SUM)])),
    vec('(uuua(ayay))', (0, 0, 0xed410000, [])),
    vec('(uuua(ayay))', (0, 0, 0xed410000, [(b'user.x\x00', b'val')])),
    vec('(uuuusa(ayay))', (0, 0, 0xa4810000, 0, '', [])),
    vec('(uuuusa(ayay))', (0, 0, 0xff810000, 0, 'target', [(b'security.selinux\x00', b'ctx\x00')])),
    vec('(tuuuusa(ayay))', (0x0600000000000000, 0, 0, 0xa4810000, 0, '', [])),
    vec('(a(s(taya{sv}))a{sv})', ([], {})),
    vec('(a(s(taya{sv}))a{sv})', ([('main', (123, SUM, {'ostree.commit.timestamp': V('t', 5)}))],
                                  {'ostree.summary.last-modified': V('t', 9),
                                   'ostree.summary.mode': V('s', 'archive-z2')})),
    vec('(uayttay)', (1, SUM, 10, 20, b'')),
    vec('(yaytt)', (1, SUM, 3, 4)),
    vec('(a(uuu)aa(ayay)ayay)', ([(1, 2, 3)], [[(b'a', b'b')]], b'\x01', b'\x02')),
]

# Values large enough to need 2-byte and 4-byte framing offsets.
big = []
big.append(vec('as', ['x' * 20] * 20))                        # ~440 bytes: 2-byte offsets
big.append(vec('a(say)', [('file%04d' % i, SUM) for i in range(40)]))
big.append(vec('(a(say)a(sayay))', ([('f%03d' % i, SUM) for i in range(60)],
                                    [('d%03d' % i, SUM, SUM2) for i in range(5)])))
big.append(vec('(ss)', ('a' * 250, 'b')))                      # boundary around 255
big.append(vec('(ss)', ('a' * 252, 'b')))
big.append(vec('(ss)', ('a' * 253, 'b')))
big.append(vec('as', ['y' * 250]))
big.append(vec('as', ['y' * 252]))
big.append(vec('as', ['y' * 253]))
big.append(vec('(ayay)', (bytes(65536), b'z')))                # 4-byte offsets
vectors += big


def print_(v, ann):
    return v.print_(ann)


def normal(t, data):
    try:
        return GLib.Variant.new_from_bytes(GLib.VariantType(t), GLib.Bytes.new(data), False).is_normal_form()
    except Exception:
        return False


def mutations(t, data):
    out = {}
    n = len(data)
    if n <= 160:
        for i in range(n):
            for x in ((0x01, 0x80, 0xff) if n <= 48 else (0x01,)):
                m = bytearray(data)
                m[i] ^= x
                out[bytes(m)] = None
            m = bytearray(data)
            m[i] = 0
            out[bytes(m)] = None
        for k in range(n):
            out[data[:k]] = None
        for suffix in (b'\x00', b'\x01', b'\x00' * 8):
            out[data + suffix] = None
        out[b'\x00' + data] = None
    else:
        for k in (0, 1, n - 1):
            out[data[:k]] = None
        out[data + b'\x00'] = None
        for i in (n - 1, n - 2, n - 3):
            m = bytearray(data)
            m[i] ^= 0x01
            out[bytes(m)] = None
    out.pop(data, None)
    return [{'hex': m.hex(), 'normal': normal(t, m)} for m in out]


res = []
for t, v in vectors:
    data = v.get_data_as_bytes().get_data()
    assert v.is_normal_form()
    e = {'type': t, 'hex': data.hex()}
    if len(data) < 4096:
        e['print'] = print_(v, True)
        e['print_plain'] = print_(v, False)
    e['mutations'] = mutations(t, data)
    res.append(e)

# Hand-made non-normal encodings (GLib verdicts recorded, not assumed).
extra = [
    ('as', '610062000204'),              # normal
    ('as', '6100620002000400'),          # widened offsets
    ('as', '610062000402'),              # offsets out of order
    ('as', '6100620002'),                # truncated table
    ('(yu)', '0100000002000000'),        # normal
    ('(yu)', '0101000002000000'),        # non-zero padding
    ('(sy)', '610001' + '02'),           # normal (sy)
    ('(sy)', '61000102' + '00'),         # widened
    ('v', '0100'), ('v', '01'), ('v', '0100797a'), ('v', '000061'), ('v', '00006d'),
    ('b', '02'), ('s', '6100'), ('s', '61'), ('s', '610000'), ('s', 'ff00'),
    ('o', '6100'), ('g', '7a00'), ('g', '6d7900'),
    ('my', '0102'), ('ms', '6100'), ('ms', '610001'), ('ms', '61000000'),
    ('ai', '01000000020000'), ('()', '01'), ('()', ''), ('(yy)', '01'),
    ('a{sv}', ''), ('(a{sv}aya(say)sstayay)', ''),
    ('aay', '00'), ('aay', '0000'), ('aay', '01'),
]
res.append({'type': '', 'hex': '', 'mutations': [],
            'extra': [{'type': t, 'hex': h, 'normal': normal(t, bytes.fromhex(h))} for t, h in extra]})

# GVariant text format: g_variant_parse(hint, text) results.
texts = [
    ('42', None), ('-7', None), ('0x1f', None), ('010', None), ('1.5', None), ('1e3', None),
    ('-0.25', None), ('inf', None), ('true', None), ('false', None),
    ("'hello'", None), ('"it\'s"', None), ("'a\\nb\\tc\\u00e9\\U0001F600'", None),
    ("'x\\'y'", None), ("b'abc'", None), ('b"q\\001\\377"', None),
    ("['a', 'b']", None), ('[1, 2, 3]', None), ('[1, 2.5]', None), ('@as []', None),
    ("{'k': <1>, 'l': <'s'>}", None), ("{'a': 1}", None), ("{1, 'x'}", None),
    ("(1, 'a', true)", None), ('(1,)', None), ('()', None), ('<42>', None), ('<<int64 5>>', None),
    ('byte 0x05', None), ('int16 -3', None), ('uint16 7', None), ('int32 5', None), ('uint32 5', None),
    ('int64 -5', None), ('uint64 18446744073709551615', None), ('handle 1', None),
    ('double 3', None), ("objectpath '/a/b'", None), ("signature 'a{sv}'", None),
    ('just 5', None), ('just just nothing', 'mmi'), ('nothing', 'ms'), ('[just 1, nothing]', None),
    ('@mi 5', None), ('[nothing, just 1]', None), ("[@ms 'x', nothing]", None), ('5', 'mi'),
    ('5', 'u'), ('5', 'y'), ('5', 'd'), ('5', 't'), ("'x'", 'ms'), ("['a']", 'as'), ('[]', 'as'),
    ('{}', 'a{sv}'), ("@a{sv} {}", None), ("{'ostree.ref-binding': <['test']>}", None),
    ("[<1>, <'a'>]", None), ("('a', [1], {'k': <true>})", None), ('[[1], [], [2, 3]]', None),
    ('[b"a", b"bc"]', None), ('[byte 1, 2]', None), ('[1, byte 2]', None),
    ('  ( 1 , 2 )  ', None), ("'/x'", 'o'), ("'ii'", 'g'), ('[1, int64 2]', None),
    ('-9223372036854775808', 'x'), ('4294967295', 'u'), ('0x7fffffff', None),
    ('({1: 2},)', None), ('[(1, "a"), (2, "b")]', None), ('<@ay []>', None),
    ('[1.0, 2]', None), ('(uint32 1, "x")', None), ('nan', 'd'), ('-inf', None),
    # errors
    ('', None), ('[]', None), ('nothing', None), ('[1, "a"]', None), ('256', 'y'), ('-1', 'u'),
    ('2147483648', None), ("'unterminated", None), ('(1, 2', None), ('1.5', 'i'), ('@z 1', None),
    ("{'a': 1, 'b': 'x'}", None), ('true', 'i'), ('5 6', None), ('just', None), ("'x'", 'o'),
    ('[1,,2]', None), ('<>', None), ('@as [1]', None), ('bogus', None),
]
tres = []
for text, hint in texts:
    e = {'text': text}
    if hint:
        e['hint'] = hint
    try:
        v = GLib.Variant.parse(GLib.VariantType(hint) if hint else None, text, None, None)
        e['type'] = v.get_type_string()
        e['hex'] = v.get_data_as_bytes().get_data().hex()
        e['print'] = v.print_(True)
    except GLib.Error as err:
        e['error'] = err.message
    tres.append(e)
res.append({'type': '', 'hex': '', 'mutations': [], 'texts': tres})

json.dump(res, sys.stdout, indent=0, ensure_ascii=False)
sys.stdout.write('\n')
