// SPDX-License-Identifier: MIT

// Command testzips builds and judges the module zips of tests/unit/gomod/zipfile.c.
//
//	go run main.go gen OUTDIR      real module zips made by golang.org/x/mod/zip.CreateFromDir
//	go run main.go verdict OUTDIR  what the go command decides about every zip in OUTDIR/cases.txt
//	go run main.go foldtable       the case-folding table of cache/zipfile.c
//
// OUTDIR/cases.txt lists one zip per line: "FILE MODULE VERSION". gen appends its own zips
// there; badzips.py appends the hand-made ones. verdict writes OUTDIR/manifest.txt with one
// line per case, tab-separated: FILE MODULE VERSION ok H1, or FILE MODULE VERSION fail ERROR
// (ERROR quoted as a Go string).
// "ok" means the go command (1.19, golang.org/x/mod 0.7) would both extract the zip
// (zip.CheckZip, the rules Unzip applies) and hash it (dirhash.HashZip, what it writes to
// .ziphash), so the C parser is compared with the real implementation, not with a copy of it.
package main

import (
	"archive/zip"
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "gen":
		if len(os.Args) != 3 {
			usage()
		}
		err = gen(os.Args[2])
	case "verdict":
		if len(os.Args) != 3 {
			usage()
		}
		err = verdict(os.Args[2])
	case "foldtable":
		foldTable()
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testzips:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: testzips gen OUTDIR | verdict OUTDIR | foldtable")
	os.Exit(2)
}

// gen zips Debian's copies of golang.org/x/mod and golang.org/x/text exactly as a module proxy
// would serve them.
func gen(out string) error {
	srcs := []struct{ file, dir, path, version string }{
		{"real-xmod.zip", "/usr/share/gocode/src/golang.org/x/mod", "golang.org/x/mod", "v0.7.0"},
		{"real-xtext.zip", "/usr/share/gocode/src/golang.org/x/text", "golang.org/x/text", "v0.7.0"},
	}
	cases, err := os.OpenFile(filepath.Join(out, "cases.txt"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return err
	}
	defer cases.Close()
	for _, s := range srcs {
		f, err := os.Create(filepath.Join(out, s.file))
		if err != nil {
			return err
		}
		if err := modzip.CreateFromDir(f, module.Version{Path: s.path, Version: s.version}, s.dir); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(cases, "%s %s %s\n", s.file, s.path, s.version)
	}
	return nil
}

// judge answers as the go command does when it downloads a module zip (modfetch.downloadZip:
// every name carries the prefix, then dirhash.HashZip) and extracts it (zip.Unzip runs the
// same checks as zip.CheckZip before writing anything).
func judge(file, path, version string) (string, error) {
	m := module.Version{Path: path, Version: version}
	z, err := zip.OpenReader(file)
	if err != nil {
		return "", err
	}
	prefix := path + "@" + version + "/"
	for _, f := range z.File {
		if !strings.HasPrefix(f.Name, prefix) {
			z.Close()
			return "", fmt.Errorf("zip for %s has unexpected file %s", prefix[:len(prefix)-1], f.Name)
		}
	}
	z.Close()
	if _, err := modzip.CheckZip(m, file); err != nil {
		return "", err
	}
	return dirhash.HashZip(file, dirhash.Hash1)
}

func verdict(out string) error {
	in, err := os.Open(filepath.Join(out, "cases.txt"))
	if err != nil {
		return err
	}
	defer in.Close()
	var lines []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			return fmt.Errorf("cases.txt: bad line %q", sc.Text())
		}
		h1, err := judge(filepath.Join(out, fields[0]), fields[1], fields[2])
		if err != nil {
			msg := strconv.Quote(strings.Join(strings.Fields(err.Error()), " "))
			lines = append(lines, fmt.Sprintf("%s\t%s\t%s\tfail\t%s\n", fields[0], fields[1], fields[2], msg))
		} else {
			lines = append(lines, fmt.Sprintf("%s\t%s\t%s\tok\t%s\n", fields[0], fields[1], fields[2], h1))
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "manifest.txt"), []byte(strings.Join(lines, "")), 0o666)
}

// minFold is the representative x/mod/zip's strToFold picks for r: the smallest rune of its
// unicode.SimpleFold orbit.
func minFold(r rune) rune {
	for {
		r0 := r
		r = unicode.SimpleFold(r0)
		if r <= r0 {
			return r
		}
	}
}

// foldTable prints, as C, every non-ASCII rune whose fold representative is another rune, as
// runs {first, last, stride, delta}: each rune first, first+stride, ... last maps to rune+delta.
// Runs are emitted in order and never overlap.
func foldTable() {
	type run struct{ lo, hi, stride, delta rune }
	var runs []run
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		d := minFold(r) - r
		if d == 0 {
			continue
		}
		if n := len(runs); n > 0 {
			l := &runs[n-1]
			if l.delta == d && ((l.stride == 0 && r-l.hi <= 2) || (l.stride != 0 && r-l.hi == l.stride)) {
				if l.stride == 0 {
					l.stride = r - l.hi
				}
				l.hi = r
				continue
			}
		}
		runs = append(runs, run{r, r, 0, d})
	}
	fmt.Println("/* clang-format off */")
	fmt.Printf("/* Generated by tests/unit/gomod/testzips (go run main.go foldtable), Unicode %s. */\n", unicode.Version)
	fmt.Printf("static const struct zip_fold_run zip_fold_runs[%d] = {\n", len(runs))
	for i, r := range runs {
		if i%3 == 0 {
			fmt.Print("   ")
		}
		s := r.stride
		if s == 0 {
			s = 1
		}
		fmt.Printf(" {0x%04X, 0x%04X, %d, %d},", r.lo, r.hi, s, r.delta)
		if i%3 == 2 || i == len(runs)-1 {
			fmt.Println()
		}
	}
	fmt.Println("};")
	fmt.Println("/* clang-format on */")
}
