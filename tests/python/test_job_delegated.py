# SPDX-License-Identifier: Apache-2.0
"""The job tests again as nobody, inside a cgroup subtree delegated to it
(docs/jobs.md), as tests/job's JobDelegated does for the C++ suite: where the
plain nobody run can only skip them."""

from __future__ import annotations

import os
import pwd

import pytest
from conftest import AS_ROOT, HERE, PYTHON, py_env

import capspawn


def test_the_job_tests_pass_as_nobody_in_a_delegated_subtree():
    if not AS_ROOT:
        pytest.skip("delegating a subtree needs root")
    if os.environ.get("CAPSPAWN_PY_DELEGATED"):
        pytest.skip("already the delegated run")
    try:
        with capspawn.Job.default() as default:
            top = default.path
    except capspawn.NotSupported as e:
        pytest.skip(f"no cgroup v2 here: {e}")
    nobody = pwd.getpwnam("nobody")
    # The delegated subtree: a plain cgroup owned by nobody, as a delegator makes it.
    sub = os.path.join(top, f"capspawn-py-delegated-{os.getpid()}")
    os.mkdir(sub)
    try:
        for f in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
            os.chown(os.path.join(sub, f), nobody.pw_uid, nobody.pw_gid)
        with capspawn.Job.open(sub) as delegated:
            r = capspawn.run(
                [
                    "setpriv",
                    "--reuid=nobody",
                    "--regid=nogroup",
                    "--clear-groups",
                    "--inh-caps=-all",
                    PYTHON,
                    "-X",
                    "dev",
                    "-m",
                    "pytest",
                    "-p",
                    "no:cacheprovider",
                    "-q",
                    "-rs",
                    "-c",
                    os.path.join(HERE, "pytest.ini"),
                    os.path.join(HERE, "test_job.py"),
                ],
                job=delegated,
                env=py_env(HOME="/tmp", CAPSPAWN_PY_DELEGATED="1"),
                capture_output=True,
                text=True,
            )
            left = [d for d in os.listdir(sub) if os.path.isdir(os.path.join(sub, d))]
        assert r.returncode == 0, r.stdout + r.stderr
        assert " passed" in r.stdout and "skipped" not in r.stdout, r.stdout
        assert not left, f"the unprivileged run leaked cgroups under {sub}: {left}"
    finally:
        with open(os.path.join(sub, "cgroup.kill"), "w") as f:
            f.write("1")
        for d in os.listdir(sub):
            if os.path.isdir(os.path.join(sub, d)):
                capspawn.Job.open(os.path.join(sub, d)).destroy()
        os.rmdir(sub)
