// SPDX-License-Identifier: Apache-2.0
#include "common.h"

#include <pthread.h>

#include <cmath>
#include <cstring>
#include <shared_mutex>

namespace capspawn::python {

void Raise(capspawn_status_t status, const std::string& message) {
  // Messages name paths, which need not be UTF-8: decode as os.fsdecode does.
  py::object text = py::reinterpret_steal<py::object>(
      PyUnicode_DecodeFSDefaultAndSize(message.data(), static_cast<Py_ssize_t>(message.size())));
  if (!text) throw py::error_already_set();
  py::object exc = py::module_::import("capspawn._errors").attr("_from_status")(status, text);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  throw py::error_already_set();
}

namespace {

std::string TypeName(py::handle obj) { return Py_TYPE(obj.ptr())->tp_name; }

}  // namespace

std::string FsEncode(py::handle obj, const std::string& what) {
  PyObject* raw = obj.ptr();
  py::object path;
  if (!PyUnicode_Check(raw) && !PyBytes_Check(raw)) {
    path = py::reinterpret_steal<py::object>(PyOS_FSPath(raw));
    if (!path) {
      PyErr_Clear();
      throw py::type_error(what + " must be str, bytes or os.PathLike, not " + TypeName(obj));
    }
    raw = path.ptr();
  }
  py::object encoded;
  if (PyUnicode_Check(raw)) {
    encoded = py::reinterpret_steal<py::object>(PyUnicode_EncodeFSDefault(raw));
    if (!encoded) throw py::error_already_set();
    raw = encoded.ptr();
  }
  char* data = nullptr;
  Py_ssize_t size = 0;
  if (PyBytes_AsStringAndSize(raw, &data, &size) != 0) throw py::error_already_set();
  if (std::memchr(data, '\0', static_cast<size_t>(size)) != nullptr) {
    throw py::value_error(what + " contains a NUL byte");
  }
  return std::string(data, static_cast<size_t>(size));
}

int FdArg(py::handle obj, const std::string& what) {
  if (!PyLong_Check(obj.ptr()) || PyBool_Check(obj.ptr())) {
    throw py::type_error(what + " must be an fd (int), not " + TypeName(obj));
  }
  int overflow = 0;
  long v = PyLong_AsLongAndOverflow(obj.ptr(), &overflow);
  if (overflow || v < 0 || v > INT32_MAX) {
    throw py::value_error(what + " must be a non-negative fd, not " +
                          py::str(obj).cast<std::string>());
  }
  return static_cast<int>(v);
}

int64_t TimeoutNs(const std::optional<double>& seconds) {
  if (!seconds) return -1;
  double s = *seconds;
  if (std::isnan(s)) throw py::value_error("timeout is NaN");
  if (s <= 0) return 0;
  // About 292 years: past it, forever.
  if (s >= 9.2e9) return -1;
  return static_cast<int64_t>(s * 1e9);
}

namespace {

// Calls in flight hold it shared; fork() holds it exclusively from its prepare
// handler to its parent/child handlers. Never destroyed.
std::shared_mutex* g_fork_lock = new std::shared_mutex;

}  // namespace

ForkGuard::ForkGuard() { g_fork_lock->lock_shared(); }
ForkGuard::~ForkGuard() { g_fork_lock->unlock_shared(); }

void ForkGuard::Install() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  // The forking thread takes the lock: threads inside a library call finish it
  // first (they never need the GIL to do so); new calls wait until the fork is
  // done. The child gets a new lock: glibc cannot unlock the copy there (its
  // writer is recorded by a tid the child's thread no longer has); the old one
  // is a few bytes, left.
  pthread_atfork([] { g_fork_lock->lock(); }, [] { g_fork_lock->unlock(); },
                 [] { g_fork_lock = new std::shared_mutex; });
}

}  // namespace capspawn::python
