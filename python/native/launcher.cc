// SPDX-License-Identifier: Apache-2.0
// capspawn::LauncherClient for Python: one connection to capspawn-launcherd.
// Socket calls run with the GIL released; the Python layer serialises the
// Add*/Launch sequence of one connection.
#include <capspawn/launcher.h>

#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common.h"
#include "pidfd.h"

namespace capspawn::python {
namespace {

class PyLauncher {
 public:
  explicit PyLauncher(LauncherClient client) : client_(std::move(client)) {}

  int fileno() const {
    if (closed_) throw py::value_error("the launcher connection is closed");
    return client_->socket();
  }
  bool closed() const { return closed_; }
  void close() {
    closed_ = true;
    if (users_ == 0) client_.reset();
  }

  // Runs f(client) with the GIL released. As Pidfd, a close() meanwhile is
  // deferred to the call's end; the fields are touched with the GIL held only.
  template <typename F>
  auto Call(F f) {
    if (closed_) Raise(CAPSPAWN_ERR_BAD_HANDLE, "the launcher connection is closed");
    ++users_;
    struct Done {
      PyLauncher* self;
      ~Done() {
        if (--self->users_ == 0 && self->closed_) self->client_.reset();
      }
    } done{this};
    py::gil_scoped_release nogil;
    return f(*client_);
  }

 private:
  std::optional<LauncherClient> client_;
  int users_ = 0;
  bool closed_ = false;
};

std::vector<std::string> Strings(py::handle items, const char* what) {
  std::vector<std::string> out;
  size_t i = 0;
  for (py::handle item : items) {
    out.push_back(FsEncode(item, std::string(what) + "[" + std::to_string(i++) + "]"));
  }
  return out;
}

// (first, fd) pairs whose fds the call consumes. make() converts `first`, then
// owns the fd; on a conversion error the items made so far close their fds as
// `out` unwinds, and the rest are closed here.
template <typename T, typename Make>
std::vector<T> Pairs(py::handle items, Make make) {
  std::vector<std::pair<py::object, int>> raw;
  std::vector<int> fds;
  for (py::handle item : items) {
    py::tuple t = item.cast<py::tuple>();
    int fd = t[1].cast<int>();
    fds.push_back(fd);
    raw.emplace_back(py::reinterpret_borrow<py::object>(t[0]), fd);
  }
  std::vector<T> out;
  try {
    for (auto& [first, fd] : raw) out.push_back(make(first, fd));
  } catch (...) {
    for (size_t i = out.size(); i < fds.size(); ++i) ::close(fds[i]);
    throw;
  }
  return out;
}

LaunchInfo Info(int executable_fd, int job_fd, py::handle name, bool default_loader, int cwd_fd) {
  LaunchInfo info;
  info.executable.reset(executable_fd);
  info.job.reset(job_fd);
  info.cwd.reset(cwd_fd);
  info.default_loader = default_loader;
  if (!name.is_none()) info.name = FsEncode(name, "name");
  return info;
}

py::dict StartData(ProcessStartData d) {
  py::dict out;
  out["process"] = py::cast(std::make_unique<Pidfd>(d.process.release()));
  out["root_vmar"] = d.root_vmar.release();
  out["thread"] = d.thread;
  out["entry"] = d.entry;
  out["stack"] = d.stack;
  out["base"] = d.base;
  out["vdso_base"] = d.vdso_base;
  return out;
}

}  // namespace

void RegisterLauncher(py::module_& m) {
  py::class_<PyLauncher>(m, "LauncherClient",
                         "One capspawn-launcherd connection (internal: use capspawn.Launcher).")
      .def_static(
          "connect",
          [](py::handle path) {
            std::string p = FsEncode(path, "socket path");
            Result<LauncherClient> c = [&] {
              py::gil_scoped_release nogil;
              return LauncherClient::Connect(p);
            }();
            return std::make_unique<PyLauncher>(Check(std::move(c)));
          },
          py::arg("socket_path"))
      .def(
          "add_args",
          [](PyLauncher& l, py::handle args) {
            std::vector<std::string> v = Strings(args, "argv");
            Check(l.Call([&](LauncherClient& c) { return c.AddArgs(v); }));
          },
          py::arg("args"))
      .def(
          "add_environs",
          [](PyLauncher& l, py::handle vars) {
            std::vector<std::string> v = Strings(vars, "environ");
            Check(l.Call([&](LauncherClient& c) { return c.AddEnvirons(v); }));
          },
          py::arg("environ"))
      .def(
          "add_names",
          [](PyLauncher& l, py::handle names) {
            std::vector<LaunchNameInfo> v =
                Pairs<LaunchNameInfo>(names, [](py::handle path, int fd) {
                  std::string p = FsEncode(path, "namespace path");
                  return LaunchNameInfo{std::move(p), UniqueFd(fd)};
                });
            Check(l.Call([&](LauncherClient& c) { return c.AddNames(std::move(v)); }));
          },
          py::arg("names"), "(path, directory fd) pairs; the fds are consumed.")
      .def(
          "add_handles",
          [](PyLauncher& l, py::handle handles) {
            std::vector<LaunchHandleInfo> v =
                Pairs<LaunchHandleInfo>(handles, [](py::handle id, int fd) {
                  const uint32_t n = id.cast<uint32_t>();
                  return LaunchHandleInfo{n, UniqueFd(fd)};
                });
            Check(l.Call([&](LauncherClient& c) { return c.AddHandles(std::move(v)); }));
          },
          py::arg("handles"), "(id, fd) pairs; the fds are consumed.")
      .def(
          "launch",
          [](PyLauncher& l, int executable_fd, int job_fd, py::object name, bool default_loader,
             int cwd_fd) {
            LaunchInfo info = Info(executable_fd, job_fd, name, default_loader, cwd_fd);
            Process p = Check(l.Call([&](LauncherClient& c) { return c.Launch(std::move(info)); }));
            return std::make_unique<Pidfd>(p.release());
          },
          py::arg("executable_fd"), py::arg("job_fd"), py::arg("name"), py::arg("default_loader"),
          py::arg("cwd_fd"), "Every fd given is consumed.")
      .def(
          "create_without_starting",
          [](PyLauncher& l, int executable_fd, int job_fd, py::object name, bool default_loader,
             int cwd_fd) {
            LaunchInfo info = Info(executable_fd, job_fd, name, default_loader, cwd_fd);
            return StartData(Check(l.Call(
                [&](LauncherClient& c) { return c.CreateWithoutStarting(std::move(info)); })));
          },
          py::arg("executable_fd"), py::arg("job_fd"), py::arg("name"), py::arg("default_loader"),
          py::arg("cwd_fd"), "Every fd given is consumed.")
      .def(
          "resolve",
          [](PyLauncher& l, py::handle name) {
            std::string n = FsEncode(name, "name");
            ResolvedProgram r = Check(l.Call([&](LauncherClient& c) { return c.Resolve(n); }));
            return py::make_tuple(r.executable.release(), r.loader.release());
          },
          py::arg("name"))
      .def("fileno", &PyLauncher::fileno)
      .def_property_readonly("closed", &PyLauncher::closed)
      .def("close", &PyLauncher::close);
}

}  // namespace capspawn::python
