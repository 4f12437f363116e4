// SPDX-License-Identifier: Apache-2.0
// spawn() and create_suspended(): the Python layer's request, turned into one
// capspawn_spawn_etc / capspawn_spawn_vmo / capspawn_create_without_starting
// call made with the GIL released.
#include <capspawn/spawn.h>
#include <capspawn/start.h>

#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "pidfd.h"

namespace capspawn::python {
namespace {

bool ConsumesFd(uint32_t action) {
  return action == CAPSPAWN_ACTION_TRANSFER_FD || action == CAPSPAWN_ACTION_ADD_HANDLE ||
         action == CAPSPAWN_ACTION_ADD_NS_ENTRY || action == CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY;
}

// Everything a call needs, converted while the GIL is held; the pointers
// point into `strings`, which never reallocates once reserved.
struct Call {
  int job = -1;
  uint32_t flags = 0;
  std::optional<std::string> path;
  int executable_fd = -1;
  std::vector<std::string> strings;
  std::vector<const char*> argv;
  std::vector<const char*> env;
  bool has_env = false;
  std::vector<capspawn_action_t> actions;

  const char* Keep(std::string s) {
    strings.push_back(std::move(s));
    return strings.back().c_str();
  }
};

// The fds the call consumes, found without converting anything else: closed
// when conversion fails, as the C API would have closed them.
std::vector<int> ConsumedFds(py::handle actions, int executable_fd) {
  std::vector<int> fds;
  if (executable_fd >= 0) fds.push_back(executable_fd);
  if (!PyList_Check(actions.ptr())) return fds;
  for (py::handle item : py::reinterpret_borrow<py::list>(actions)) {
    if (!PyTuple_Check(item.ptr()) || PyTuple_GET_SIZE(item.ptr()) != 3) continue;
    PyObject* code = PyTuple_GET_ITEM(item.ptr(), 0);
    PyObject* fd = PyTuple_GET_ITEM(item.ptr(), 2);
    if (!PyLong_Check(code) || !PyLong_Check(fd)) continue;
    long c = PyLong_AsLong(code), f = PyLong_AsLong(fd);
    if (PyErr_Occurred()) {
      PyErr_Clear();
      continue;
    }
    if (ConsumesFd(static_cast<uint32_t>(c)) && f >= 0) fds.push_back(static_cast<int>(f));
  }
  return fds;
}

void Convert(Call& c, py::handle argv, py::handle env, py::handle actions) {
  py::list args = py::reinterpret_borrow<py::list>(argv);
  py::list acts = py::reinterpret_borrow<py::list>(actions);
  const size_t nenv = env.is_none() ? 0 : py::len(env);
  c.strings.reserve(args.size() + nenv + acts.size() + 1);
  for (size_t i = 0; i < args.size(); ++i) {
    c.argv.push_back(c.Keep(FsEncode(args[i], "argv[" + std::to_string(i) + "]")));
  }
  c.argv.push_back(nullptr);
  if (!env.is_none()) {
    c.has_env = true;
    py::dict vars = py::reinterpret_borrow<py::dict>(env);
    for (auto [key, value] : vars) {
      std::string k = FsEncode(key, "env key");
      if (k.empty() || k.find('=') != std::string::npos) {
        throw py::value_error("env key " + py::repr(key).cast<std::string>() +
                              " is not a variable name (empty, or holds '=')");
      }
      std::string v = FsEncode(value, "env[" + py::repr(key).cast<std::string>() + "]");
      c.env.push_back(c.Keep(k + "=" + v));
    }
    c.env.push_back(nullptr);
  }
  for (size_t i = 0; i < acts.size(); ++i) {
    py::tuple t = acts[i].cast<py::tuple>();
    const std::string where = "action " + std::to_string(i);
    capspawn_action_t a = {};
    a.action = t[0].cast<uint32_t>();
    switch (a.action) {
      case CAPSPAWN_ACTION_CLONE_FD:
      case CAPSPAWN_ACTION_TRANSFER_FD:
        a.fd.local_fd = t[1].cast<int>();
        a.fd.target_fd = t[2].cast<int>();
        break;
      case CAPSPAWN_ACTION_ADD_NS_ENTRY:
      case CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY:
        a.ns.prefix = c.Keep(FsEncode(t[1], where + " prefix"));
        a.ns.handle = t[2].cast<int>();
        break;
      case CAPSPAWN_ACTION_ADD_HANDLE:
        a.h.id = t[1].cast<uint32_t>();
        a.h.handle = t[2].cast<int>();
        break;
      case CAPSPAWN_ACTION_SET_NAME:
        a.name.data = c.Keep(FsEncode(t[1], "name"));
        break;
      default:  // CLONE_DIR and the namespace extensions: a prefix
        a.dir.prefix = c.Keep(FsEncode(t[1], where + " prefix"));
        break;
    }
    c.actions.push_back(a);
  }
}

py::object Run(py::handle job, py::handle flags, py::handle path, py::handle executable_fd,
               py::handle argv, py::handle env, py::handle actions, bool suspended) {
  Call c;
  try {
    c.executable_fd = executable_fd.cast<int>();
    c.job = job.cast<int>();
    c.flags = flags.cast<uint32_t>();
    if (!PyList_Check(argv.ptr())) throw py::type_error("argv must be a list");
    if (!env.is_none() && !PyDict_Check(env.ptr())) throw py::type_error("env must be a dict");
    if (!PyList_Check(actions.ptr())) throw py::type_error("actions must be a list");
    if (!path.is_none()) c.path = FsEncode(path, "executable");
    Convert(c, argv, env, actions);
  } catch (...) {
    int exe = PyLong_Check(executable_fd.ptr())
                  ? static_cast<int>(PyLong_AsLong(executable_fd.ptr()))
                  : -1;
    if (PyErr_Occurred()) PyErr_Clear();
    for (int fd : ConsumedFds(actions, exe)) ::close(fd);
    throw;
  }
  const char* const* envp = c.has_env ? c.env.data() : nullptr;
  const capspawn_action_t* acts = c.actions.empty() ? nullptr : c.actions.data();
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  capspawn_status_t st;
  if (!suspended) {
    int process = -1;
    {
      py::gil_scoped_release nogil;
      ForkGuard guard;
      st = c.path ? capspawn_spawn_etc(c.job, c.flags, c.path->c_str(), c.argv.data(), envp,
                                       c.actions.size(), acts, &process, err)
                  : capspawn_spawn_vmo(c.job, c.flags, c.executable_fd, c.argv.data(), envp,
                                       c.actions.size(), acts, &process, err);
    }
    if (st != CAPSPAWN_OK) Raise(st, err);
    return py::cast(std::make_unique<Pidfd>(process));
  }
  capspawn_start_data_t d = {};
  {
    py::gil_scoped_release nogil;
    ForkGuard guard;
    st = capspawn_create_without_starting(c.job, c.flags, c.path ? c.path->c_str() : nullptr,
                                          c.path ? -1 : c.executable_fd, c.argv.data(), envp,
                                          c.actions.size(), acts, &d, err);
  }
  if (st != CAPSPAWN_OK) Raise(st, err);
  py::dict out;
  out["process"] = py::cast(std::make_unique<Pidfd>(d.process));
  out["root_vmar"] = d.root_vmar;
  out["thread"] = d.thread;
  out["entry"] = d.entry;
  out["stack"] = d.stack;
  out["base"] = d.base;
  out["vdso_base"] = d.vdso_base;
  return out;
}

}  // namespace

void RegisterSpawn(py::module_& m) {
  m.def(
      "spawn",
      [](py::object job, py::object flags, py::object path, py::object executable_fd,
         py::object argv, py::object env, py::object actions, bool suspended) {
        return Run(job, flags, path, executable_fd, argv, env, actions, suspended);
      },
      py::arg("job"), py::arg("flags"), py::arg("path"), py::arg("executable_fd"), py::arg("argv"),
      py::arg("env"), py::arg("actions"), py::arg("suspended") = false,
      "One capspawn_spawn_etc (path) / capspawn_spawn_vmo (executable_fd, consumed) call, or\n"
      "capspawn_create_without_starting with suspended=True. actions: (code, a, b) tuples.\n"
      "Internal: use capspawn.spawn().");
}

}  // namespace capspawn::python
