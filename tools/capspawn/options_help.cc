// SPDX-License-Identifier: Apache-2.0
// `capspawn run --help`: every option, what it maps to in the C API, examples.
#include <string>

#include "options.h"

namespace capspawn::cli {
namespace {

constexpr char kUsage[] = R"(Usage: capspawn run [OPTIONS] [--] PROGRAM [ARGS...]

Spawn PROGRAM with ARGS through capspawn_spawn_etc(), wait for it, and exit with
its return code. The child gets exactly what the options hand it; by default it
shares everything with capspawn (--clone=all), like a plain fork and exec.
PROGRAM without a '/' is looked up in capspawn's own PATH and opened in
capspawn's filesystem. Options end at the first argument that is not one, or at
"--"; what follows is PROGRAM and its arguments, untouched.

What the child shares (the spawn flags):
      --clone=LIST          share exactly LIST with the child. Default: all.
                            Repeated --clone options add up.
      --no-clone=LIST       share everything chosen so far except LIST.
    LIST is a comma list of:
      job         CAPSPAWN_CLONE_JOB: the child gets its job as handle job_default.0
      ldsvc       CAPSPAWN_DEFAULT_LDSVC: the system's dynamic linker and libraries,
                  read-only (needed by dynamic programs without 'namespace')
      namespace   CAPSPAWN_CLONE_NAMESPACE: capspawn's whole filesystem; without it
                  the child sees only its --ns and --dir entries
      stdio       CAPSPAWN_CLONE_STDIO: capspawn's fds 0, 1 and 2; fds 0-2 that
                  nothing hands over are opened on /dev/null
      environ     CAPSPAWN_CLONE_ENVIRON: capspawn's environment
      utc-clock   CAPSPAWN_CLONE_UTC_CLOCK: accepted; Linux has one system clock
      all         every flag (CAPSPAWN_CLONE_ALL)
      none        no flag

Environment (in command-line order):
  -e, --env NAME=VALUE      set NAME to VALUE
      --env-file FILE       set NAME=VALUE from each line of FILE; empty lines and
                            lines starting with '#' are skipped, values are taken
                            as written (no quotes, no expansion)
      --unset-env NAME      remove NAME
      --clear-env           remove every variable set so far
    Any of these gives the child an explicit environment: capspawn's own when
    'environ' is shared, else an empty one, changed by these options in order.
    Without them the child gets capspawn's environment when 'environ' is
    shared, else no variable at all.

File descriptors, handles, names and directories (the spawn actions, kept in
command-line order: "action N" in an error message is the N-th of these, from 0):
      --fd TARGET[=SRC]     CAPSPAWN_ACTION_CLONE_FD: a copy of capspawn's fd SRC
                            lands at fd TARGET (0-1023) in the child; SRC defaults
                            to TARGET
      --transfer-fd TARGET=SRC
                            CAPSPAWN_ACTION_TRANSFER_FD: capspawn's fd SRC moves to
                            fd TARGET in the child (capspawn closes its own)
      --handle ID=FD[,name=NAME]
                            CAPSPAWN_ACTION_ADD_HANDLE: a copy of capspawn's fd FD
                            is handed with the typed id ID. A handle of type fd
                            (fd.N) lands at fd N; the others land at fds from 3 that
                            the child finds with capspawn_take_startup_handle(ID) or
                            sd_listen_fds_with_names() (LISTEN_FDS, LISTEN_FDNAMES,
                            LISTEN_PID; the names are TYPE.ARG, e.g. "user0.0", or
                            NAME when given: CAPSPAWN_ACTION_ADD_NAMED_HANDLE)
    ID is a number, decimal or 0x hex (the whole CAPSPAWN_PA_HND(type, arg)
    value), or TYPE[.ARG] with ARG 0-65535 (default 0) and TYPE a number or one of:
)";

constexpr char kUsageAfterTypes[] =
    R"(      --name NAME           CAPSPAWN_ACTION_SET_NAME: the child's process name (the
                            last one wins; docs/spawn.md says how far Linux shows
                            it in /proc/PID/comm)
      --ns PATH=DIR         CAPSPAWN_ACTION_ADD_NS_ENTRY: capspawn opens directory DIR
                            (O_DIRECTORY|O_PATH) and the child sees it at PATH
      --dir PREFIX          CAPSPAWN_ACTION_CLONE_DIR: the child sees capspawn's
                            PREFIX at the same path ("/" is --clone=namespace)
      --listen ADDR[,OPTION...]
                            open a listening socket and hand it as a typed handle
                            (id user0.N for the N-th --listen, from 0), as a
                            systemd socket unit would: ADDR is tcp:HOST:PORT,
                            udp:HOST:PORT, unix:PATH, unix-seqpacket:PATH or
                            unix-dgram:PATH (HOST empty: every address; [v6] in
                            brackets; PATH @name: abstract). OPTIONs: name=NAME
                            (its LISTEN_FDNAMES name, e.g. http), id=ID,
                            backlog=N, reuseport, v6only, dualstack, freebind,
                            mode=OCTAL (unix). SO_REUSEADDR is always set.

Job:
      --job FD|JOB          spawn into this job (a cgroup v2 directory): an fd
                            number capspawn already holds, or JOB as 'capspawn job'
                            reads it: an absolute path, a ./ or ../ path, or a path
                            relative to the default job. Default: the default job
                            (capspawn's own cgroup)

Program and run:
      --vmo                 open PROGRAM and spawn the open file with
                            capspawn_spawn_vmo() instead of capspawn_spawn_etc()
      --timeout SECONDS     kill the child (SIGKILL) after SECONDS (decimals
                            allowed; 0: no limit) and exit 124, as timeout(1)
      --print-pid           print "capspawn: pid N" on stderr once the child exists
      --launcher SOCKET     spawn through the capspawn-launcherd at SOCKET (as
                            CAPSPAWN_LAUNCHER=SOCKET, which the child then inherits)
  -q, --quiet               print none of capspawn's own messages about the run
                            (failures and timeouts still set the exit status)
      --suspended           create the process stopped before its first
                            instruction, print its start data (JSON, with its
                            pid) and exit 0; 'capspawn start PID' starts it.
                            The start data goes to stdout, which the child then
                            does not get (its fd 1 is /dev/null unless an option
                            such as --fd 1 hands it): $(capspawn run
                            --suspended ...) returns at once
      --start-data-fd N     with --suspended: write the start data to fd N
                            instead (the child then shares stdout as the flags say)
      --start-data FILE     with --suspended: write the start data to FILE
      --start-deadline SECONDS
                            with --suspended: kill the process if it has not been
                            started SECONDS from now ('capspawn ps --suspended'
                            lists the ones waiting)
  -h, --help                show this help and exit

Namespace presets (capspawn extensions; see docs/cli.md):
      --ro-ns PATH=DIR      as --ns, read-only (CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY)
      --ldsvc DIR           PA_LDSVC_LOADER: the library directory a dynamic program
                            loads its interpreter and libraries from
      --dev-minimal         /dev holding only null, zero and urandom, read-only
      --proc                a fresh /proc: the child runs in a new pid namespace,
                            as its pid 1
      --tmpfs PATH          an empty tmpfs of the child's own at PATH

Containers (capspawn extensions; see docs/containers.md). Each is one
container action, counted in "action N" like the options above:
      --net, --pid, --ipc, --uts, --cgroupns, --userns
                            a new network (loopback up), pid, IPC, UTS, cgroup or
                            user namespace; a non-root caller gets a user
                            namespace with any of them
      --init                a new pid namespace (implies --pid) whose pid 1 is
                            capspawn's init: it reaps orphans, forwards signals to
                            the program (pid 2) and exits with its status (128+N
                            when signal N killed it)
      --hostname NAME       the hostname, in a new UTS namespace
      --join TYPE=PATH      join the existing namespace at PATH (/proc/PID/ns/net);
                            TYPE: net, ipc, uts, cgroup, mnt (the program's "/"
                            becomes that namespace's root), pid, user (only the
                            caller's own). Needs CAP_SYS_ADMIN
      --root DIR            DIR becomes "/" (other mounts go on top of it)
      --root-ro DIR         as --root, the root mount read-only
      --mount TYPE:TARGET[:OPTIONS]
                            a new proc, tmpfs, devpts, mqueue, sysfs or cgroup2 at
                            TARGET; OPTIONS mixes ro, nosuid, nodev, noexec,
                            relatime, noatime, strictatime, nodiratime with the
                            file system's own (size=64m,mode=1777,newinstance...)
      --bind SRC:TARGET[:OPTIONS], --rbind SRC:TARGET[:OPTIONS]
                            SRC (a directory or file) at TARGET, without or with
                            the mounts below it; OPTIONS as above (flags only)
      --mask PATH           /dev/null over a file, an empty read-only tmpfs over a
                            directory (OCI maskedPaths)
      --ro-path PATH        PATH read-only (OCI readonlyPaths)
      --devices DIR         null, zero, full, random, urandom, tty and the
                            fd, stdin, stdout, stderr, ptmx links in DIR
      --cap-add CAPS, --cap-drop CAPS
                            comma lists (CAP_NET_ADMIN, net_admin, ALL) added to
                            or removed from every capability set, starting from
                            capspawn's own, in command-line order
      --no-new-privs        prctl(PR_SET_NO_NEW_PRIVS)
      --new-session         setsid(): the program leads a new session and
                            process group, without a controlling terminal
      --rlimit RES=SOFT[:HARD]
                            a resource limit (nofile, nproc, core, ...; a number
                            or 'unlimited')
      --uid N, --gid N, --groups G1,G2
                            the ids the program runs as; as a non-root caller
                            without --uid-map, N is mapped to capspawn's own id
      --uid-map IN:OUT:COUNT, --gid-map IN:OUT:COUNT
                            a line of the user namespace's id map (root may map
                            ranges; others only their own id)
      --seccomp FILE        a seccomp filter, FILE holding a BPF program,
                            installed last
      --chdir DIR           the working directory (in the child's view)
      --die-with-parent     the child gets SIGKILL when capspawn exits
      --sysctl KEY=VALUE    a namespaced sysctl (net.*, kernel.shm*...) written in
                            the child's namespaces
      --oom-score-adj N     /proc/self/oom_score_adj (-1000..1000)
      --umask MODE          the umask (octal)

Signals: SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1 and SIGUSR2 sent to capspawn
with kill(2) are forwarded to the child, and capspawn keeps waiting for it. The
same signals coming from the terminal reach the child directly (it is in
capspawn's process group), so they are not sent twice.

Exit status:
  N        the child exited with status N
  128+N    signal N killed the child (130 for SIGINT, 137 for SIGKILL), as a shell
  2        the command line is wrong; nothing was spawned
  124      --timeout ran out and the child was killed
  125      capspawn failed; stderr says "capspawn: STATUS: message", with STATUS
           the capspawn_status_t name (BAD_HANDLE, NOT_FOUND, ...)
  capspawn itself never exits with 126 or 127: those always come from the child.

Examples:
  capspawn run -- /bin/true
  capspawn run --no-clone=environ --env PATH=/usr/bin -- env
  capspawn run --clear-env --env-file app.env --env DEBUG=1 -- ./server
  capspawn run --unset-env HOME -- sh -c 'echo ${HOME-unset}'
  capspawn run --fd 5=1 -- sh -c 'echo to-my-stdout >&5'
  capspawn run --transfer-fd 3=7 -- sh -c 'cat <&3' 7<input.txt
  capspawn run --handle user0=7 -- ./app 7<config.json
  capspawn run --listen tcp::8080,name=http -- ./socket-activated-server
  json=$(capspawn run --suspended --start-deadline 60 -- ./server)
  capspawn run --handle fd.4=1 --no-clone=stdio -- sh -c 'echo via-fd-4 >&4'
  capspawn run --name worker-1 -- sleep 60
  capspawn run --no-clone=namespace --clone=ldsvc --ns /data=/srv/data -- /usr/bin/ls /data
  capspawn run --no-clone=namespace --clone=ldsvc --dir /etc -- /usr/bin/id
  capspawn job create build && capspawn run --job build -- make -j2
  capspawn run --timeout 2.5 --print-pid -- ./flaky-test
  capspawn run --vmo -- ./a.out arg1 arg2
  capspawn run --root ./rootfs --pid --mount proc:/proc --net --hostname box -- /bin/sh
)";

}  // namespace

void PrintRunHelp(FILE* out) {
  fputs(kUsage, out);
  // The type names come from the library, so they always match LISTEN_FDNAMES.
  std::string line = "     ";
  for (const std::string& name : HandleTypeNames()) {
    if (line.size() + name.size() + 2 > 80) {
      fprintf(out, "%s\n", line.c_str());
      line = "     ";
    }
    line += " " + name;
  }
  fprintf(out, "%s\n", line.c_str());
  fputs(kUsageAfterTypes, out);
}

}  // namespace capspawn::cli
