// SPDX-License-Identifier: Apache-2.0
#include "child_report.h"

#include <cstdlib>
#include <sstream>

namespace capspawn_test {
namespace {

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string tok;
  while (in >> tok) out.push_back(tok);
  return out;
}

// "key=value" -> value, for the token that starts with key=.
std::string Field(const std::vector<std::string>& toks, const std::string& key) {
  for (const std::string& t : toks) {
    if (t.compare(0, key.size() + 1, key + "=") == 0) return t.substr(key.size() + 1);
  }
  return "";
}

}  // namespace

std::string Unescape(const std::string& token) {
  if (token == "\\e") return "";
  std::string out;
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '\\' && i + 3 < token.size() && token[i + 1] == 'x') {
      out += static_cast<char>(std::strtoul(token.substr(i + 2, 2).c_str(), nullptr, 16));
      i += 3;
    } else {
      out += token[i];
    }
  }
  return out;
}

Report ParseReport(const std::string& text) {
  Report r;
  std::istringstream in(text);
  std::string line;
  bool header = false;
  while (std::getline(in, line)) {
    std::vector<std::string> t = Split(line);
    if (t.empty()) continue;
    const std::string& k = t[0];
    if (k == "capspawn-child-report") {
      header = true;
    } else if (k == "pid" && t.size() == 2) {
      r.pid = std::atoi(t[1].c_str());
    } else if (k == "ppid" && t.size() == 2) {
      r.ppid = std::atoi(t[1].c_str());
    } else if (k == "comm" && t.size() == 2) {
      r.comm = Unescape(t[1]);
    } else if (k == "argc" && t.size() == 2) {
      r.argc = std::atoi(t[1].c_str());
    } else if (k == "argv" && t.size() == 3) {
      r.argv.push_back(Unescape(t[2]));
    } else if (k == "env" && t.size() == 2) {
      r.env.push_back(Unescape(t[1]));
    } else if (k == "fd" && t.size() >= 2) {
      FdInfo f;
      f.fd = std::atoi(t[1].c_str());
      f.type = Field(t, "type");
      f.path = Unescape(Field(t, "path"));
      f.flags = static_cast<int>(std::strtol(Field(t, "flags").c_str(), nullptr, 16));
      f.cloexec = Field(t, "cloexec") == "1";
      f.dev = Field(t, "dev");
      f.ino = std::strtoull(Field(t, "ino").c_str(), nullptr, 10);
      r.fds[f.fd] = f;
    } else if (k == "handle" && t.size() == 4) {
      uint32_t id = static_cast<uint32_t>(std::strtoul(t[1].c_str(), nullptr, 16));
      r.handles[id] =
          HandleInfo{std::atoi(Field(t, "fd").c_str()), std::atoi(Field(t, "again").c_str())};
    } else if (k == "sig") {
      r.sig_blocked = Field(t, "blk");
      r.sig_ignored = Field(t, "ign");
      r.sig_caught = Field(t, "cgt");
    } else if (k == "cgroup" && t.size() == 2) {
      r.cgroup = Unescape(t[1]);
    } else if (k == "end") {
      r.complete = header;
    }
  }
  return r;
}

std::vector<int> Report::FdNumbers() const {
  std::vector<int> out;
  for (const auto& [fd, info] : fds) out.push_back(fd);
  return out;
}

std::optional<std::string> Report::Getenv(const std::string& name) const {
  for (const std::string& e : env) {
    if (e.compare(0, name.size() + 1, name + "=") == 0) return e.substr(name.size() + 1);
  }
  return std::nullopt;
}

int Report::CountEnv(const std::string& name) const {
  int n = 0;
  for (const std::string& e : env) {
    if (e.compare(0, name.size() + 1, name + "=") == 0) ++n;
  }
  return n;
}

bool Report::HasEnvPrefix(const std::string& prefix) const {
  for (const std::string& e : env) {
    if (e.compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

}  // namespace capspawn_test
