# SPDX-License-Identifier: Apache-2.0
"""The typing surface and the documentation: stubs match the extension,
every public callable is documented, help(capspawn.spawn) is complete."""

from __future__ import annotations

import ast
import inspect
import os
import pydoc

import pytest
from conftest import PYTHON

import capspawn
from capspawn import _native

PKG = os.path.dirname(capspawn.__file__)


def stub_names():
    with open(os.path.join(PKG, "_native.pyi")) as f:
        tree = ast.parse(f.read())
    top, members = set(), {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            top.add(node.name)
            members[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
        elif isinstance(node, ast.FunctionDef):
            top.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            top.add(node.target.id)
    return top, members


def test_the_stub_declares_exactly_what_the_extension_has():
    top, members = stub_names()
    public = {n for n in dir(_native) if not n.startswith("_")}
    assert top - {"_Path"} == public
    for cls, names in members.items():
        have = {n for n in vars(getattr(_native, cls)) if not n.startswith("_")}
        assert names - {"__init__"} == have, cls


def test_py_typed_is_shipped():
    assert os.path.exists(os.path.join(PKG, "py.typed"))


def test_every_public_callable_is_documented():
    undocumented = []
    for name in capspawn.__all__:
        obj = getattr(capspawn, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            if not inspect.getdoc(obj):
                undocumented.append(name)
        if inspect.isclass(obj) and obj.__module__.startswith("capspawn"):
            for m, f in vars(obj).items():
                if not m.startswith("_") and (
                    inspect.isfunction(f) or isinstance(f, (property, classmethod))
                ):
                    if not inspect.getdoc(getattr(obj, m)) and m not in ("c_name",):
                        undocumented.append(f"{name}.{m}")
    assert not undocumented


def test_help_of_spawn_describes_every_parameter():
    text = pydoc.render_doc(capspawn.spawn, renderer=pydoc.plaintext)
    for param in inspect.signature(capspawn.spawn).parameters:
        assert f"\n    {param}" in text or f"    {param}, " in text or f", {param}" in text, param
    for word in ("CLONE_ALL", "PIPE", "ReadOnly", "Tmpfs", "user0.1", "NotFound", "GIL"):
        assert word in text


def test_public_classes_show_as_capspawn():
    assert repr(capspawn.NotFound) == "<class 'capspawn.NotFound'>"
    assert capspawn.Process.__module__ == "capspawn"


USER_CODE = """
import asyncio, socket, subprocess
import capspawn

def use() -> int:
    sock = socket.socket()
    p: capspawn.Process = capspawn.spawn(
        ["true"], env={"A": "1"}, fds={3: 0, 4: sock}, flags=capspawn.CLONE_ALL,
        handles={"user0.1": sock}, namespace={"/data": "/srv", "/ro": capspawn.ReadOnly(3)},
        stdout=capspawn.PIPE, job=capspawn.Job.default(), loader="/usr/lib",
    )
    code: int = p.wait(timeout=1.5)
    r: "subprocess.CompletedProcess[bytes]" = capspawn.run(["true"], capture_output=True)
    with capspawn.Job() as job:
        pids: list[int] = job.processes()
    b: capspawn.BuiltProcess = capspawn.create_suspended(["true"])
    entry: int = b.entry
    fd: int | None = capspawn.startup.take_handle("user0.1")
    return code + len(pids) + entry + r.returncode + (fd or 0)

async def later() -> int:
    return await capspawn.spawn(["true"]).wait_async()
"""

WRONG_CODE = """
import capspawn
capspawn.Process.from_pidfd("3")
capspawn.Job().kill(timeout="soon")
n: str = capspawn.spawn(["true"]).wait()
capspawn.spawn(["true"], env=["A=1"])
capspawn.spawn(["true"], fds={3: "/dev/null"})
"""


def mypy(tmp_path, code):
    pytest.importorskip("mypy", reason="python3-mypy (scripts/setup.sh installs it) is missing")
    (tmp_path / "user.py").write_text(code)
    return capspawn.run(
        # The package is checked too: mypy follows the import (and reports
        # its errors) through MYPYPATH.
        [
            PYTHON,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir=/dev/null",
            "--no-error-summary",
            str(tmp_path / "user.py"),
        ],
        capture_output=True,
        text=True,
        env={"MYPYPATH": os.path.dirname(PKG), "PATH": "/usr/bin:/bin"},
        executable=PYTHON,
    )


def test_the_package_and_a_user_of_it_type_check_strictly(tmp_path):
    r = mypy(tmp_path, USER_CODE)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_types_catch_misuse(tmp_path):
    r = mypy(tmp_path, WRONG_CODE)
    assert r.returncode == 1
    errors = [line for line in r.stdout.splitlines() if "user.py" in line]
    assert len(errors) == 5 and all("error:" in e for e in errors), r.stdout
