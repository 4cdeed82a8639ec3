#!/usr/bin/env python3
"""Marks one version requirement (e.g. GLIBCXX_3.4.32) of an ELF64 shared object as weak.

patchelf can clear a symbol's version but leaves the Vernaux entry in .gnu.version_r, and the loader
still refuses a library whose required version is missing unless the entry carries VER_FLG_WEAK (0x2).
"""
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2


def weaken(path: str, version: str) -> int:
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise SystemExit(f"{path}: not a little-endian ELF64 file")
        e_shoff, = struct.unpack_from("<Q", data, 0x28)
        e_shentsize, e_shnum = struct.unpack_from("<HH", data, 0x3A)
        sections = [struct.unpack_from("<IIQQQQIIQQ", data, e_shoff + i * e_shentsize) for i in range(e_shnum)]
        changed = 0
        for _, sh_type, _, _, sh_offset, _, sh_link, sh_info, _, _ in sections:
            if sh_type != SHT_GNU_VERNEED:
                continue
            strtab_offset = sections[sh_link][4]
            need = sh_offset
            for _ in range(sh_info):
                _, vn_cnt, _, vn_aux, vn_next = struct.unpack_from("<HHIII", data, need)
                aux = need + vn_aux
                for _ in range(vn_cnt):
                    _, vna_flags, _, vna_name, vna_next = struct.unpack_from("<IHHII", data, aux)
                    end = data.index(b"\0", strtab_offset + vna_name)
                    if data[strtab_offset + vna_name:end].decode() == version and not vna_flags & VER_FLG_WEAK:
                        struct.pack_into("<H", data, aux + 4, vna_flags | VER_FLG_WEAK)
                        changed += 1
                    aux += vna_next
                need += vn_next
        f.seek(0)
        f.write(data)
        return changed


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: weaken_version_need.py LIBRARY VERSION")
    print(f"{sys.argv[1]}: {weaken(sys.argv[1], sys.argv[2])} requirement(s) on {sys.argv[2]} marked weak")
