# SPDX-License-Identifier: MIT
"""Hand-made module zips for tests/unit/gomod/zipfile.c: valid ones in every layout the go
command reads (data descriptors, ZIP64, directory entries, bytes in front...) and malicious or
broken ones (path tricks, collisions, bad CRC, lying sizes, bombs, truncation...).

    python3 badzips.py OUTDIR

Writes OUTDIR/<case>.zip and appends "FILE MODULE VERSION" lines to OUTDIR/cases.txt. Which
zips the go command accepts is not decided here: testzips/main.go asks golang.org/x/mod.
Zips are built from raw records (struct.pack) so that every field can lie independently;
Python's zipfile writes the ordinary ones.
"""
import io
import os
import struct
import sys
import zipfile
import zlib

MOD = "example.com/m"
VER = "v1.0.0"
PFX = MOD + "@" + VER + "/"

GOMOD = b"module example.com/m\n\ngo 1.19\n"
AGO = b"package m\n\nfunc A() int { return 1 }\n"


class Entry:
    """One member. Every field of its headers can be overridden to lie."""

    def __init__(self, name, data=b"", method=8, **kw):
        self.name = name.encode() if isinstance(name, str) else name
        self.data = data
        self.method = method
        self.kw = kw

    def get(self, key, default):
        return self.kw.get(key, default)


def deflate(data, level=6):
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def build(entries, comment=b"", zip64=False, eocd_over=None, prepend=b"", append=b""):
    """Local headers and data, central directory, (zip64) end records.

    Entry keywords: raw (compressed bytes), crc, csize, usize (central values), flags,
    local_name, local_sig, descriptor ("sig", "nosig"), desc_crc (CRC-32 in the descriptor),
    offset_delta, zip64 (put sizes and offset into a zip64 extra field), cextra (central
    extra), lextra (local extra).
    eocd_over overrides end record fields by name.
    """
    out = bytearray()
    central = bytearray()
    for e in entries:
        raw = e.get("raw", deflate(e.data) if e.method == 8 else e.data)
        crc = e.get("crc", zlib.crc32(e.data))
        csize = e.get("csize", len(raw))
        usize = e.get("usize", len(e.data))
        flags = e.get("flags", 0)
        desc = e.get("descriptor", None)
        if desc:
            flags |= 0x8
        offset = len(out)
        lname = e.get("local_name", e.name)
        lextra = e.get("lextra", b"")
        lcrc, lcs, lus = (0, 0, 0) if desc else (crc, csize, usize)
        out += struct.pack("<IHHHHHIIIHH", e.get("local_sig", 0x04034B50), 20, flags, e.method, 0, 0x21,
                           lcrc & 0xFFFFFFFF, min(lcs, 0xFFFFFFFF), min(lus, 0xFFFFFFFF), len(lname), len(lextra))
        out += lname + lextra + raw
        if desc == "sig":
            out += struct.pack("<IIII", 0x08074B50, e.get("desc_crc", crc) & 0xFFFFFFFF, csize, usize)
        elif desc == "nosig":
            out += struct.pack("<III", e.get("desc_crc", crc) & 0xFFFFFFFF, csize, usize)
        cextra = e.get("cextra", b"")
        hdr_off = offset + e.get("offset_delta", 0)
        cs, us, ho = csize, usize, hdr_off
        if e.get("zip64", False):
            cextra = struct.pack("<HHQQQ", 1, 24, usize, csize, hdr_off) + cextra
            cs = us = ho = 0xFFFFFFFF
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45 if e.get("zip64", False) else 20, 20, flags,
                               e.method, 0, 0x21, crc & 0xFFFFFFFF, cs, us, len(e.name), len(cextra), 0, 0, 0,
                               0o100644 << 16, ho)
        central += e.name + cextra
    cd_off = len(out)
    out += central
    f = dict(disk=0, cd_disk=0, this_records=len(entries), records=len(entries), cd_size=len(central),
             cd_off=cd_off)
    if zip64:
        rec_off = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(entries), len(entries),
                           len(central), cd_off)
        out += struct.pack("<IIQI", 0x07064B50, 0, rec_off, 1)
        f.update(this_records=0xFFFF, records=0xFFFF, cd_size=0xFFFFFFFF, cd_off=0xFFFFFFFF)
    f.update(eocd_over or {})
    out += struct.pack("<IHHHHIIH", 0x06054B50, f["disk"], f["cd_disk"], f["this_records"], f["records"],
                       f["cd_size"], f["cd_off"], len(comment)) + comment
    return prepend + bytes(out) + append


def pyzip(files, compression=zipfile.ZIP_DEFLATED, force_zip64=False):
    """An ordinary zip written by Python's zipfile."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", compression) as z:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=(2023, 1, 1, 0, 0, 0))
            info.compress_type = compression
            with z.open(info, "w", force_zip64=force_zip64) as w:
                w.write(data)
    return b.getvalue()


def basic():
    return [Entry(PFX + "go.mod", GOMOD), Entry(PFX + "a.go", AGO), Entry(PFX + "sub/b.go", b"package sub\n")]


def cases():
    big = b"x" * 200000
    c = {}
    # ---- accepted by the go command ----
    c["ok-basic"] = build(basic())
    c["ok-store"] = build([Entry(e.name, e.data, method=0) for e in basic()])
    c["ok-python"] = pyzip([(PFX + "go.mod", GOMOD), (PFX + "a.go", AGO), (PFX + "big.txt", big)])
    c["ok-python-zip64"] = pyzip([(PFX + "go.mod", GOMOD), (PFX + "a.go", AGO)], force_zip64=True)
    c["ok-zip64"] = build([Entry(e.name, e.data, zip64=True) for e in basic()], zip64=True)
    c["ok-descriptor"] = build([Entry(PFX + "go.mod", GOMOD, descriptor="sig"),
                                Entry(PFX + "a.go", AGO, descriptor="nosig"),
                                Entry(PFX + "s.txt", b"stored\n", method=0, descriptor="sig")])
    c["ok-dirs"] = build([Entry(PFX, method=0), Entry(PFX + "sub/", method=0), Entry(PFX + "go.mod", GOMOD),
                          Entry(PFX + "sub/b.go", b"package sub\n"), Entry(PFX + "empty/", method=0)])
    c["ok-root-dir-twice"] = build([Entry(PFX, method=0), Entry(PFX, method=0), Entry(PFX + "a.go", AGO)])
    c["ok-empty-archive"] = build([])
    c["ok-comment"] = build(basic(), comment=b"a comment PK\x05\x06 with a fake signature inside")
    c["ok-prepended"] = build(basic(), prepend=b"#!/bin/sh\nexit 0\n" * 10)
    c["ok-trailing"] = build(basic(), append=b"\0" * 100)
    c["ok-crc-zero"] = build([Entry(PFX + "a.go", AGO, crc=0)])  # archive/zip skips a zero CRC
    c["ok-empty-file"] = build([Entry(PFX + "empty.txt", b""), Entry(PFX + "empty0.txt", b"", method=0)])
    c["ok-unicode"] = build([Entry(PFX + "café/é.go", b"package caf\xc3\xa9\n"), Entry(PFX + "Ωmega.txt", b"o")])
    c["ok-fold-distinct"] = build([Entry(PFX + "ß.txt", b"1"), Entry(PFX + "ss.txt", b"2")])
    c["ok-trailing-deflate"] = build([Entry(PFX + "a.go", AGO, raw=deflate(AGO) + b"junk")])
    c["ok-vendor"] = build([Entry(PFX + "vendor/x/y.go", b"package y\n")])
    c["ok-gomod-dir"] = build([Entry(PFX + "go.mod/", method=0)])
    # '/' must order before every other byte when looking for a path's contents
    c["ok-neighbours"] = build([Entry(PFX + n, b"x") for n in
                                ["a/b.go", "a.go", "a-b/c.go", "a b/d.go", "a/c/d.go", "a!/e.go", "a/c!", "ab"]])
    c["ok-dir-twice"] = build([Entry(PFX + "d/", method=0), Entry(PFX + "d/", method=0), Entry(PFX + "d/a.go", AGO)])
    # ---- rejected ----
    c["bad-dotdot"] = build([Entry(PFX + "../evil.go", AGO)])
    c["bad-dot"] = build([Entry(PFX + "./a.go", AGO)])
    c["bad-absolute"] = build([Entry(PFX + "/etc/passwd", AGO)])
    c["bad-double-slash"] = build([Entry(PFX + "a//b.go", AGO)])
    c["bad-backslash"] = build([Entry(PFX + "a\\..\\b.go", AGO)])
    c["bad-prefix"] = build([Entry("example.com/other@v1.0.0/a.go", AGO)])
    c["bad-prefix-version"] = build([Entry(PFX + "go.mod", GOMOD), Entry(MOD + "@v1.0.1/a.go", AGO)])
    c["bad-no-slash"] = build([Entry(MOD + "@" + VER, b"")])
    c["bad-duplicate"] = build([Entry(PFX + "a.go", AGO), Entry(PFX + "a.go", AGO)])
    c["bad-case"] = build([Entry(PFX + "A.go", AGO), Entry(PFX + "a.go", AGO)])
    c["bad-case-dir"] = build([Entry(PFX + "Sub/a.go", AGO), Entry(PFX + "sub/b.go", AGO)])
    c["bad-case-implied"] = build([Entry(PFX + "A/x.go", AGO), Entry(PFX + "a/y.go", AGO)])
    c["bad-case-deep"] = build([Entry(PFX + "x/A/b/c.go", AGO), Entry(PFX + "x/B.go", AGO), Entry(PFX + "x/a/d.go", AGO)])
    c["bad-case-dir-entry"] = build([Entry(PFX + "Sub/", method=0), Entry(PFX + "sub/a.go", AGO)])
    c["bad-case-file-dir"] = build([Entry(PFX + "X", b"file"), Entry(PFX + "x/y.go", AGO)])
    c["bad-kelvin-dir"] = build([Entry(PFX + "\u212a/a.go", AGO), Entry(PFX + "k/b.go", AGO)])
    c["bad-kelvin"] = build([Entry(PFX + "\u212a.go", AGO), Entry(PFX + "k.go", AGO)])
    c["bad-long-s"] = build([Entry(PFX + "\u017f.txt", b"1"), Entry(PFX + "S.txt", b"2")])
    c["bad-sigma"] = build([Entry(PFX + "\u03c3.txt", b"1"), Entry(PFX + "\u03c2.txt", b"2")])
    c["bad-file-dir"] = build([Entry(PFX + "x", b"file"), Entry(PFX + "x/y.go", AGO)])
    c["bad-file-dir-entry"] = build([Entry(PFX + "x", b"file"), Entry(PFX + "x/", method=0)])
    c["bad-newline"] = build([Entry(PFX + "a\nb.go", AGO)])
    c["bad-nul"] = build([Entry(PFX + "a\0b.go", AGO)])
    c["bad-utf8"] = build([Entry(PFX.encode() + b"a\xff.go", AGO)])
    c["bad-windows-name"] = build([Entry(PFX + "aux.go", AGO)])
    c["bad-nested-gomod"] = build([Entry(PFX + "go.mod", GOMOD), Entry(PFX + "sub/go.mod", b"module x\n")])
    c["bad-gomod-case"] = build([Entry(PFX + "GO.MOD", GOMOD)])
    c["bad-gomod-size"] = build([Entry(PFX + "go.mod", b"\n" * ((16 << 20) + 1))])
    c["bad-license-size"] = build([Entry(PFX + "LICENSE", b" " * ((16 << 20) + 1))])
    c["bad-total-size"] = build([Entry(PFX + "a.txt", b"a", usize=300 << 20), Entry(PFX + "b.txt", b"b", usize=300 << 20)])
    c["bad-huge-declared"] = build([Entry(PFX + "a.txt", b"a", usize=0xFFFFFFFF)])
    c["bad-bomb"] = build([Entry(PFX + "bomb.txt", b"\0" * (64 << 20), usize=1000)])
    c["bad-crc"] = build([Entry(PFX + "a.go", AGO, crc=0x12345678)])
    c["bad-crc-descriptor"] = build([Entry(PFX + "a.go", AGO, descriptor="sig", crc=0)])
    c["bad-descriptor-mismatch"] = build([Entry(PFX + "a.go", AGO, descriptor="nosig", desc_crc=1)])
    c["bad-size-smaller"] = build([Entry(PFX + "a.go", AGO, usize=len(AGO) - 5)])
    c["bad-size-larger"] = build([Entry(PFX + "a.go", AGO, usize=len(AGO) + 5)])
    c["bad-store-size"] = build([Entry(PFX + "a.go", AGO, method=0, usize=len(AGO) + 1)])
    c["bad-deflate-truncated"] = build([Entry(PFX + "a.go", AGO, raw=deflate(AGO)[:-3])])
    c["bad-deflate-garbage"] = build([Entry(PFX + "a.go", AGO, raw=b"\xff" * 40)])
    c["bad-method-bzip2"] = build([Entry(PFX + "a.go", AGO, method=12, raw=b"BZh9" + b"\0" * 20)])
    c["strict-encrypted"] = build([Entry(PFX + "a.go", AGO, flags=1)])
    c["bad-local-sig"] = build([Entry(PFX + "a.go", AGO, local_sig=0x12345678)])
    c["strict-local-name"] = build([Entry(PFX + "a.go", AGO, local_name=(PFX + "b.go").encode())])
    c["bad-offset"] = build([Entry(PFX + "a.go", AGO, offset_delta=1 << 20)])
    # a.go's compressed size reaches into b.go's local header; the deflate stream ends before
    c["strict-overlap"] = build([Entry(PFX + "a.go", AGO, csize=len(deflate(AGO)) + 40), Entry(PFX + "b.go", AGO)])
    c["strict-dir-content"] = build([Entry(PFX + "d/", b"content", method=0)])
    c["strict-multidisk"] = build(basic(), eocd_over=dict(disk=1, cd_disk=1))
    c["bad-count"] = build(basic(), eocd_over=dict(records=5, this_records=5))
    c["bad-cd-offset"] = build(basic(), eocd_over=dict(cd_off=0x7FFFFFFF))
    c["bad-cd-size"] = build(basic(), eocd_over=dict(cd_size=0x7FFFFFFF))
    c["bad-zip64-missing"] = build([Entry(PFX + "a.go", AGO, csize=0xFFFFFFFF)])
    c["bad-zip64-locator"] = build(basic(), zip64=True)[:-22 - 20] + struct.pack("<IIQI", 0x07064B50, 0, 1 << 40, 1) + \
        build(basic(), zip64=True)[-22:]
    whole = build(basic())
    c["bad-truncated-half"] = whole[: len(whole) // 2]
    c["bad-truncated-eocd"] = whole[:-5]
    c["bad-truncated-data"] = whole[:30] + whole[60:]
    c["bad-garbage"] = bytes((i * 7919 + 13) % 256 for i in range(4096))
    c["bad-empty"] = b""
    c["bad-only-eocd-sig"] = b"PK\x05\x06"
    return c


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "cases.txt"), "a") as listing:
        for name, data in cases().items():
            with open(os.path.join(out, name + ".zip"), "wb") as f:
                f.write(data)
            listing.write("%s.zip %s %s\n" % (name, MOD, VER))
        # a valid zip judged as another version, and with a version that is not canonical
        listing.write("ok-basic.zip example.com/m v1.0.1\n")
        listing.write("ok-basic.zip example.com/m v1.0\n")

if __name__ == "__main__":
    main()
