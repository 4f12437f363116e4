#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The SPDX license identifier of capspawn's source files.
#   scripts/spdx.sh            add "SPDX-License-Identifier: Apache-2.0" where it
#                              is missing, in each language's comment style
#                              (after a #! line); files that have it are untouched
#   scripts/spdx.sh --check    list the source files without it; exit 1 if any
#   scripts/spdx.sh [--check] FILE...   only these files
# Source files: C and C++ (.c .cc .h), shell (.sh, and #! scripts under
# scripts/ and .ci/), Python (.py), CMake (CMakeLists.txt, .cmake, .in),
# Cap'n Proto (.capnp), man page sources (.scd) and systemd units. Test data
# (fuzz corpora, ELF samples) and documents are not source.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
id="SPDX-License-Identifier: Apache-2.0"
check=0
if [[ ${1:-} == --check ]]; then
  check=1
  shift
fi

# The comment that carries the identifier in FILE's language, or nothing
# for a file that is not source.
comment_for() {
  local f=$1 base=${1##*/}
  case $f in
    # Test data, and Debian's changelog and copyright templates, which
    # allow no comment lines (the copyright file states the license itself).
    fuzz/corpus/* | */testdata/* | packaging/debian/*) return ;;
  esac
  case $base in
    *.c | *.cc | *.h | *.cpp | *.hpp) echo "// $id" ;;
    *.scd) echo "; $id" ;;
    *.sh | *.py | *.cmake | *.capnp | *.service | *.socket | CMakeLists.txt) echo "# $id" ;;
    *.h.in) echo "/* $id */" ;;
    *.in) echo "# $id" ;;
    *)
      if [[ $f == scripts/* || $f == .ci/* ]] && head -c2 "$src/$f" 2>/dev/null | grep -q '^#!'; then
        echo "# $id"
      fi
      ;;
  esac
}

has_id() { head -n 5 "$1" | grep -q "SPDX-License-Identifier:"; }

if (($#)); then
  files=("$@")
else
  mapfile -t files < <(cd "$src" && git ls-files 2>/dev/null || find . -type f -not -path './.git/*' | sed 's|^\./||')
fi

missing=0
for f in "${files[@]}"; do
  f=${f#"$src"/}
  comment=$(comment_for "$f")
  [[ -n $comment && -f $src/$f ]] || continue
  has_id "$src/$f" && continue
  if ((check)); then
    echo "$f"
    missing=$((missing + 1))
    continue
  fi
  tmp=$(mktemp)
  # After a #! line, and after a man page source's title line (scdoc wants it first).
  if head -n1 "$src/$f" | grep -q '^#!' || [[ $f == *.scd ]]; then
    { head -n1 "$src/$f"; echo "$comment"; tail -n +2 "$src/$f"; } >"$tmp"
  else
    { echo "$comment"; cat "$src/$f"; } >"$tmp"
  fi
  # Keep the file's mode (scripts stay executable).
  cat "$tmp" >"$src/$f"
  rm -f "$tmp"
  echo "spdx: added to $f"
done
if ((check)); then
  if ((missing)); then
    echo "spdx: $missing source file(s) without \"$id\""
    exit 1
  fi
  echo "spdx: every source file has \"$id\""
fi
