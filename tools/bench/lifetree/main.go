// SPDX-License-Identifier: MIT

// Command lifetree writes the module tree of the store's lifecycle bench
// (tools/bench/store-life): many modules whose zip sizes are drawn from a
// skewed distribution, as a real proxy's are, so that a budget holds a
// different number of modules depending on which ones are hot.
//
// Usage: lifetree -out DIR [-modules N] [-seed S]
//
// It writes DIR/proxy/<module>/@v/{list,v1.0.0.info,.mod,.zip} for N modules
// example.com/life/mNNNN, and DIR/modules.txt with one "<zip key> <zip bytes>"
// line per module, in key order. Each zip holds a go.mod, a Go file and a blob
// of pseudo-random bytes whose size is log-normal (median 128 KiB, sigma 1.2,
// clamped to 24 KiB .. 5 MiB): most modules small, most bytes in a few large
// ones. Random bytes neither compress nor deduplicate, so a store charges each
// module about its zip's size and the bench's arithmetic of budgets is plain.
// The zips are made with golang.org/x/mod/zip (CreateFromDir, from a scratch
// directory under DIR), as the go command and the public proxies make them. The same seed gives the same tree, byte for byte.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

const (
	medianBlob = 128 << 10
	sigmaBlob  = 1.2
	minBlob    = 24 << 10
	maxBlob    = 5 << 20
)

// blobSize draws one blob size from the clamped log-normal distribution.
func blobSize(r *rand.Rand) int {
	n := int(float64(medianBlob) * math.Exp(sigmaBlob*r.NormFloat64()))
	if n < minBlob {
		n = minBlob
	}
	if n > maxBlob {
		n = maxBlob
	}
	return n
}

// publish writes one module version into the tree at root and returns its
// zip's key (as the proxy names it) and size.
func publish(root, scratch string, i int, r *rand.Rand) (string, int64, error) {
	mod := fmt.Sprintf("example.com/life/m%04d", i)
	const ver = "v1.0.0"
	gomod := "module " + mod + "\n\ngo 1.17\n"
	blob := make([]byte, blobSize(r))
	r.Read(blob)
	// The module's tree, in a scratch directory that CreateFromDir packs as the go command would.
	src := filepath.Join(scratch, "src")
	if err := os.RemoveAll(src); err != nil {
		return "", 0, err
	}
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", 0, err
	}
	for name, data := range map[string][]byte{
		"blob.bin": blob, "go.mod": []byte(gomod),
		"life.go": []byte(fmt.Sprintf("// Package m%04d is a module of the lifecycle bench.\npackage m%04d\n", i, i)),
	} {
		if err := os.WriteFile(filepath.Join(src, name), data, 0o644); err != nil {
			return "", 0, err
		}
	}
	epath, err := module.EscapePath(mod)
	if err != nil {
		return "", 0, err
	}
	dir := filepath.Join(root, filepath.FromSlash(epath), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, err
	}
	var zip bytes.Buffer
	if err := modzip.CreateFromDir(&zip, module.Version{Path: mod, Version: ver}, src); err != nil {
		return "", 0, fmt.Errorf("zip %s: %w", mod, err)
	}
	info := fmt.Sprintf(`{"Version":%q,"Time":"2024-01-01T00:00:00Z"}`, ver)
	for name, data := range map[string][]byte{
		ver + ".zip": zip.Bytes(), ver + ".mod": []byte(gomod), ver + ".info": []byte(info), "list": []byte(ver + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return "", 0, err
		}
	}
	return epath + "/@v/" + ver + ".zip", int64(zip.Len()), nil
}

func run(out string, n int, seed int64) error {
	r := rand.New(rand.NewSource(seed))
	scratch := filepath.Join(out, "scratch")
	defer os.RemoveAll(scratch)
	var listing strings.Builder
	for i := 0; i < n; i++ {
		key, size, err := publish(filepath.Join(out, "proxy"), scratch, i, r)
		if err != nil {
			return err
		}
		fmt.Fprintf(&listing, "%s %d\n", key, size)
	}
	return os.WriteFile(filepath.Join(out, "modules.txt"), []byte(listing.String()), 0o644)
}

func main() {
	out := flag.String("out", "", "output directory (created)")
	n := flag.Int("modules", 500, "how many modules")
	seed := flag.Int64("seed", 1, "seed of the sizes and contents")
	flag.Parse()
	if *out == "" || flag.NArg() != 0 || *n < 1 || *n > 9999 {
		fmt.Fprintln(os.Stderr, "usage: lifetree -out DIR [-modules 1..9999] [-seed S]")
		os.Exit(2)
	}
	if err := run(*out, *n, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "lifetree:", err)
		os.Exit(1)
	}
}
