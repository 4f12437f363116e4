# SPDX-License-Identifier: Apache-2.0
"""What a ``namespace={path: ...}`` entry can be besides a directory."""

from __future__ import annotations

import os
from typing import Any, Union


class ReadOnly:
    """A namespace entry mounted read-only: ``ReadOnly("/usr")``, ``ReadOnly(dirfd)``."""

    __slots__ = ("source",)

    def __init__(self, source: Union[str, bytes, "os.PathLike[Any]", int, Any]) -> None:
        if isinstance(source, (ReadOnly, Tmpfs, Proc, DevMinimal)):
            raise TypeError("ReadOnly() takes a directory (path or fd), not " + repr(source))
        self.source = source

    def __repr__(self) -> str:
        return f"capspawn.ReadOnly({self.source!r})"


class Tmpfs:
    """An empty tmpfs of the child's own at this path."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "capspawn.Tmpfs()"


class Proc:
    """procfs at this path, of a new pid namespace in which the program is pid 1."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "capspawn.Proc()"


class DevMinimal:
    """A read-only directory holding the device nodes null, zero and urandom."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "capspawn.DevMinimal()"


NamespaceSource = Union[str, bytes, "os.PathLike[Any]", int, Any, ReadOnly, Tmpfs, Proc, DevMinimal]
