#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The link checker finds each kind of problem it is there for, and passes a
# tree without them.
#   links_selftest.sh CHECKER
set -euo pipefail
checker=$1
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/docs"
cat >"$tree/docs/good.md" <<'DOC'
# Good
## A section
See [the other](other.md), [a section](#a-section) and [its part](other.md#part-two).
DOC
printf '# Other\n## Part two\n' >"$tree/docs/other.md"
"$checker" "$tree" >/dev/null || { echo "links: a clean tree was refused"; exit 1; }
cat >"$tree/README.md" <<'DOC'
# Bad
[web](https://example.org/x), <https://example.org/y>, see issue 7,
[missing](docs/nothing.md), [heading](docs/other.md#no-such-part),
[outside](../elsewhere/file.md), `../shared/notes.md`, [root](/etc/passwd).
```
also in code: https://example.org/z
```
DOC
if out=$("$checker" "$tree"); then echo "links: a bad tree passed"; exit 1; fi
for needle in "link leaves the repository: https://example.org/x" \
  "link leaves the repository: https://example.org/y" "issue tracker: see issue 7" \
  "missing file: docs/nothing.md" "missing heading: docs/other.md#no-such-part" \
  "link leaves the repository: ../elsewhere/file.md" "path leaves the repository: ../shared/notes.md" \
  "absolute link: /etc/passwd" "URL leaves the repository: https://example.org/z"; do
  grep -qF "$needle" <<<"$out" || { echo "links: not found: $needle"; echo "$out"; exit 1; }
done
echo "links: the checker finds every kind of problem"
