#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Each component of src/ uses only the components it links.

Usage: layers_test.py LAYERS_TSV SRC_DIR

LAYERS_TSV (written by src/CMakeLists.txt) names each component, the
components it links (target_link_libraries), and its object files. CMake
already refuses a cycle among the links; this checks that the links tell the
truth:
- a component's sources include headers ("other/x.h") only of itself and of
  components it links directly;
- every symbol its objects take from another component's objects is defined
  in a component it links, directly or through them.
And that the C API is one layer: every extern "C" function the library
defines (an unmangled, visible function symbol) is in the api component's
objects, each defined in src/api/ with its body run through the barrier
(capspawn::api::Guard or GuardValue), and no source outside src/api/ holds an
extern "C" definition (a header may declare one, such as the engine's
assembly trampoline, which is hidden).
"""
import pathlib
import re
import subprocess
import sys


def defined_and_undefined(objects):
    defined, undefined = set(), set()
    for obj in objects:
        out = subprocess.run(["nm", "--format=posix", obj], check=True, capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) < 2:
                continue
            name, kind = parts[0], parts[1]
            if kind == "U":
                undefined.add(name)
            elif kind in "TDBRVWu":
                defined.add(name)
    return defined, undefined


def c_functions(objects):
    """The visible, unmangled functions the objects define."""
    names = set()
    for obj in objects:
        out = subprocess.run(["readelf", "-sW", obj], check=True, capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if (len(parts) >= 8 and parts[3] == "FUNC" and parts[4] in ("GLOBAL", "WEAK")
                    and parts[5] == "DEFAULT" and parts[6] != "UND"
                    and not parts[7].startswith("_Z")):
                names.add(parts[7])
    return names


def check_c_api(objects, src):
    errors = []
    for name, objs in objects.items():
        if name == "api":
            continue
        for fn in sorted(c_functions(objs)):
            errors.append(f"{name} defines the C function {fn}: extern \"C\" functions live in "
                          f"src/api")
    for path in sorted(src.rglob("*.cc")):
        if path.relative_to(src).parts[0] != "api" and 'extern "C"' in path.read_text():
            errors.append(f"{path.relative_to(src)} holds extern \"C\": C entries live in src/api")
    text = "\n".join(p.read_text() for p in sorted((src / "api").glob("*.cc")))
    api_functions = c_functions(objects["api"])
    if not api_functions:
        errors.append("the api component defines no C function")
    for fn in sorted(api_functions):
        m = re.search(r"\b" + fn + r"\s*\([^;{]*\)\s*\{\s*(.{0,40})", text, re.S)
        if not m:
            errors.append(f"no definition of {fn} found in src/api")
        elif not re.match(r"return capspawn::api::Guard(Value)?\b", m.group(1)):
            errors.append(f"{fn} (src/api) does not run its body through the barrier: "
                          f"{m.group(1)!r}")
    return errors, len(api_functions)


def main():
    tsv, src = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    uses, objects = {}, {}
    for line in tsv.read_text().splitlines():
        name, deps, objs = line.split("\t")
        uses[name] = set(filter(None, deps.split(",")))
        objects[name] = list(filter(None, objs.split(",")))

    def closure(name):
        seen, todo = set(), [name]
        while todo:
            for dep in uses[todo.pop()]:
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return seen

    errors = []
    include = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/', re.M)
    for name in uses:
        for path in sorted((src / name).glob("*")):
            if path.suffix not in (".cc", ".h"):
                continue
            for other in include.findall(path.read_text()):
                if other in uses and other != name and other not in uses[name]:
                    errors.append(f"{path.relative_to(src)} includes {other}/ but {name} does not "
                                  f"link capspawn_{other}")

    symbols = {name: defined_and_undefined(objs) for name, objs in objects.items()}
    owner = {}
    for name, (defined, _) in symbols.items():
        for sym in defined:
            owner.setdefault(sym, set()).add(name)
    for name, (defined, undefined) in symbols.items():
        allowed = closure(name) | {name}
        for sym in sorted(undefined - defined):
            owners = owner.get(sym, set())
            if owners and not owners & allowed:
                demangled = subprocess.run(["c++filt", sym], capture_output=True,
                                           text=True).stdout.strip()
                errors.append(f"{name} uses {demangled} from {','.join(sorted(owners))}, "
                              f"which it does not link")

    c_errors, c_count = check_c_api(objects, src)
    errors += c_errors

    for e in errors:
        print(e)
    print(f"{len(uses)} components, {sum(len(u) for u in uses.values())} links, "
          f"{c_count} C functions in api; {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
