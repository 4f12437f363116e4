# SPDX-License-Identifier: Apache-2.0
"""cmake --install puts a working package where Debian's python3 looks."""

from __future__ import annotations

import os

from conftest import PYTHON, py_env

import capspawn

SOURCE = os.environ["CAPSPAWN_PY_SOURCE_DIR"]


def test_an_installed_tree_imports_and_runs(tmp_path):
    build = os.environ["CAPSPAWN_PY_BUILD_DIR"]
    prefix = tmp_path / "prefix"
    # The whole install (its manifest is the one scripts/test.sh lets nobody write).
    r = capspawn.run(
        ["cmake", "--install", build, "--prefix", str(prefix)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout + r.stderr
    pkg = prefix / os.environ["CAPSPAWN_PY_INSTALL_DIR"] / "capspawn"
    names = set(os.listdir(pkg))
    assert {"__init__.py", "_native.pyi", "py.typed", "startup.py"} <= names
    native = [n for n in names if n.startswith("_native.") and n.endswith(".so")]
    assert len(native) == 1
    # The static library is inside: nothing of the build tree is needed.
    ldd = capspawn.run(["ldd", str(pkg / native[0])], capture_output=True, text=True).stdout
    assert "libcapspawn" not in ldd and "not found" not in ldd, ldd
    env = py_env()
    del env["PYTHONPATH"]
    code = (
        f"import sys; sys.path.insert(0, {str(pkg.parent)!r}); import capspawn\n"
        "print(capspawn.__file__)\n"
        "print(capspawn.run(['sh', '-c', 'exit 7']).returncode)\n"
    )
    r = capspawn.run([PYTHON, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{pkg / '__init__.py'}\n7\n"


def test_the_install_directory_is_on_the_interpreters_path():
    r = capspawn.run(
        [PYTHON, "-c", "import sys; print('\\n'.join(sys.path))"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    search = r.stdout.splitlines()
    for prefix in ("/usr", "/usr/local"):
        rel = capspawn.run(
            [PYTHON, os.path.join(SOURCE, "python", "install_dir.py"), prefix],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert os.path.join(prefix, rel) in search, (prefix, rel, search)
