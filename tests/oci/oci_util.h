// SPDX-License-Identifier: Apache-2.0
// Helpers for capspawn-oci's tests: running programs with their output in
// files (a container keeps the fds it was handed, so pipes would never reach
// EOF), bundles made with `capspawn-oci spec` and edited, and probes for what
// a container may leave behind.
#ifndef CAPSPAWN_TESTS_OCI_OCI_UTIL_H_
#define CAPSPAWN_TESTS_OCI_OCI_UTIL_H_

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace oci_test {

using json = nlohmann::json;

struct Ran {
  int code = -1;  // exit status; 128 + N for signal N; -1 timed out
  std::string out, err;
};

// Runs argv with `input` on stdin (or /dev/null), stdout and stderr into
// files, and waits at most `timeout_s` (then SIGKILL).
// `own_group`: in a process group of its own, as a job-control shell runs it.
Ran Exec(const std::vector<std::string>& argv, const std::string& input = "", int timeout_s = 60,
         bool own_group = false);

// A scratch directory of the test's own (removed at destruction; mounts
// below it are refused by removal, which then fails the test).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string OciBinary();  // the capspawn-oci under test
std::string ImageDir();   // holds rootfs/ and busybox-oci.tar (made at build time)
bool IsRoot();
bool Have(const std::string& program);  // on PATH

// A bundle in `dir`: `capspawn-oci spec` (--rootless when not root), root.path
// the image's rootfs (absolute, read-only), process.args `args`; `edit` may
// change anything else. Returns the bundle directory.
std::string MakeBundle(const std::string& dir, const std::vector<std::string>& args,
                       const std::function<void(json&)>& edit = nullptr);

// capspawn-oci with --root ROOT and the rest.
std::vector<std::string> Oci(const std::string& root, std::vector<std::string> rest);

// Makes the test process the subreaper of what its children leave (containers
// whose creating command exited), and reaps whatever has exited.
void BecomeSubreaper();
void ReapOrphans();

// The cgroup2 directories below the mount whose name is `name` (recursive).
std::vector<std::string> CgroupsNamed(const std::string& name);
// Processes whose /proc/PID/cmdline contains `marker`.
std::vector<pid_t> ProcessesWith(const std::string& marker);
// Mount points of our mount namespace below `dir`.
std::vector<std::string> MountsBelow(const std::string& dir);

// A container id no other test (or test run) uses: PREFIX-PID-N.
std::string UniqueId(const std::string& prefix);

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& text);

}  // namespace oci_test

#endif  // CAPSPAWN_TESTS_OCI_OCI_UTIL_H_
