# SPDX-License-Identifier: Apache-2.0
"""run() and run_async(): spawn, feed, drain, wait; subprocess.run's shape."""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any, Dict, Optional, Sequence, Union

from ._errors import TimeoutExpired
from ._spawn import PIPE, spawn

CompletedProcess = subprocess.CompletedProcess


def _prepare(kwargs: Dict[str, Any], capture_output: bool, input: Any) -> None:
    if capture_output:
        if kwargs.get("stdout") is not None or kwargs.get("stderr") is not None:
            raise ValueError("stdout and stderr may not be given with capture_output=True")
        kwargs["stdout"] = kwargs["stderr"] = PIPE
    if input is not None:
        if kwargs.get("stdin") is not None:
            raise ValueError("stdin and input may not both be given")
        kwargs["stdin"] = PIPE


def run(
    argv: Sequence[Any],
    *,
    capture_output: bool = False,
    input: Optional[Union[bytes, str]] = None,
    timeout: Optional[float] = None,
    check: bool = False,
    **kwargs: Any,
) -> "subprocess.CompletedProcess[Any]":
    """Runs a program to its end; returns a ``subprocess.CompletedProcess``
    (``args``, ``returncode``, ``stdout``, ``stderr``).

    Takes every argument of :func:`capspawn.spawn`, and: ``capture_output``
    (stdout and stderr as pipes, read into the result), ``input`` (bytes, or
    str with ``text=True``, written to stdin), ``timeout`` (seconds: the
    process is killed and :class:`capspawn.TimeoutExpired` raised, holding
    what was read), ``check`` (a non-zero return code raises
    ``subprocess.CalledProcessError``). The return code is the exit status,
    or ``-signal``.
    """
    _prepare(kwargs, capture_output, input)
    with spawn(argv, **kwargs) as proc:
        try:
            stdout, stderr = proc.communicate(input, timeout)
        except TimeoutExpired as e:
            proc.kill()
            proc.wait()
            raise TimeoutExpired(proc.args, e.timeout, e.output, e.stderr) from None
        except BaseException:
            proc.kill()
            raise
        code = proc.wait()
    if check and code:
        raise subprocess.CalledProcessError(code, proc.args, stdout, stderr)
    return subprocess.CompletedProcess(proc.args, code, stdout, stderr)


async def run_async(
    argv: Sequence[Any],
    *,
    capture_output: bool = False,
    input: Optional[Union[bytes, str]] = None,
    timeout: Optional[float] = None,
    check: bool = False,
    **kwargs: Any,
) -> "subprocess.CompletedProcess[Any]":
    """As :func:`run`, awaited: the event loop watches the pidfd and the pipes
    (no thread, no SIGCHLD handler). A timeout, or cancelling the task, kills
    the process (and reaps it) before the exception propagates."""
    _prepare(kwargs, capture_output, input)
    proc = spawn(argv, **kwargs)
    try:
        try:
            stdout, stderr = await asyncio.wait_for(proc.communicate_async(input), timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait_async()
            raise TimeoutExpired(proc.args, timeout or 0) from None
        except BaseException:
            proc.kill()
            await asyncio.shield(proc.wait_async())
            raise
    finally:
        proc.close()
    code = proc.returncode
    assert code is not None
    if check and code:
        raise subprocess.CalledProcessError(code, proc.args, stdout, stderr)
    return subprocess.CompletedProcess(proc.args, code, stdout, stderr)
