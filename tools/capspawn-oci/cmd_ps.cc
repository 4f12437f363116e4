// SPDX-License-Identifier: Apache-2.0
// capspawn-oci ps [--format table|json] ID: the processes of the container's job.
#include <getopt.h>

#include <cstdio>

#include <capspawn/job.h>

#include "commands.h"
#include "container.h"
#include "log.h"
#include "util.h"

namespace capspawn::oci {

int CmdPs(const Globals& g, int argc, char** argv) {
  static const option kOptions[] = {{"format", required_argument, nullptr, 'f'},
                                    {nullptr, 0, nullptr, 0}};
  std::string format = "table";
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+f:", kOptions, nullptr)) != -1) {
    if (c != 'f') return UsageError("ps", std::string("bad option '") + argv[optind - 1] + "'");
    format = optarg;
  }
  if (format != "table" && format != "json") {
    return UsageError("ps", "--format '" + format + "': use table or json");
  }
  if (optind + 1 != argc) return UsageError("ps", "usage: ps [--format table|json] ID");
  State s;
  Result<Locked> lock = LockContainer(g, argv[optind], &s);
  if (!lock.ok()) return Fail(lock.error());
  std::vector<pid_t> pids;
  if (!s.job.empty()) {
    Result<capspawn::Job> job = capspawn::Job::Open(s.job);
    if (!job.ok()) return Fail(job.error().Context("ps: the container's job"));
    Result<std::vector<pid_t>> p = job->Processes();
    if (!p.ok()) return Fail(p.error());
    pids = std::move(p.value());
  } else if (CurrentStatus(s) != ContainerStatus::kStopped) {
    pids.push_back(s.pid);  // no job (rootless): only init is known
  }
  if (format == "json") {
    std::string out = "[";
    for (size_t i = 0; i < pids.size(); ++i) out += (i ? "," : "") + std::to_string(pids[i]);
    printf("%s]\n", out.c_str());
    return 0;
  }
  printf("%-8s %s\n", "PID", "CMD");
  for (pid_t p : pids) {
    std::string cmd;
    (void)ReadSmallFile("/proc/" + std::to_string(p) + "/cmdline", &cmd, 65536);
    for (char& ch : cmd) {
      if (ch == '\0') ch = ' ';
    }
    printf("%-8d %s\n", p, cmd.c_str());
  }
  return 0;
}

}  // namespace capspawn::oci
