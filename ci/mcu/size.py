#!/usr/bin/env python3
"""Sizes of the microcontroller build, read straight from its ELF (no binutils for ARM
needed): .text, .rodata, static RAM, the Reporter's size on the target, and a check that no
allocator is linked.

    ci/mcu/size.py ELF [--max-text BYTES] [--max-reporter BYTES]

Prints one line; exits 1 if a limit is exceeded or an allocator symbol is present.
"""
import argparse
import struct
import sys


def sections(data):
    # ELF32 little-endian (thumbv7em): e_shoff at 0x20, e_shentsize/e_shnum/e_shstrndx at 0x2E.
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        sys.exit("not a 32-bit little-endian ELF")
    shoff = struct.unpack_from("<I", data, 0x20)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    raw = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = raw[shstrndx]
    def name(off, table=strtab):
        start = table[4] + off
        return data[start:data.index(b"\0", start)].decode()
    return [(name(s[0]), s) for s in raw]


def symbols(data, secs):
    by_name = dict(secs)
    symtab, strtab = by_name[".symtab"], by_name[".strtab"]
    out = []
    for i in range(symtab[5] // 16):
        st_name, st_value, st_size, _info, _other, st_shndx = struct.unpack_from(
            "<IIIBBH", data, symtab[4] + i * 16)
        start = strtab[4] + st_name
        out.append((data[start:data.index(b"\0", start)].decode(), st_value, st_size, st_shndx))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("elf")
    ap.add_argument("--max-text", type=int)
    ap.add_argument("--max-reporter", type=int)
    args = ap.parse_args()
    data = open(args.elf, "rb").read()
    secs = sections(data)
    size = {n: s[5] for n, s in secs}
    syms = symbols(data, secs)
    reporter = None
    for name, value, st_size, shndx in syms:
        if "REPORTER_BYTES" in name and st_size == 4:
            sec = secs[shndx][1]
            reporter = struct.unpack_from("<I", data, sec[4] + value - sec[3])[0]
    allocators = sorted({n for n, *_ in syms if "rust_alloc" in n or "rg_alloc" in n or "rdl_alloc" in n})
    text, ram = size.get(".text", 0), size.get(".data", 0) + size.get(".bss", 0)
    print(f"mcu thumbv7em-none-eabihf opt-level=z: .text {text} B, .rodata {size.get('.rodata', 0)} B, "
          f"static RAM {ram} B, Reporter {reporter} B, heap: {'allocator linked!' if allocators else 'none'}")
    failed = False
    if args.max_text is not None and text > args.max_text:
        print(f"  .text {text} B is over the {args.max_text} B goal", file=sys.stderr)
        failed = True
    if args.max_reporter is not None and (reporter is None or reporter > args.max_reporter):
        print(f"  Reporter {reporter} B is over the {args.max_reporter} B goal", file=sys.stderr)
        failed = True
    if allocators:
        print(f"  allocator symbols present: {', '.join(allocators)}", file=sys.stderr)
        failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
