package gvariant

import (
	"fmt"
	"testing"
)

func benchDirTree() Tuple {
	sum := make([]byte, 32)
	for i := range sum {
		sum[i] = byte(i)
	}
	files := make([]any, 1000)
	for i := range files {
		files[i] = Tuple{fmt.Sprintf("file-%05d.so", i), sum}
	}
	dirs := make([]any, 50)
	for i := range dirs {
		dirs[i] = Tuple{fmt.Sprintf("dir-%03d", i), sum, sum}
	}
	return Tuple{files, dirs}
}

func benchCommit() Tuple {
	sum := make([]byte, 32)
	return Tuple{
		[]DictEntry{
			{"version", NewVariant("s", "42.1")},
			{"ostree.ref-binding", NewVariant("as", []string{"os/x86_64/stable"})},
			{"ostree.bootable", NewVariant("b", true)},
			{"ostree.linux", NewVariant("s", "6.1.0-13-amd64")},
		},
		sum, []any{}, "Release 42.1", "A longer body\nwith lines", uint64(1577836800), sum, sum,
	}
}

func BenchmarkMarshalDirTree(b *testing.B) {
	v := benchDirTree()
	out, _ := Marshal(dirtreeType, v)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	buf := make([]byte, 0, len(out))
	for b.Loop() {
		var err error
		if buf, err = AppendMarshal(buf[:0], dirtreeType, v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalDirTree(b *testing.B) {
	data, _ := Marshal(dirtreeType, benchDirTree())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Unmarshal(dirtreeType, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIsNormalDirTree(b *testing.B) {
	data, _ := Marshal(dirtreeType, benchDirTree())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if !IsNormal(dirtreeType, data) {
			b.Fatal("not normal")
		}
	}
}

func BenchmarkMarshalCommit(b *testing.B) {
	v := benchCommit()
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = AppendMarshal(buf[:0], commitType, v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalCommit(b *testing.B) {
	data, _ := Marshal(commitType, benchCommit())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Unmarshal(commitType, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPrintCommit(b *testing.B) {
	v := benchCommit()
	b.ReportAllocs()
	for b.Loop() {
		_ = Print(commitType, v, true)
	}
}
