// SPDX-License-Identifier: Apache-2.0
// capspawn-oci list [--format table|json] [--quiet]
#include <getopt.h>

#include <nlohmann/json.hpp>

#include <cstdio>

#include "commands.h"
#include "container.h"
#include "log.h"

namespace capspawn::oci {

int CmdList(const Globals& g, int argc, char** argv) {
  static const option kOptions[] = {{"format", required_argument, nullptr, 'f'},
                                    {"quiet", no_argument, nullptr, 'q'},
                                    {nullptr, 0, nullptr, 0}};
  std::string format = "table";
  bool quiet = false;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+f:q", kOptions, nullptr)) != -1) {
    if (c == 'f') {
      format = optarg;
    } else if (c == 'q') {
      quiet = true;
    } else {
      return UsageError("list", std::string("bad option '") + argv[optind - 1] + "'");
    }
  }
  if (format != "table" && format != "json") {
    return UsageError("list", "--format '" + format + "': use table or json");
  }
  if (optind != argc) return UsageError("list", "takes no argument");
  Result<Store> store = Store::Open(g.root);
  if (!store.ok()) return Fail(store.error());
  Result<std::vector<std::string>> ids = store->List();
  if (!ids.ok()) return Fail(ids.error());
  nlohmann::json all = nlohmann::json::array();
  if (format == "table" && !quiet) {
    printf("%-12s %-10s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
           "OWNER");
  }
  for (const std::string& id : *ids) {
    State s;
    Result<Locked> lock = LockContainer(g, id, &s);
    if (!lock.ok()) continue;  // deleted or still being created meanwhile
    ContainerStatus st = CurrentStatus(s);
    if (quiet) {
      printf("%s\n", id.c_str());
    } else if (format == "table") {
      printf("%-12s %-10d %-10s %-40s %-32s %u\n", id.c_str(),
             st == ContainerStatus::kStopped ? 0 : s.pid, StatusName(st), s.bundle.c_str(),
             s.created.c_str(), s.owner);
    } else {
      all.push_back(nlohmann::json::parse(StateJson(s, st)));
    }
  }
  if (format == "json" && !quiet) printf("%s\n", all.dump().c_str());
  return 0;
}

}  // namespace capspawn::oci
