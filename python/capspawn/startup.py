# SPDX-License-Identifier: Apache-2.0
"""For the spawned program: the typed startup handles its creator handed it.

Typed handles arrive at fds 3.. described by systemd's ``LISTEN_FDS``,
``LISTEN_PID`` and ``LISTEN_FDNAMES`` (each name is the handle's id spelled
``<type>.<arg>``, e.g. ``user0.1``). See docs/startup-handles.md.
"""

from __future__ import annotations

from typing import Optional, Tuple, Union

from . import _native
from ._request import handle_id


def take_handle(id: Union[str, int, Tuple[int, int]]) -> Optional[int]:
    """The fd handed with ``id`` (a name such as ``"user0.1"``, a
    ``(type, arg)`` pair or an int id), or None when none was. Each handle is
    returned once: the caller now owns the fd (e.g. ``socket.socket(fileno=fd)``)."""
    fd = _native.take_startup_handle(handle_id(id))
    return None if fd is None else int(fd)


def handle_name(id: Union[str, int, Tuple[int, int]]) -> str:
    """The ``LISTEN_FDNAMES`` name of a handle id (``"user0.1"``)."""
    return str(_native.startup_handle_name(handle_id(id)))


__all__ = ["take_handle", "handle_name", "handle_id"]
