# SPDX-License-Identifier: Apache-2.0
# fuchsia.process Launcher and Resolver, as Cap'n Proto messages. One message
# is one AF_UNIX SOCK_SEQPACKET datagram; its fds travel in SCM_RIGHTS and are
# named here by their index in that datagram's fd array. Every fd of a
# datagram is named exactly once. See docs/protocol.md.
@0xf8cd2fcbb32daa96;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("capspawn::protocol::wire");

# The index value that means "no fd".
const noFd :UInt32 = 0xffffffff;

# What a name entry puts at its path (capspawn's namespace actions).
enum NameKind {
  directory @0;           # the directory named by `directory`, bound there
  tmpfs @1;               # an empty tmpfs of the process's own
  proc @2;                # procfs of a new pid namespace
  devMinimal @3;          # a read-only tmpfs holding null, zero and urandom
}

struct NameInfo {
  path @0 :Data;          # absolute, normalised; "/" is the client's root
  directory @1 :UInt32;   # fd index: a directory (O_PATH is enough); noFd unless kind is directory
  kind @2 :NameKind;
  readOnly @3 :Bool;      # a directory mounted read-only
  actionIndex @4 :UInt32 = 0xffffffff;  # the client's action it comes from (for messages), or none
}

struct HandleInfo {
  handle @0 :UInt32;      # fd index
  id @1 :UInt32;          # PA_HND(type, arg)
  name @2 :Data;          # its LISTEN_FDNAMES name (ADD_NAMED_HANDLE); null: none
}

struct LaunchInfo {
  executable @0 :UInt32;               # fd index: an ELF file (or a #!resolve script)
  job @1 :UInt32 = 0xffffffff;         # fd index of a cgroup2 directory; noFd: the client's own cgroup
  name @2 :Data;                       # the process name (SET_NAME), at most 32 bytes; null: none
  defaultLoader @3 :Bool;              # DEFAULT_LDSVC: the launcher's system loader
  cwd @4 :UInt32 = 0xffffffff;         # fd index: working directory, with a "/" name entry only
}

struct Request {
  union {
    addArgs @0 :List(Data);
    addEnvirons @1 :List(Data);
    addNames @2 :List(NameInfo);
    addHandles @3 :List(HandleInfo);
    launch @4 :LaunchInfo;
    createWithoutStarting @5 :LaunchInfo;
    resolve @6 :Data;                  # at most MAX_RESOLVE_NAME_SIZE (2048) bytes
    setOptions @7 :UInt32;             # zx.ProcessOptions for the next launch (no reply)
  }
}

struct StartData {
  process @0 :UInt32;                  # fd index: the pidfd
  rootVmar @1 :UInt32 = 0xffffffff;    # fd index: /proc/PID/mem, read-write (Linux has no VMAR), or noFd
  thread @2 :Int32;                    # tid of the initial thread
  entry @3 :UInt64;
  stack @4 :UInt64;
  base @5 :UInt64;
  vdsoBase @6 :UInt64;
}

struct Resolved {
  executable @0 :UInt32;               # fd index
  loader @1 :UInt32 = 0xffffffff;      # fd index of the package's lib/, or noFd
}

# The answer to launch, createWithoutStarting and resolve (Add* have none).
struct Reply {
  status @0 :Int32;                    # capspawn_status_t
  message @1 :Text;                    # what failed, when status is not OK
  union {
    none @2 :Void;                     # status is not OK
    process @3 :UInt32;                # fd index of the pidfd (launch)
    startData @4 :StartData;           # createWithoutStarting
    resolved @5 :Resolved;             # resolve
  }
}
