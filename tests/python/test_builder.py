# SPDX-License-Identifier: Apache-2.0
"""create_suspended(): a process that has exec'd and waits before its first
instruction; every number checked against what the kernel says."""

from __future__ import annotations

import gc
import os
import struct

import pytest
from conftest import state

import capspawn

AT_BASE, AT_ENTRY, AT_SYSINFO_EHDR = 7, 9, 33


def auxv(pid):
    with open(f"/proc/{pid}/auxv", "rb") as f:
        data = f.read()
    return dict(struct.iter_unpack("QQ", data))


def mapping_of(pid, addr):
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            if lo <= addr < hi:
                return line.split()
    return None


def test_numbers_are_the_real_process():
    with capspawn.create_suspended(["/bin/true"]) as b:
        assert state(b.pid) == "T"
        assert b.thread == b.pid
        aux = auxv(b.pid)
        assert b.base == aux[AT_BASE] != 0  # /bin/true is dynamic: the linker's base
        assert b.vdso_base == aux[AT_SYSINFO_EHDR]
        assert mapping_of(b.pid, b.vdso_base)[-1] == "[vdso]"
        assert mapping_of(b.pid, b.stack)[-1] == "[stack]"
        assert "ld-linux" in mapping_of(b.pid, b.entry)[-1]  # starts in its dynamic linker
        assert os.pread(b.root_vmar, 4, b.base) == b"\x7fELF"
        b.start()
        assert b.process.wait(timeout=10) == 0
    assert b.started


def test_it_has_not_run_until_started(tmp_path):
    marker = tmp_path / "ran"
    with capspawn.create_suspended(["sh", "-c", f"touch {marker}; exit 8"]) as b:
        import time

        time.sleep(0.2)
        assert not marker.exists() and state(b.pid) == "T"
        b.start()
        assert b.process.wait(timeout=10) == 8
        assert marker.exists()
        with pytest.raises(capspawn.BadState, match="not stopped"):
            b.start()


def test_pipes_work_after_start():
    with capspawn.create_suspended(["cat"], stdin=capspawn.PIPE, stdout=capspawn.PIPE) as b:
        b.start()
        out, _ = b.process.communicate(b"through")
        assert out == b"through"


def test_closing_without_start_kills_and_reaps():
    b = capspawn.create_suspended(["sleep", "30"])
    pid = b.pid
    b.close()
    assert state(pid) == "gone"
    assert b.process.returncode == -9
    b.close()  # again: nothing


def test_dropping_without_start_warns_kills_and_reaps():
    b = capspawn.create_suspended(["sleep", "30"])
    pid = b.pid
    with pytest.warns(ResourceWarning, match=f"suspended process {pid} dropped without start"):
        del b
        gc.collect()
    assert state(pid) == "gone"


def test_a_failed_create_leaves_nothing():
    with pytest.raises(capspawn.NotFound):
        capspawn.create_suspended(["/nonexistent"], stdout=capspawn.PIPE)
    with pytest.raises(TypeError):
        capspawn.create_suspended(["true"], bogus=1)


def test_name_and_namespace_apply(tmp_path):
    with capspawn.create_suspended(["sleep", "30"], name="suspended-one") as b:
        with open(f"/proc/{b.pid}/comm") as f:
            assert f.read().strip() == "suspended-one"
        assert "entry=" in repr(b) and "started=False" in repr(b)
