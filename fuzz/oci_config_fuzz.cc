// SPDX-License-Identifier: Apache-2.0
// capspawn-oci's config.json parser (tools/capspawn-oci/config_parse.cc) on
// arbitrary bytes: config.json is untrusted input (a bundle anyone may write),
// and so is exec's --process file (ParseProcessJson).
// It must return a value or an Error, never crash, hang or leak; a config it
// accepts must satisfy the bounds it promises, and the checks of what this
// build supports must answer for it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config.h"
#include "plan.h"

// "/" or "/a/b": no empty, "." or ".." component. A name that merely starts
// with two dots ("/dev/..ueue") is a name, not a step up.
static bool Normalised(std::string_view p) {
  if (p == "/") return true;
  if (p.empty() || p[0] != '/') return false;
  size_t i = 1;
  while (true) {
    size_t j = p.find('/', i);
    std::string_view c = p.substr(i, j == std::string_view::npos ? p.npos : j - i);
    if (c.empty() || c == "." || c == "..") return false;
    if (j == std::string_view::npos) return true;
    i = j + 1;
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // exec's --process file: the same bytes as a process object.
  capspawn::Result<capspawn::oci::Config> p = capspawn::oci::ParseProcessJson(text);
  if (!p.ok() && p.error().message().empty()) abort();
  if (p.ok() && (p->process.args.empty() || p->process.cwd.empty())) abort();
  capspawn::Result<capspawn::oci::Config> c = capspawn::oci::ParseConfig(text);
  if (!c.ok()) {
    if (c.error().message().empty()) abort();  // every refusal says why
    return 0;
  }
  const capspawn::oci::Config& cfg = *c;
  if (cfg.process.args.empty() || cfg.process.cwd.empty() || cfg.process.cwd[0] != '/') abort();
  for (const auto& m : cfg.mounts) {
    if (!Normalised(m.destination)) abort();
  }
  if (cfg.linux.uid_mappings.size() > capspawn::oci::kMaxIdMappings) abort();
  // The refusals that need no filesystem (plan.cc): a status and a message, never a crash.
  for (bool rootless : {false, true}) {
    capspawn::oci::PlanOptions opts;
    opts.bundle = "/nonexistent-bundle";
    opts.rootless = rootless;
    capspawn::Status st = capspawn::oci::CheckSupported(cfg, opts);
    if (!st.ok() && st.error().message().empty()) abort();
  }
  return 0;
}
