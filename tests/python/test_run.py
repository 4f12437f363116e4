# SPDX-License-Identifier: Apache-2.0
"""capspawn.run(): subprocess.run's shape."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

import capspawn


def test_result_is_a_completed_process():
    r = capspawn.run(["sh", "-c", "exit 4"])
    assert isinstance(r, subprocess.CompletedProcess)
    assert (r.args, r.returncode, r.stdout, r.stderr) == (["sh", "-c", "exit 4"], 4, None, None)
    with pytest.raises(subprocess.CalledProcessError):
        r.check_returncode()


def test_capture_output():
    r = capspawn.run(["sh", "-c", "echo out; echo err >&2"], capture_output=True)
    assert (r.stdout, r.stderr) == (b"out\n", b"err\n")
    with pytest.raises(ValueError, match="capture_output"):
        capspawn.run(["true"], capture_output=True, stdout=capspawn.PIPE)


def test_input_bytes_and_text():
    assert capspawn.run(["cat"], input=b"abc", capture_output=True).stdout == b"abc"
    assert capspawn.run(["cat"], input="ünï", capture_output=True, text=True).stdout == "ünï"
    with pytest.raises(ValueError, match="stdin and input"):
        capspawn.run(["cat"], input=b"x", stdin=capspawn.DEVNULL)


def test_large_input_and_output_do_not_deadlock():
    data = bytes(range(256)) * 20000  # 5 MB both ways, far above a pipe's size
    r = capspawn.run(["cat"], input=data, capture_output=True)
    assert r.stdout == data


def test_input_to_a_program_that_does_not_read():
    r = capspawn.run(["true"], input=b"x" * 1000000)
    assert r.returncode == 0


def test_timeout_kills_and_keeps_what_was_read():
    t = time.monotonic()
    with pytest.raises(capspawn.TimeoutExpired) as e:
        capspawn.run(["sh", "-c", "echo partial; exec sleep 30"], capture_output=True, timeout=3)
    assert time.monotonic() - t < 20
    assert e.value.output == b"partial\n" and e.value.stdout == b"partial\n"
    assert e.value.timeout == 3
    assert isinstance(e.value, subprocess.TimeoutExpired)


def test_timeout_without_pipes():
    with pytest.raises(subprocess.TimeoutExpired):
        capspawn.run(["sleep", "30"], timeout=0.2)


def test_check():
    with pytest.raises(subprocess.CalledProcessError) as e:
        capspawn.run(["sh", "-c", "echo o; exit 2"], capture_output=True, check=True)
    assert (e.value.returncode, e.value.output, e.value.cmd) == (
        2,
        b"o\n",
        ["sh", "-c", "echo o; exit 2"],
    )
    assert capspawn.CalledProcessError is subprocess.CalledProcessError
    assert capspawn.run(["true"], check=True).returncode == 0


def test_killed_by_a_signal():
    assert capspawn.run(["sh", "-c", "kill -TERM $$"]).returncode == -15


def test_communicate_resumes_after_a_timeout():
    r, w = os.pipe()
    cmd = ["sh", "-c", "echo a; read go <&3; echo b"]
    with capspawn.spawn(cmd, stdout=capspawn.PIPE, transfer_fds={3: r}) as p:
        deadline = time.monotonic() + 30
        while True:  # each timed-out call keeps what it read
            with pytest.raises(capspawn.TimeoutExpired) as e:
                p.communicate(timeout=0.1)
            if e.value.output == b"a\n" or time.monotonic() > deadline:
                break
        assert e.value.output == b"a\n"
        os.write(w, b"go\n")
        out, _ = p.communicate()
        assert out == b"a\nb\n"
    os.close(w)
