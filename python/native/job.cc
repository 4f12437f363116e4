// SPDX-License-Identifier: Apache-2.0
// capspawn::Job for Python. Calls that can block (kill, freeze and destroy
// wait for the kernel) run with the GIL released.
#include <capspawn/job.h>

#include <string>
#include <utility>
#include <vector>

#include "common.h"

namespace capspawn::python {
namespace {

// Owns a Job. As Pidfd: close() while a call runs in another thread is
// deferred to that call's end; the fields are touched with the GIL held only.
class PyJob {
 public:
  explicit PyJob(Job job) : job_(std::move(job)) {}

  int fileno() const {
    if (closed_) throw py::value_error("the job handle is closed");
    return job_.fd().get();
  }
  bool closed() const { return closed_; }
  void close() {
    closed_ = true;
    if (users_ == 0) job_ = Job();
  }

  // Runs f(job) with the GIL released; returns what it returns.
  template <typename F>
  auto Call(F f) {
    if (closed_) Raise(CAPSPAWN_ERR_BAD_HANDLE, "the job handle is closed");
    ++users_;
    struct Done {
      PyJob* self;
      ~Done() {
        if (--self->users_ == 0 && self->closed_) self->job_ = Job();
      }
    } done{this};
    py::gil_scoped_release nogil;
    return f(job_);
  }

 private:
  Job job_;
  int users_ = 0;
  bool closed_ = false;
};

template <typename T>
T Value(Result<T> r) {
  return Check(std::move(r));
}

std::unique_ptr<PyJob> Wrap(Result<Job> r) { return std::make_unique<PyJob>(Check(std::move(r))); }

}  // namespace

void RegisterJob(py::module_& m) {
  py::class_<PyJob>(m, "Job", "Owner of a job fd (internal: use capspawn.Job).")
      .def_static("default", [] { return Wrap(Job::Default()); })
      .def_static(
          "open", [](py::handle path) { return Wrap(Job::Open(FsEncode(path, "job path"))); },
          py::arg("path"))
      .def_static(
          "from_fd", [](py::handle fd) { return Wrap(Job::FromFd(UniqueFd(FdArg(fd, "job fd")))); },
          py::arg("fd"), "Takes ownership of fd (closed on failure too).")
      .def(
          "create_child",
          [](PyJob& j, py::handle name) {
            std::string n = name.is_none() ? "" : FsEncode(name, "job name");
            return Wrap(j.Call([&](const Job& job) { return job.CreateChild(n); }));
          },
          py::arg("name") = py::none())
      .def(
          "open_child",
          [](PyJob& j, py::handle name) {
            std::string n = FsEncode(name, "job name");
            return Wrap(j.Call([&](const Job& job) { return job.OpenChild(n); }));
          },
          py::arg("name"))
      .def("processes",
           [](PyJob& j) {
             std::vector<pid_t> pids =
                 Value(j.Call([](const Job& job) { return job.Processes(); }));
             return std::vector<int>(pids.begin(), pids.end());
           })
      .def("children",
           [](PyJob& j) {
             std::vector<std::string> names =
                 Value(j.Call([](const Job& job) { return job.Children(); }));
             py::list out;
             for (const std::string& n : names) {
               out.append(py::reinterpret_steal<py::object>(
                   PyUnicode_DecodeFSDefaultAndSize(n.data(), static_cast<Py_ssize_t>(n.size()))));
             }
             return out;
           })
      .def("path",
           [](PyJob& j) {
             std::string p = Value(j.Call([](const Job& job) { return job.Path(); }));
             return py::reinterpret_steal<py::object>(
                 PyUnicode_DecodeFSDefaultAndSize(p.data(), static_cast<Py_ssize_t>(p.size())));
           })
      .def("info",
           [](PyJob& j) {
             JobInfo info = Value(j.Call([](const Job& job) { return job.Info(); }));
             py::dict d;
             d["path"] = py::reinterpret_steal<py::object>(PyUnicode_DecodeFSDefaultAndSize(
                 info.path.data(), static_cast<Py_ssize_t>(info.path.size())));
             d["is_capspawn_job"] = info.is_capspawn_job;
             d["killed"] = info.killed;
             d["populated"] = info.populated;
             d["frozen"] = info.frozen;
             d["deny_new_process"] = info.new_process == NewProcessPolicy::kDeny;
             return d;
           })
      .def(
          "kill",
          [](PyJob& j, std::optional<double> timeout) {
            const int64_t ns = TimeoutNs(timeout);
            Check(j.Call([ns](const Job& job) { return job.Kill(ns); }));
          },
          py::arg("timeout") = py::none())
      .def(
          "freeze",
          [](PyJob& j, std::optional<double> timeout) {
            const int64_t ns = TimeoutNs(timeout);
            Check(j.Call([ns](const Job& job) { return job.Freeze(ns); }));
          },
          py::arg("timeout") = py::none())
      .def("thaw", [](PyJob& j) { Check(j.Call([](const Job& job) { return job.Thaw(); })); })
      .def(
          "destroy",
          [](PyJob& j, std::optional<double> timeout) {
            const int64_t ns = TimeoutNs(timeout);
            Check(j.Call([ns](const Job& job) { return job.Destroy(ns); }));
          },
          py::arg("timeout") = py::none())
      .def(
          "set_deny_new_process",
          [](PyJob& j, bool deny) {
            const NewProcessPolicy p = deny ? NewProcessPolicy::kDeny : NewProcessPolicy::kAllow;
            Check(j.Call([p](const Job& job) { return job.SetNewProcessPolicy(p); }));
          },
          py::arg("deny"))
      .def("deny_new_process",
           [](PyJob& j) {
             return Value(j.Call([](const Job& job) { return job.GetNewProcessPolicy(); })) ==
                    NewProcessPolicy::kDeny;
           })
      .def(
          "set_limit",
          [](PyJob& j, int limit, int64_t value) {
            const JobLimit l = static_cast<JobLimit>(limit);
            Check(j.Call([l, value](const Job& job) { return job.SetLimit(l, value); }));
          },
          py::arg("limit"), py::arg("value"))
      .def("fileno", &PyJob::fileno)
      .def_property_readonly("closed", &PyJob::closed)
      .def("close", &PyJob::close);
}

}  // namespace capspawn::python
