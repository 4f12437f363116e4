#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The repository stands alone: its Markdown documents link only to files
inside it that exist (and to headings those files have), and refer to
nothing outside it: no URL, no path that climbs out of the repository, no
issue tracker.

    scripts/check_links.py [ROOT]     exit 1 and one line per problem
"""
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))

INLINE = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
AUTOLINK = re.compile(r"<((?:[a-z][a-z0-9+.-]*):[^ >]+)>", re.I)
BARE_URL = re.compile(r"\b(?:https?|ftp)://[^\s)>\]`]+", re.I)
CODE_PATH = re.compile(r"`(\.\./[^`\s]+)`")
TRACKER = re.compile(r"\b(?:see )?issues? (?:#?\d+|\"[^\"]+\")", re.I)
FENCE = re.compile(r"^\s*(```|~~~)")


def markdown_files():
    try:
        out = subprocess.run(["git", "-C", ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "*.md", "**/*.md"], check=True,
                             capture_output=True, text=True).stdout.split()
        if out:
            return sorted(set(out))
    except (OSError, subprocess.CalledProcessError):
        pass
    found = []
    for d, dirs, files in os.walk(ROOT):
        dirs[:] = [x for x in dirs if not x.startswith(".") and not x.startswith("build")]
        found += [os.path.relpath(os.path.join(d, f), ROOT) for f in files if f.endswith(".md")]
    return sorted(found)


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to -."""
    text = re.sub(r"`|\*|_(?=\w)|(?<=\w)_", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    result, fenced = set(), False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if FENCE.match(line):
                fenced = not fenced
            elif not fenced and line.startswith("#"):
                result.add(slug(line.lstrip("#")))
    return result


def prose(text):
    """The text outside fenced code blocks, line numbers kept."""
    lines, fenced = [], False
    for line in text.split("\n"):
        if FENCE.match(line):
            fenced = not fenced
            lines.append("")
        else:
            lines.append("" if fenced else line)
    return "\n".join(lines)


def check(doc):
    problems = []
    path = os.path.join(ROOT, doc)
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    text = prose(raw)  # links are not links inside code blocks; URLs and issues still count

    def where(pos, within=None):
        return "%s:%d" % (doc, (text if within is None else within).count("\n", 0, pos) + 1)

    targets = [(m.start(), m.group(1)) for m in INLINE.finditer(text)]
    targets += [(m.start(), m.group(1)) for m in REFERENCE.finditer(text)]
    for m in AUTOLINK.finditer(text):
        problems.append("%s: link leaves the repository: %s" % (where(m.start()), m.group(1)))
    for m in BARE_URL.finditer(raw):
        problems.append("%s: URL leaves the repository: %s" % (where(m.start(), raw), m.group(0)))
    for m in TRACKER.finditer(raw):
        problems.append("%s: refers to an issue tracker: %s" % (where(m.start(), raw), m.group(0)))
    for m in CODE_PATH.finditer(raw):
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), m.group(1)))
        if not (resolved + os.sep).startswith(ROOT + os.sep):
            problems.append("%s: path leaves the repository: %s" % (where(m.start(), raw), m.group(1)))
    for pos, target in targets:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
            problems.append("%s: link leaves the repository: %s" % (where(pos), target))
            continue
        file_part, _, anchor = target.partition("#")
        if file_part.startswith("/"):
            problems.append("%s: absolute link: %s" % (where(pos), target))
            continue
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        if not (resolved + os.sep).startswith(ROOT + os.sep) and resolved != ROOT:
            problems.append("%s: link leaves the repository: %s" % (where(pos), target))
        elif not os.path.exists(resolved):
            problems.append("%s: link to a missing file: %s" % (where(pos), target))
        elif anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
            problems.append("%s: link to a missing heading: %s" % (where(pos), target))
    return problems


def main():
    docs = markdown_files()
    problems = [p for doc in docs for p in check(doc)]
    for p in problems:
        print(p)
    print("links: %d document(s), %d problem(s)" % (len(docs), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
