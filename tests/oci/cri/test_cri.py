# SPDX-License-Identifier: Apache-2.0
"""Kubernetes' path to capspawn-oci: containerd's CRI plugin, spoken to over
its gRPC socket as the kubelet does, with a runtime handler that names
capspawn-oci (what a RuntimeClass selects). The same pod runs on runc, the
reference, and the two must be seen alike: a pod sandbox, a container that
joins the sandbox's namespaces, ExecSync into it, stop and remove, and nothing
left behind.

Run by CTest (oci_cri) with: --oci CAPSPAWN_OCI --image TAR --proto PROTO.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

grpc = pytest.importorskip("grpc", reason="python3-grpcio is missing")


def _option(name):
    value = os.environ.get("CRI_TEST_" + name.upper())
    if not value:
        pytest.skip(f"CRI_TEST_{name.upper()} is not set (run through ctest)")
    return value


def _mounts_below(path):
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(path)]


def _processes_mentioning(text):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def cri():
    if os.geteuid() != 0:
        pytest.skip("containerd's CRI plugin needs root")
    for tool in ("containerd", "ctr", "protoc", "runc"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is missing")
    oci, image, proto = _option("oci"), _option("image"), _option("proto")
    tmp = tempfile.mkdtemp(prefix="capspawn-cri-", dir="/var/tmp")
    # The CRI messages, compiled from the subset this test speaks.
    subprocess.run(["protoc", f"--proto_path={os.path.dirname(proto)}",
                    f"--python_out={tmp}", proto], check=True)
    sys.path.insert(0, tmp)
    import cri_subset_pb2 as pb  # noqa: E402 (generated above)

    for d in ("cni/bin", "cni/net.d", "logs", "capspawn-root", "runc-root"):
        os.makedirs(os.path.join(tmp, d))
    # restrict_oom_score_adj: this host's root may not lower oom_score_adj
    # (the sandbox asks -998). disable_cgroup: the cpu controller is bound to
    # cgroup v1 here, so a sandbox's cpu.shares cannot be a v2 cpu.weight;
    # containerd then sets no cgroup resources (docs/oci.md, "Kubernetes").
    with open(os.path.join(tmp, "config.toml"), "w") as f:
        f.write(f"""version = 2
root = "{tmp}/root"
state = "{tmp}/state"
[grpc]
  address = "{tmp}/c.sock"
[ttrpc]
  address = "{tmp}/c.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "capspawn.test/pause:latest"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_apparmor = true
  restrict_oom_score_adj = true
  disable_cgroup = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "{tmp}/runc-root"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.capspawn]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.capspawn.options]
        BinaryName = "{oci}"
        Root = "{tmp}/capspawn-root"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{tmp}/cni/bin"
    conf_dir = "{tmp}/cni/net.d"
""")
    log = open(os.path.join(tmp, "containerd.log"), "w")
    daemon = subprocess.Popen(["containerd", "--config", os.path.join(tmp, "config.toml")],
                              stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    ctr = ["ctr", "--address", f"{tmp}/c.sock", "-n", "k8s.io"]
    for _ in range(500):
        if subprocess.run(ctr + ["version"], capture_output=True).returncode == 0:
            break
        time.sleep(0.02)
    subprocess.run(ctr + ["image", "import", image], check=True, capture_output=True, timeout=120)
    channel = grpc.insecure_channel(f"unix://{tmp}/c.sock")

    class Client:
        pass

    client = Client()
    client.pb, client.tmp, client.oci = pb, tmp, oci

    def call(method, request, reply):
        rpc = channel.unary_unary(f"/runtime.v1.RuntimeService/{method}",
                                  request_serializer=lambda m: m.SerializeToString(),
                                  response_deserializer=reply.FromString)
        return rpc(request, timeout=60)

    client.call = call
    try:
        yield client
    finally:
        channel.close()
        daemon.terminate()
        daemon.wait(timeout=30)
        log.close()
        # The shims exit with their last task; containerd's own mounts go.
        for _ in range(100):
            if not _processes_mentioning(tmp + "/c.sock") and not _mounts_below(tmp):
                break
            time.sleep(0.05)
        # What a failed test left (its pod was not removed) goes here; each
        # test checks itself that a removed pod leaves nothing.
        for m in reversed(_mounts_below(tmp)):
            subprocess.run(["umount", "-l", m], capture_output=True)
        for pid in _processes_mentioning(tmp + "/c.sock"):
            os.kill(pid, 9)
        shutil.rmtree(tmp, ignore_errors=True)


def _run_pod(cri, handler):
    """One pod on `handler`: what a kubelet does, and what it sees."""
    pb, call = cri.pb, cri.call
    name = f"pod-{handler}"
    sandbox_config = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, uid=f"uid-{handler}", namespace="default"),
        log_directory=os.path.join(cri.tmp, "logs", name),
        linux=pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(
            namespace_options=pb.NamespaceOption(network=pb.NODE))))
    os.makedirs(sandbox_config.log_directory)
    seen = {}
    sandbox = call("RunPodSandbox", pb.RunPodSandboxRequest(config=sandbox_config,
                                                            runtime_handler=handler),
                   pb.RunPodSandboxResponse).pod_sandbox_id
    status = call("PodSandboxStatus", pb.PodSandboxStatusRequest(pod_sandbox_id=sandbox),
                  pb.PodSandboxStatusResponse).status
    seen["sandbox_state"] = pb.PodSandboxState.Name(status.state)
    seen["sandbox_handler"] = status.runtime_handler
    container_config = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name="main"),
        image=pb.ImageSpec(image="capspawn.test/busybox:latest"),
        # A graceful stop: SIGTERM reaches the program, which ends cleanly.
        command=["sh", "-c", "trap 'kill $!; echo got TERM; exit 0' TERM; "
                 "echo started as $(id -u) in $(pwd); sleep 1000 & wait"],
        working_dir="/tmp",
        envs=[pb.KeyValue(key="GREETING", value="hello")],
        log_path="main.log",
        linux=pb.LinuxContainerConfig(security_context=pb.LinuxContainerSecurityContext(
            namespace_options=pb.NamespaceOption(network=pb.NODE, pid=pb.POD))))
    container = call("CreateContainer",
                     pb.CreateContainerRequest(pod_sandbox_id=sandbox, config=container_config,
                                               sandbox_config=sandbox_config),
                     pb.CreateContainerResponse).container_id
    seen["created_state"] = pb.ContainerState.Name(call(
        "ContainerStatus", pb.ContainerStatusRequest(container_id=container),
        pb.ContainerStatusResponse).status.state)
    call("StartContainer", pb.StartContainerRequest(container_id=container),
         pb.StartContainerResponse)
    log_path = os.path.join(sandbox_config.log_directory, "main.log")
    for _ in range(200):
        if os.path.exists(log_path) and os.path.getsize(log_path) > 0:
            break
        time.sleep(0.02)
    with open(log_path) as f:
        # CRI log lines: TIME STREAM TAG TEXT
        seen["log"] = [line.split(" ", 3)[3].rstrip("\n") for line in f]
    seen["running_state"] = pb.ContainerState.Name(call(
        "ContainerStatus", pb.ContainerStatusRequest(container_id=container),
        pb.ContainerStatusResponse).status.state)
    # ExecSync joins the running container: its pid namespace (the pod's,
    # whose pid 1 is the sandbox's pause), its root, its environment.
    ex = call("ExecSync", pb.ExecSyncRequest(
        container_id=container, timeout=30,
        cmd=["sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $GREETING; "
             "pwd; ls /bin/busybox; echo to-stderr >&2; exit 7"]), pb.ExecSyncResponse)
    seen["exec"] = (ex.exit_code, ex.stdout.decode(), ex.stderr.decode())
    call("StopContainer", pb.StopContainerRequest(container_id=container, timeout=20),
         pb.StopContainerResponse)
    with open(log_path) as f:
        seen["log_after_stop"] = [line.split(" ", 3)[3].rstrip("\n") for line in f]
    final = call("ContainerStatus", pb.ContainerStatusRequest(container_id=container),
                 pb.ContainerStatusResponse).status
    seen["stopped"] = (pb.ContainerState.Name(final.state), final.exit_code)
    call("RemoveContainer", pb.RemoveContainerRequest(container_id=container),
         pb.RemoveContainerResponse)
    call("StopPodSandbox", pb.StopPodSandboxRequest(pod_sandbox_id=sandbox),
         pb.StopPodSandboxResponse)
    call("RemovePodSandbox", pb.RemovePodSandboxRequest(pod_sandbox_id=sandbox),
         pb.RemovePodSandboxResponse)
    seen["left"] = _left_behind(cri, sandbox, container)
    return sandbox, container, seen


def _cgroups_named(ids):
    """Directories of the cgroup2 hierarchy whose name holds one of `ids`."""
    with open("/proc/self/mountinfo") as f:
        roots = [line.split()[4] for line in f if " - cgroup2 " in line]
    found = []
    for root in roots[:1]:
        for path, dirs, _ in os.walk(root):
            found += [os.path.join(path, d) for d in dirs if any(i in d for i in ids)]
    return found


def _left_behind(cri, *ids):
    """Mounts, processes and cgroups of removed pods or containers still there."""
    left = []
    for _ in range(100):
        left = [m for m in _mounts_below(cri.tmp) if any(i in m for i in ids)]
        left += [f"process {p}" for i in ids for p in _processes_mentioning(i)]
        left += [f"cgroup {c}" for c in _cgroups_named(ids)]
        if not left:
            break
        time.sleep(0.05)
    return left


def test_a_pod_runs_on_capspawn_as_it_runs_on_runc(cri):
    _, _, reference = _run_pod(cri, "runc")
    sandbox, container, seen = _run_pod(cri, "capspawn")
    assert seen["sandbox_state"] == "SANDBOX_READY"
    assert seen["sandbox_handler"] == "capspawn"
    assert seen["log"] == ["started as 0 in /tmp"]
    assert seen["exec"] == (7, "sleep inf \nhello\n/tmp\n/bin/busybox\n", "to-stderr\n")
    assert seen["log_after_stop"] == ["started as 0 in /tmp", "got TERM"]
    assert seen["stopped"] == ("CONTAINER_EXITED", 0)
    assert seen["left"] == []
    assert seen == {**reference, "sandbox_handler": "capspawn"}


def test_the_handler_s_containers_ran_on_capspawn_oci(cri):
    """While a pod lives, capspawn-oci's own state lists its sandbox and its
    container (the runtime handler really selects capspawn-oci), and the
    state is gone once the pod is removed."""
    pb, call = cri.pb, cri.call
    root = os.path.join(cri.tmp, "capspawn-root")
    sandbox_config = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name="listed", uid="uid-listed", namespace="default"),
        log_directory=os.path.join(cri.tmp, "logs", "listed"),
        linux=pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(
            namespace_options=pb.NamespaceOption(network=pb.NODE))))
    sandbox = call("RunPodSandbox", pb.RunPodSandboxRequest(config=sandbox_config,
                                                            runtime_handler="capspawn"),
                   pb.RunPodSandboxResponse).pod_sandbox_id
    try:
        listing = subprocess.run([cri.oci, "--root", os.path.join(root, "k8s.io"), "list",
                                  "--format", "json"], capture_output=True, text=True)
        if listing.returncode != 0:  # the shim's root may not be per namespace
            listing = subprocess.run([cri.oci, "--root", root, "list", "--format", "json"],
                                     capture_output=True, text=True)
        assert listing.returncode == 0, listing.stderr
        ids = {c["id"]: c["status"] for c in json.loads(listing.stdout or "[]")}
        assert ids.get(sandbox) == "running", ids
    finally:
        call("StopPodSandbox", pb.StopPodSandboxRequest(pod_sandbox_id=sandbox),
             pb.StopPodSandboxResponse)
        call("RemovePodSandbox", pb.RemovePodSandboxRequest(pod_sandbox_id=sandbox),
             pb.RemovePodSandboxResponse)
    leftover = subprocess.run(["find", root, "-mindepth", "2"], capture_output=True, text=True)
    assert leftover.stdout == "", f"capspawn-oci state left: {leftover.stdout}"
    assert _left_behind(cri, sandbox) == []


def test_an_unknown_runtime_handler_is_refused(cri):
    pb = cri.pb
    config = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name="nohandler", uid="uid-x", namespace="default"),
        linux=pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(
            namespace_options=pb.NamespaceOption(network=pb.NODE))))
    with pytest.raises(grpc.RpcError) as err:
        cri.call("RunPodSandbox", pb.RunPodSandboxRequest(config=config,
                                                          runtime_handler="no-such-runtime"),
                 pb.RunPodSandboxResponse)
    assert "no-such-runtime" in err.value.details()
