// SPDX-License-Identifier: Apache-2.0
#include "pidfd.h"

#include <signal.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <capspawn/fd.h>
#include <capspawn/process.h>
#include <capspawn/start.h>

namespace capspawn::python {
namespace {

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// True when /proc/self/fdinfo/FD has the "Pid:" line only pidfds have.
bool IsPidfd(int fd) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
  FILE* f = std::fopen(path, "re");
  if (!f) return false;
  char line[256];
  bool found = false;
  while (!found && std::fgets(line, sizeof line, f)) found = std::strncmp(line, "Pid:", 4) == 0;
  std::fclose(f);
  return found;
}

}  // namespace

Pidfd::~Pidfd() {
  // Destroyed only when no Python reference (hence no call) is left.
  if (!closed_ && fd_ >= 0) ::close(fd_);
}

int Pidfd::fileno() const {
  if (closed_) throw py::value_error("the process handle (pidfd) is closed");
  return fd_;
}

int Pidfd::Acquire() {
  if (closed_) Raise(CAPSPAWN_ERR_BAD_HANDLE, "the process handle (pidfd) is closed");
  ++users_;
  return fd_;
}

void Pidfd::Release() {
  --users_;
  CloseNowIfUnused();
}

void Pidfd::CloseNowIfUnused() {
  if (closed_ && users_ == 0 && fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void Pidfd::close() {
  closed_ = true;
  CloseNowIfUnused();
}

int Pidfd::detach() {
  if (closed_) throw py::value_error("the process handle (pidfd) is closed");
  if (users_ != 0) Raise(CAPSPAWN_ERR_BAD_STATE, "the pidfd is in use by a wait in another thread");
  closed_ = true;
  return std::exchange(fd_, -1);
}

std::optional<int64_t> Pidfd::wait(int64_t timeout_ns) {
  const int fd = Acquire();
  struct Releaser {
    Pidfd* self;
    ~Releaser() { self->Release(); }  // runs with the GIL held: every exit below holds it
  } releaser{this};
  const int64_t deadline = timeout_ns < 0 ? -1 : NowNs() + timeout_ns;
  // As capspawn::WaitPidfd, with Python's signal handlers given a chance on
  // EINTR: probe (the parent reaps, any other holder reads the status the
  // kernel keeps), then sleep on an edge-triggered epoll of the pidfd, which
  // wakes at the exit and again at the reaping (when a non-parent's status
  // appears).
  UniqueFd ep;
  for (;;) {
    Result<int64_t> code = WaitPidfd(fd, 0);
    if (code.ok()) return *code;
    if (code.status() != CAPSPAWN_ERR_TIMED_OUT) Raise(code.error());
    const int64_t remaining = deadline < 0 ? -1 : deadline - NowNs();
    if (deadline >= 0 && remaining <= 0) return std::nullopt;
    if (!ep) {
      ep.reset(epoll_create1(EPOLL_CLOEXEC));
      if (!ep)
        Raise(
            Error::FromErrno(errno, "epoll_create1 (waiting on pidfd " + std::to_string(fd) + ")"));
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLHUP | EPOLLET;
      if (epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
        Raise(Error::FromErrno(errno, "epoll_ctl(pidfd " + std::to_string(fd) + ")"));
      }
      continue;  // probe again: the process may have exited before the registration
    }
    timespec ts, *tsp = nullptr;
    if (remaining >= 0) {
      ts.tv_sec = remaining / 1000000000;
      ts.tv_nsec = remaining % 1000000000;
      tsp = &ts;
    }
    int r, err;
    {
      py::gil_scoped_release nogil;
      epoll_event got;
      r = epoll_pwait2(ep.get(), &got, 1, tsp, nullptr);
      err = errno;
    }
    if (r < 0 && err == EINTR) {
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    } else if (r < 0) {
      Raise(Error::FromErrno(err, "epoll_wait(pidfd " + std::to_string(fd) + ")"));
    }
  }
}

void Pidfd::send_signal(int signo) {
  const int fd = Acquire();
  Status st = KillPidfd(fd, signo);
  Release();
  if (!st.ok()) Raise(st.error().Context("signal " + std::to_string(signo)));
}

void Pidfd::start() {
  const int fd = Acquire();
  capspawn_status_t st;
  {
    py::gil_scoped_release nogil;
    st = capspawn_start(fd);
  }
  Release();
  if (st == CAPSPAWN_OK) return;
  std::string why = st == CAPSPAWN_ERR_BAD_STATE ? "the process is not stopped (running, or exited)"
                    : st == CAPSPAWN_ERR_BAD_HANDLE ? "fd " + std::to_string(fd) + " is not a pidfd"
                                                    : capspawn_status_string(st);
  Raise(st, "start (pidfd " + std::to_string(fd) + "): " + why);
}

int Pidfd::pid() {
  const int fd = Acquire();
  Process borrowed{UniqueFd(fd)};
  const pid_t pid = borrowed.pid();
  (void)borrowed.release();
  Release();
  return pid;
}

void RegisterProcess(py::module_& m) {
  py::class_<Pidfd>(m, "Pidfd", "Owner of a pidfd (internal: use capspawn.Process).")
      .def(py::init([](py::handle fd) {
             const int n = FdArg(fd, "pidfd");
             if (!IsPidfd(n)) {
               Raise(CAPSPAWN_ERR_BAD_HANDLE, "fd " + std::to_string(n) +
                                                  " is not a pidfd (no Pid: line in "
                                                  "/proc/self/fdinfo/" +
                                                  std::to_string(n) + ")");
             }
             return new Pidfd(n);
           }),
           py::arg("fd"))
      .def("fileno", &Pidfd::fileno)
      .def_property_readonly("closed", &Pidfd::closed)
      .def("close", &Pidfd::close)
      .def("detach", &Pidfd::detach)
      .def(
          "wait",
          [](Pidfd& p, std::optional<double> timeout) -> py::object {
            std::optional<int64_t> code = p.wait(TimeoutNs(timeout));
            if (!code) return py::none();
            return py::int_(*code);
          },
          py::arg("timeout") = py::none())
      .def("send_signal", &Pidfd::send_signal, py::arg("signo"))
      .def("start", &Pidfd::start)
      .def("pid", &Pidfd::pid);
}

}  // namespace capspawn::python
