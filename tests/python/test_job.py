# SPDX-License-Identifier: Apache-2.0
"""Job: cgroup v2 job trees. Skipped (with the library's reason) where this
user may not create cgroups, e.g. as nobody outside a delegated subtree."""

from __future__ import annotations

import os
import signal
import time

import pytest
from conftest import AS_ROOT, PYTHON, state

import capspawn


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def alive(pid):
    return state(pid) not in ("gone", "Z")


@pytest.mark.orphans
def test_context_manager_kills_a_tree_with_a_setsid_daemon(job):
    # A double-forked, setsid'd daemon leaves the shell's session and process
    # group; only the job still holds it.
    with capspawn.Job(parent=job) as inner:
        runner = inner.spawn(["sh", "-c", '(setsid sh -c "exec sleep 600" &); exec sleep 600'])
        assert wait_for(lambda: [comm(p) for p in inner.processes()].count("sleep") == 2)
        pids = inner.processes()
        daemon = [p for p in pids if p != runner.pid and comm(p) == "sleep"][0]
        assert os.getsid(daemon) != os.getsid(runner.pid)
        path = inner.path
    # Destroyed on exit: every process killed, the cgroup removed.
    assert runner.wait(timeout=10) == -signal.SIGKILL
    assert wait_for(lambda: not any(alive(p) for p in pids))
    assert not os.path.exists(path)
    assert inner.closed
    runner.close()


def test_default_job_is_a_plain_cgroup():
    try:
        d = capspawn.Job.default()
    except capspawn.NotSupported as e:
        pytest.skip(f"no cgroup v2 here: {e}")
    with d:
        info = d.info()
        assert not info.is_capspawn_job and not info.killed and not info.deny_new_process
        assert os.getpid() in d.processes()
        with open("/proc/self/cgroup") as f:
            assert os.path.realpath(d.path).endswith(
                f.read().split("0::", 1)[1].strip().rstrip("/")
            )
        with pytest.raises(capspawn.WrongType):
            d.destroy()
    # Opened, not created: leaving the block only closes it.
    assert d.closed and os.path.isdir(info.path)


def test_create_open_children_processes(job):
    a = job.create_child("a")
    b = job.create_child()  # a generated name
    with a, b:
        assert job.children() == sorted(["a", os.path.basename(b.path)])
        with job.open_child("a") as again:
            assert again.path == a.path
        with capspawn.Job.open(a.path) as opened:
            assert opened.info().is_capspawn_job
        with pytest.raises(capspawn.AlreadyExists):
            job.create_child("a")
        p = a.spawn(["sleep", "30"])
        q = b.spawn(["sleep", "30"])
        assert sorted(job.processes()) == sorted([p.pid, q.pid])
        assert a.processes() == [p.pid]
        assert job.info().populated
    # a and b were destroyed by their with blocks
    assert p.wait(10) == -9 and q.wait(10) == -9
    assert job.children() == []


def test_from_fd_keeps_ours(job):
    fd = os.open(job.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        with capspawn.Job.from_fd(fd) as j:
            assert j.path == job.path
        os.fstat(fd)
    finally:
        os.close(fd)


def test_kill_is_final(job):
    p = job.spawn(["sleep", "30"])
    job.kill()
    assert p.wait(10) == -signal.SIGKILL
    assert job.info().killed
    assert job.processes() == []
    with pytest.raises(capspawn.BadState):
        job.spawn(["true"])
    job.kill()  # again: fine


def test_freeze_and_thaw(job):
    p = job.spawn(["sleep", "30"])
    job.freeze(timeout=10)
    assert job.info().frozen
    with pytest.raises(capspawn.TimeoutExpired):
        p.wait(0.2)
    job.thaw()
    assert wait_for(lambda: not job.info().frozen)
    p.kill()
    assert p.wait(10) == -9


def test_limits_or_the_missing_controller_named(job):
    with open(os.path.join(job.path, "cgroup.controllers")) as f:
        available = f.read().split()
    for kw, controller, file, expect in (
        ({"pids": 7}, "pids", "pids.max", "7"),
        ({"memory": 64 << 20}, "memory", "memory.max", str(64 << 20)),
        ({"cpu": 0.5}, "cpu", "cpu.max", "50000 100000"),
        ({"cpu_weight": 39}, "cpu", "cpu.weight", "39"),
    ):
        if controller in available or AS_ROOT:
            try:
                job.set_limits(**kw)
            except capspawn.NotSupported as e:
                # The library enables what capspawn jobs above allow; a plain
                # parent that does not delegate the controller is named.
                assert controller in str(e) and "subtree_control" in str(e)
                continue
            with open(os.path.join(job.path, file)) as f:
                assert f.read().strip() == expect
        else:
            with pytest.raises(capspawn.NotSupported, match=controller):
                job.set_limits(**kw)
    with pytest.raises(TypeError):
        job.set_limits(pids="many")


def test_deny_new_process(job):
    job.deny_new_process()
    assert job.denies_new_process
    code = (
        "import os, threading\n"
        "t = threading.Thread(target=lambda: None); t.start(); t.join(); print('thread ok')\n"
        "try:\n os.fork()\nexcept OSError as e: print('fork:', e.strerror)\n"
    )
    r = job.run(
        [PYTHON, "-S", "-c", code],
        capture_output=True,
        text=True,
        env={"ASAN_OPTIONS": "detect_leaks=0"},
    )
    assert r.stdout == "thread ok\nfork: Operation not permitted\n", r.stderr
    with job.create_child() as child:
        assert child.denies_new_process  # inherited


def test_destroy(job):
    child = job.create_child("doomed")
    path = child.path
    p = child.spawn(["sleep", "30"])
    child.destroy()
    assert p.wait(10) == -9
    assert not os.path.exists(path)
    with pytest.raises(capspawn.BadState):
        child.processes()
    child.close()
    with pytest.raises(capspawn.BadHandle, match="closed"):
        child.processes()
    with pytest.raises(ValueError):
        child.fileno()


def test_bad_names_and_paths(job):
    with pytest.raises(capspawn.InvalidArgs):
        job.create_child("bad/name")
    with pytest.raises(capspawn.InvalidArgs):
        job.create_child("procs")
    with pytest.raises(capspawn.NotFound):
        job.open_child("missing")
    with pytest.raises(capspawn.NotFound):
        capspawn.Job.open("/sys/fs/cgroup/definitely-not-there")
    with pytest.raises(capspawn.WrongType):
        capspawn.Job.open("/tmp")
    with pytest.raises(TypeError):
        job.create_child(42)


def test_dropping_a_created_job_warns_and_keeps_it(job):
    import gc

    child = job.create_child("kept")
    path = child.path
    with pytest.warns(ResourceWarning, match="a Job this process created was not closed"):
        del child
        gc.collect()
    assert os.path.isdir(path)  # a job outlives its handle
    with job.open_child("kept") as again:
        again.destroy()
    assert not os.path.exists(path)
