# SPDX-License-Identifier: Apache-2.0
"""Feeding stdin and draining stdout/stderr of a Process: blocking (selectors)
and through an asyncio event loop."""

from __future__ import annotations

import asyncio
import io
import os
import select
import selectors
import time
from typing import IO, Any, Dict, List, Optional, Protocol, Set, Tuple, Union

from ._errors import TimeoutExpired


class Process(Protocol):
    """What communicating needs of a process (capspawn.Process has it): its
    pipes, its argv for messages, and waiting."""

    stdin: Optional[IO[Any]]
    stdout: Optional[IO[Any]]
    stderr: Optional[IO[Any]]
    args: Any

    def wait(self, timeout: Optional[float] = None) -> int: ...

    async def wait_async(self) -> int: ...

_CHUNK = 32768


class _State:
    """What communicate() has done so far (a timed-out call is resumed)."""

    def __init__(self, proc: "Process", input: Optional[Union[bytes, str]]) -> None:
        self.out: Dict[int, List[bytes]] = {}
        if proc.stdin is not None and input is not None:
            if isinstance(input, str):
                input = input.encode(_encoding(proc.stdin), _errors(proc.stdin))
            self.input = memoryview(bytes(input))
        else:
            self.input = memoryview(b"")
        if proc.stdin is None and input:
            raise ValueError("input given but stdin is not a pipe (pass stdin=capspawn.PIPE)")
        self.written = 0


def _encoding(f: IO[Any]) -> str:
    return getattr(f, "encoding", None) or "utf-8"


def _errors(f: IO[Any]) -> str:
    return getattr(f, "errors", None) or "strict"


def _result(f: Optional[IO[Any]], chunks: Optional[List[bytes]]) -> Any:
    if f is None:
        return None
    data = b"".join(chunks or [])
    if isinstance(f, io.TextIOBase):
        text = data.decode(_encoding(f), _errors(f))
        return text.replace("\r\n", "\n").replace("\r", "\n")
    return data


def _start(proc: "Process", input: Optional[Union[bytes, str]]) -> _State:
    st: Optional[_State] = getattr(proc, "_comm", None)
    if st is None:
        st = _State(proc, input)
        proc._comm = st  # type: ignore[attr-defined]
        if proc.stdin is not None:
            try:
                proc.stdin.flush()  # what the caller wrote itself goes first
            except BrokenPipeError:
                pass
        for f in (proc.stdout, proc.stderr):
            if f is not None and not f.closed:
                st.out[f.fileno()] = []
    elif input is not None:
        raise ValueError("communicate() was already given its input")
    return st


def _close_stdin(proc: "Process") -> None:
    if proc.stdin is not None:
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass


def _outputs(proc: "Process", st: _State) -> Tuple[Any, Any]:
    out = st.out.get(proc.stdout.fileno()) if proc.stdout and not proc.stdout.closed else None
    err = st.out.get(proc.stderr.fileno()) if proc.stderr and not proc.stderr.closed else None
    return _result(proc.stdout, out), _result(proc.stderr, err)


def _finish(proc: "Process", st: _State) -> Tuple[Any, Any]:
    result = _outputs(proc, st)
    for f in (proc.stdout, proc.stderr):
        if f is not None:
            f.close()
    return result


def communicate(
    proc: "Process", input: Optional[Union[bytes, str]], timeout: Optional[float]
) -> Tuple[Any, Any]:
    if proc.stdin is None and proc.stdout is None and proc.stderr is None and not input:
        proc.wait(timeout)  # no pipe: nothing to feed or drain
        return None, None
    st = _start(proc, input)
    deadline = None if timeout is None else time.monotonic() + timeout
    stdin = proc.stdin
    readers = {f.fileno(): f for f in (proc.stdout, proc.stderr) if f is not None and not f.closed}
    with selectors.DefaultSelector() as sel:
        if stdin is not None and not stdin.closed:
            if st.written < len(st.input):
                sel.register(stdin.fileno(), selectors.EVENT_WRITE)
            else:
                _close_stdin(proc)
        for fd in readers:
            sel.register(fd, selectors.EVENT_READ)
        while sel.get_map():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                out, err = _outputs(proc, st)
                raise TimeoutExpired(proc.args or [], timeout or 0, out, err)
            for key, _ in sel.select(remaining):
                fd = key.fd
                if stdin is not None and not stdin.closed and fd == stdin.fileno():
                    try:
                        st.written += os.write(
                            fd, st.input[st.written : st.written + select.PIPE_BUF]
                        )
                    except BrokenPipeError:
                        st.written = len(st.input)  # the reader is gone: nothing more to say
                    if st.written >= len(st.input):
                        sel.unregister(fd)
                        _close_stdin(proc)
                else:
                    data = os.read(fd, _CHUNK)
                    if data:
                        st.out[fd].append(data)
                    else:
                        sel.unregister(fd)
    remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
    try:
        proc.wait(remaining)
    except TimeoutExpired:
        out, err = _outputs(proc, st)
        raise TimeoutExpired(proc.args or [], timeout or 0, out, err) from None
    return _finish(proc, st)


async def communicate_async(proc: "Process", input: Optional[Union[bytes, str]]) -> Tuple[Any, Any]:
    st = _start(proc, input)
    loop = asyncio.get_running_loop()
    pending: List["asyncio.Future[None]"] = []
    # (fd, is_writer) still registered with the loop: removed once, before the
    # fd is closed, never after (its number may by then be someone else's).
    watched: Set[Tuple[int, bool]] = set()

    def unwatch(fd: int, is_writer: bool) -> None:
        if (fd, is_writer) in watched:
            watched.discard((fd, is_writer))
            if is_writer:
                loop.remove_writer(fd)
            else:
                loop.remove_reader(fd)

    def drain(fd: int, done: "asyncio.Future[None]") -> None:
        try:
            data = os.read(fd, _CHUNK)
        except BlockingIOError:
            return
        except OSError as e:
            unwatch(fd, False)
            if not done.done():
                done.set_exception(e)
            return
        if data:
            st.out[fd].append(data)
        else:
            unwatch(fd, False)
            if not done.done():
                done.set_result(None)

    def feed(fd: int, done: "asyncio.Future[None]") -> None:
        try:
            st.written += os.write(fd, st.input[st.written : st.written + _CHUNK])
        except BlockingIOError:
            return
        except BrokenPipeError:
            st.written = len(st.input)
        if st.written >= len(st.input):
            unwatch(fd, True)
            _close_stdin(proc)
            if not done.done():
                done.set_result(None)

    try:
        stdin = proc.stdin
        if stdin is not None and not stdin.closed:
            if st.written < len(st.input):
                fd = stdin.fileno()
                os.set_blocking(fd, False)
                f: asyncio.Future[None] = loop.create_future()
                loop.add_writer(fd, feed, fd, f)
                watched.add((fd, True))
                pending.append(f)
            else:
                _close_stdin(proc)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None and not stream.closed:
                fd = stream.fileno()
                os.set_blocking(fd, False)
                f = loop.create_future()
                loop.add_reader(fd, drain, fd, f)
                watched.add((fd, False))
                pending.append(f)
        if pending:
            await asyncio.gather(*pending)
        await proc.wait_async()
    finally:
        for fd, is_writer in list(watched):
            unwatch(fd, is_writer)
    return _finish(proc, st)
