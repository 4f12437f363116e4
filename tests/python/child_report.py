# SPDX-License-Identifier: Apache-2.0
"""A child that reports what it received, as JSON on stdout (run with -S: it
imports nothing beyond the interpreter's built-in modules and json).

Commands in argv[1:]: read:N (read fd N to its end), write:N:TEXT, ls:PATH,
close:N (before the report is written, so fd 1 may be read/closed first)."""

import json
import os
import stat
import sys

fds = {}
for fd in range(1024):
    try:
        st = os.fstat(fd)
    except OSError:
        continue
    kind = "other"
    for name, test in (
        ("reg", stat.S_ISREG),
        ("dir", stat.S_ISDIR),
        ("chr", stat.S_ISCHR),
        ("fifo", stat.S_ISFIFO),
        ("sock", stat.S_ISSOCK),
    ):
        if test(st.st_mode):
            kind = name
    fds[fd] = {"kind": kind, "dev": st.st_dev, "ino": st.st_ino}

def parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


out = {
    "argv": sys.argv,
    "env": dict(os.environ),
    "fds": fds,
    "pid": os.getpid(),
    "ppid": os.getppid(),
    "grandparent": parent_of(os.getppid()),
    "uid": os.getuid(),
    "root": sorted(os.listdir("/")),
    "read": {},
    "ls": {},
}
try:
    with open("/proc/self/comm") as f:
        out["comm"] = f.read().strip()
except OSError:
    out["comm"] = None

for cmd in sys.argv[1:]:
    parts = cmd.split(":", 2)
    if parts[0] == "read":
        chunks = []
        while True:
            b = os.read(int(parts[1]), 65536)
            if not b:
                break
            chunks.append(b)
        out["read"][parts[1]] = b"".join(chunks).decode("utf-8", "replace")
    elif parts[0] == "write":
        os.write(int(parts[1]), parts[2].encode())
    elif parts[0] == "ls":
        try:
            out["ls"][parts[1]] = sorted(os.listdir(parts[1]))
        except OSError as e:
            out["ls"][parts[1]] = e.strerror

sys.stdout.write(json.dumps(out))
