#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""libcapspawn.so exports its public API and nothing else.

Usage: exports_test.py LIBCAPSPAWN_SO INCLUDE_DIR

Every symbol the shared library defines in its dynamic symbol table must be
either a capspawn_* C function declared in include/capspawn/*.h or a C++
symbol whose first name under capspawn:: (or capspawn::elf::, capspawn::seccomp::) is a class,
struct or function those headers declare; and every capspawn_* function the
headers declare must be exported. The list of what is allowed comes from the
headers, not from src/libcapspawn.map, so the two are checked against each
other.
"""
import pathlib
import re
import subprocess
import sys


def dynamic_symbols(lib, demangle):
    args = ["nm", "-D", "--defined-only", "--format=posix"] + (["-C"] if demangle else []) + [lib]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    # POSIX format: "name type value size"; a demangled name holds spaces,
    # so the type is found from the right.
    symbols = []
    for line in out.splitlines():
        m = re.match(r"^(.*) ([A-Za-z]) [0-9a-f]+( [0-9a-f]+)?$", line)
        if m:
            symbols.append((m.group(1), m.group(2)))
    return symbols


def main():
    lib, include = sys.argv[1], pathlib.Path(sys.argv[2])
    text = "\n".join(p.read_text() for p in sorted(include.glob("capspawn/*.h")))
    c_declared = set(re.findall(r"\b(capspawn_\w+)\s*\(", text))
    cxx_declared = set(re.findall(r"\b(?:class|struct)\s+(?:\[\[\w+\]\]\s+)?(\w+)", text))
    cxx_declared |= set(re.findall(r"\b([A-Z]\w*)\s*\(", text))

    errors = []
    mangled = dynamic_symbols(lib, demangle=False)
    demangled = dynamic_symbols(lib, demangle=True)
    if len(mangled) != len(demangled):
        errors.append(f"nm listed {len(mangled)} symbols, {len(demangled)} demangled")
    exported_c = set()
    for (raw, _), (name, _) in zip(mangled, demangled):
        if not raw.startswith("_Z"):
            if name in c_declared:
                exported_c.add(name)
            else:
                errors.append(f"exported C symbol {name} is not declared in include/capspawn")
            continue
        bare = re.sub(r"^(typeinfo name for |typeinfo for |vtable for |guard variable for )", "", name)
        m = re.match(r"^(?:const )?capspawn::(?:elf::|seccomp::)?(\w+)", bare)
        if not m or m.group(1) not in cxx_declared or m.group(1) in ("internal", "elf", "seccomp"):
            errors.append(f"exported C++ symbol is not public API: {name}")
    for name in sorted(c_declared - exported_c):
        errors.append(f"{name} is declared in include/capspawn but not exported")

    for e in errors:
        print(e)
    print(f"{len(mangled)} symbols exported, {len(exported_c)} of them capspawn_* C functions; "
          f"{len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
