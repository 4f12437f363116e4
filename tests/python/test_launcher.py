# SPDX-License-Identifier: Apache-2.0
"""The launcher: a real capspawn-launcherd on a real socket; Launcher objects
and plain spawn() through the CAPSPAWN_LAUNCHER variable."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time

import pytest
from conftest import AS_ROOT, PYTHON, REPORT, children, py_env, state

import capspawn

LAUNCHERD = os.environ["CAPSPAWN_PY_LAUNCHERD"]


class Daemon:
    def __init__(self, tmp_path):
        self.root = tmp_path / "packages"
        (self.root / "shell" / "bin").mkdir(parents=True)
        shutil.copy("/bin/sh", self.root / "shell" / "bin" / "shell")
        self.socket = str(tmp_path / "launcher.sock")
        self.log_path = tmp_path / "launcherd.log"
        self.start()

    def start(self):
        r, w = os.pipe()
        with open(self.log_path, "ab") as log:
            self.proc = capspawn.spawn(
                [
                    LAUNCHERD,
                    "--socket",
                    self.socket,
                    "--resolver-root",
                    str(self.root),
                    "--ready-fd",
                    "3",
                    "--quiet",
                ],
                transfer_fds={3: w},
                stderr=log,
            )
        with open(r, "rb") as ready:
            assert ready.readline() == b"READY\n", self.log()

    def log(self):
        return self.log_path.read_text(errors="replace")

    def stop(self):
        kids_before = set(children())
        self.proc.terminate()
        code = self.proc.wait(timeout=30)
        self.proc.close()
        reap_workers(kids_before)
        return code


def reap_workers(kids_before):
    """The daemon's connection workers die with it (PR_SET_PDEATHSIG) and,
    this process being a subreaper, come to it: reap those, waiting a bounded
    time; anything else is left to the leak check."""
    for pid in set(children()) - kids_before:
        try:
            with open(f"/proc/{pid}/comm") as f:
                if not f.read().startswith("capspawn-launch"):
                    continue
        except OSError:
            continue
        for _ in range(1000):
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                break
            time.sleep(0.01)


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path)
    yield d
    if d.proc.returncode is None:
        assert d.stop() == 0, d.log()
    assert "Sanitizer" not in d.log() and "runtime error" not in d.log(), d.log()


def child_report(run, **kwargs):
    r = run([PYTHON, "-S", REPORT], capture_output=True, **kwargs)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_launcher_spawn_runs_in_the_daemon(daemon):
    with capspawn.Launcher(daemon.socket) as launcher:
        p = launcher.spawn(["sh", "-c", "exit 5"])
        assert p.wait(timeout=30) == 5
        p.close()
        r, w = os.pipe()
        d = json.loads(
            launcher.spawn(
                [PYTHON, "-S", REPORT, "write:7:via fd 7"],
                stdout=capspawn.PIPE,
                fds={7: w},
                env={"LC_ALL": "C.UTF-8", "ONLY": "1"},
            ).communicate()[0]
        )
        os.close(w)
        assert os.read(r, 100) == b"via fd 7"
        os.close(r)
        assert d["grandparent"] == daemon.proc.pid  # a worker of the daemon created it
        assert d["uid"] == os.getuid()  # as us
        assert d["env"] == {"LC_ALL": "C.UTF-8", "ONLY": "1"}
        assert sorted(map(int, d["fds"])) == [0, 1, 2, 7]


def in_a_thread(f):
    """Runs f in a thread of its own: the library keeps one launcher connection
    per thread that spawned through CAPSPAWN_LAUNCHER, closed when it exits."""
    out = []
    t = threading.Thread(target=lambda: out.append(f()))
    t.start()
    t.join()
    assert out, "the thread failed"
    return out[0]


def test_spawn_goes_through_capspawn_launcher(daemon, monkeypatch, tmp_path):
    monkeypatch.setenv("CAPSPAWN_LAUNCHER", daemon.socket)
    d = in_a_thread(lambda: child_report(capspawn.run))
    assert d["grandparent"] == daemon.proc.pid  # a worker of the daemon created it
    # The client follows #! itself, then sends the interpreter.
    script = tmp_path / "s.sh"
    script.write_text("#!/bin/sh\nexit 9\n")
    script.chmod(0o755)
    assert in_a_thread(lambda: capspawn.run([str(script)]).returncode) == 9
    with capspawn.Launcher() as launcher:  # the variable names the socket
        assert launcher.socket_path == daemon.socket
        # Launcher objects hand the program file as is: the daemon runs no #!/path.
        with pytest.raises(capspawn.NotSupported):
            launcher.spawn([str(script)])


def test_launcher_without_a_socket(monkeypatch):
    monkeypatch.delenv("CAPSPAWN_LAUNCHER", raising=False)
    with pytest.raises(capspawn.NotSupported, match="CAPSPAWN_LAUNCHER is not set"):
        capspawn.Launcher()
    with pytest.raises(capspawn.PeerClosed):
        capspawn.Launcher("/nonexistent/launcher.sock")


def test_launcher_namespace_handles_and_refusals(daemon, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "f").write_text("in the namespace")
    from conftest import LIBDIR

    with capspawn.Launcher(daemon.socket) as launcher:
        code = "import os; print(sorted(os.listdir('/')), open('/data/f').read(), os.environ['LISTEN_FDNAMES'])"
        r, w = os.pipe()
        p = launcher.spawn(
            [PYTHON, "-S", "-c", code],
            stdout=capspawn.PIPE,
            text=True,
            env={"LC_ALL": "C.UTF-8"},
            flags=capspawn.CLONE_ALL & ~capspawn.CLONE_NAMESPACE,
            namespace={"/data": data},
            clone_dirs=["/usr"],
            loader=LIBDIR,
            handles={"user0.3": r},
        )
        os.close(r)
        os.close(w)
        out, _ = p.communicate()
        assert p.returncode == 0
        assert out == "['data', 'lib', 'lib64', 'usr'] in the namespace user0.3\n"
        with pytest.raises(
            capspawn.NotSupported,
            match=r"namespace\['/ro'\]: the Launcher protocol has no read-only",
        ):
            launcher.spawn(["true"], namespace={"/ro": capspawn.ReadOnly("/usr")})
        # The refusal left the connection usable.
        assert launcher.spawn(["true"]).wait(30) == 0


def test_launcher_create_suspended(daemon):
    with capspawn.Launcher(daemon.socket) as launcher:
        with launcher.create_suspended(["sh", "-c", "exit 6"]) as b:
            assert state(b.pid) == "T"
            assert b.entry and b.stack and b.base
            b.start()
            assert b.process.wait(timeout=30) == 6


def test_resolve(daemon):
    with capspawn.Launcher(daemon.socket) as launcher:
        found = launcher.resolve("shell")
        try:
            assert os.path.samestat(
                os.fstat(found.executable), os.stat(daemon.root / "shell" / "bin" / "shell")
            )
            assert found.loader is None
            assert (
                capspawn.run(["shell", "-c", "exit 4"], executable=found.executable).returncode == 4
            )
        finally:
            os.close(found.executable)
        with pytest.raises(capspawn.NotFound):
            launcher.resolve("missing")
        with pytest.raises(capspawn.InvalidArgs):
            launcher.resolve("../escape")


def test_daemon_gone_then_back(daemon):
    launcher = capspawn.Launcher(daemon.socket)
    with launcher:
        assert launcher.spawn(["true"]).wait(30) == 0
        kids_before = set(children())
        daemon.proc.send_signal(signal.SIGKILL)
        daemon.proc.wait(30)
        daemon.proc.close()
        reap_workers(kids_before)
        with pytest.raises(capspawn.PeerClosed) as e:
            launcher.spawn(["true"])
        assert isinstance(e.value, ConnectionError)
        daemon.start()  # the same path: the next call connects anew
        assert launcher.spawn(["true"]).wait(30) == 0
    with pytest.raises(ValueError, match="closed"):
        launcher.spawn(["true"])


def test_launcher_in_a_forked_child_reconnects(daemon):
    with capspawn.Launcher(daemon.socket) as launcher:
        assert launcher.spawn(["true"]).wait(30) == 0
        pid = os.fork()
        if pid == 0:
            try:
                os._exit(launcher.spawn(["sh", "-c", "exit 3"]).wait(30))
            finally:
                os._exit(99)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 3
        assert launcher.spawn(["true"]).wait(30) == 0  # ours still works


def test_a_deny_job_gets_children_through_the_launcher(daemon, job):
    if not AS_ROOT:
        pytest.skip("needs a job")
    job.deny_new_process()
    code = (
        "import capspawn, os\n"
        "try:\n os.fork()\nexcept OSError as e: print('fork:', e.strerror)\n"
        "print('grandchild:', capspawn.run(['sh', '-c', 'exit 42']).returncode)\n"
    )
    r = job.run(
        [PYTHON, "-c", code],
        capture_output=True,
        text=True,
        env=py_env(CAPSPAWN_LAUNCHER=daemon.socket, ASAN_OPTIONS="detect_leaks=0"),
    )
    assert r.stdout == "fork: Operation not permitted\ngrandchild: 42\n", r.stderr
