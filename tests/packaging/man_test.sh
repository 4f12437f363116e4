#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every generated man page renders without a warning from man/groff (what
# lintian checks too), and every alias link points at a page.
#   man_test.sh MAN_DIR
set -euo pipefail
dir=$1
pages=0
for page in "$dir"/*.[1378].gz; do
  [[ -e $page ]] || continue
  [[ -L $page && ! -e $(readlink -f "$page") ]] && { echo "man: $page: dangling link"; exit 1; }
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null || true)
  if [[ -n $warnings ]]; then
    echo "man: ${page##*/}: $warnings"
    exit 1
  fi
  pages=$((pages + 1))
done
((pages >= 30)) || { echo "man: only $pages pages in $dir"; exit 1; }
echo "man: $pages pages render without warnings"
