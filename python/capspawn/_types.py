# SPDX-License-Identifier: Apache-2.0
"""The types of spawn()'s arguments, for type checkers and help()."""

from __future__ import annotations

import os
from typing import Any, Literal, Mapping, Protocol, Tuple, Union

from ._namespace import DevMinimal, Proc, ReadOnly, Tmpfs


class HasFileno(Protocol):
    """A file object, socket, Job... anything with fileno()."""

    def fileno(self) -> int:
        ...


# A path: str, bytes or os.PathLike.
StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
# An fd, or an object that has one.
FdLike = Union[int, HasFileno]
# None, a mapping of variables, or "inherit".
Env = Union[None, Mapping[Any, Any], Literal["inherit"]]
# A typed handle's id: "user0.1", (type, arg) or an int. (Mapping keys are
# invariant: spawn() takes Mapping[Any, ...] so that a dict[str, ...] fits.)
HandleId = Union[str, int, Tuple[int, int]]
# What a namespace entry mounts.
NamespaceSource = Union[StrPath, FdLike, ReadOnly, Tmpfs, Proc, DevMinimal]
# stdin/stdout/stderr: None, PIPE, DEVNULL, STDOUT, an fd or a file.
Stdio = Union[None, int, HasFileno]
