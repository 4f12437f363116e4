// SPDX-License-Identifier: Apache-2.0
// What every part of the extension shares: raising capspawn errors as Python
// exceptions, argument conversion, and the fork guard around library calls.
#ifndef CAPSPAWN_PYTHON_NATIVE_COMMON_H_
#define CAPSPAWN_PYTHON_NATIVE_COMMON_H_

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <capspawn/result.h>

namespace py = pybind11;

namespace capspawn::python {

// Raises the capspawn.Error subclass for `status` (built by capspawn._errors).
// Needs the GIL. Never returns.
[[noreturn]] void Raise(capspawn_status_t status, const std::string& message);
[[noreturn]] inline void Raise(const Error& e) { Raise(e.status(), e.message()); }

template <typename T>
T Check(Result<T> r) {
  if (!r.ok()) Raise(r.error());
  return std::move(r.value());
}
inline void Check(const Status& s) {
  if (!s.ok()) Raise(s.error());
}

// os.fsencode(obj) for a str, bytes or os.PathLike; TypeError (or ValueError
// for a NUL byte) naming `what` otherwise.
std::string FsEncode(py::handle obj, const std::string& what);

// A non-negative int fd; TypeError/ValueError naming `what` otherwise.
int FdArg(py::handle obj, const std::string& what);

// Seconds (None: forever) as nanoseconds for the C++ API (negative: forever).
int64_t TimeoutNs(const std::optional<double>& seconds);

// Holds off os.fork() (any fork: pthread_atfork) while a library call that may
// hold one of the library's internal locks runs on another thread, so that a
// forked child never inherits such a lock held. Taken with the GIL released.
class ForkGuard {
 public:
  ForkGuard();
  ~ForkGuard();
  ForkGuard(const ForkGuard&) = delete;
  ForkGuard& operator=(const ForkGuard&) = delete;
  static void Install();  // once, at module import
};

void RegisterProcess(py::module_& m);
void RegisterSpawn(py::module_& m);
void RegisterJob(py::module_& m);
void RegisterLauncher(py::module_& m);
void RegisterStartup(py::module_& m);

}  // namespace capspawn::python

#endif  // CAPSPAWN_PYTHON_NATIVE_COMMON_H_
