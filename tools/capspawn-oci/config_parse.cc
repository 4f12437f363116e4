// SPDX-License-Identifier: Apache-2.0
// config.json -> Config. Every value is checked for its type and range here;
// whether capspawn can honour it is decided later (plan.cc).
#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <set>

#include "config.h"

namespace capspawn::oci {
namespace {

using json = nlohmann::json;

// Inside the parser a refusal unwinds to ParseConfig, which turns it into an Error.
struct Refusal {
  capspawn_status_t status;
  std::string message;
};

[[noreturn]] void Refuse(const std::string& field, const std::string& why,
                         capspawn_status_t status = CAPSPAWN_ERR_INVALID_ARGS) {
  throw Refusal{status, field + ": " + why};
}

const char* TypeName(const json& v) { return v.type_name(); }

bool IsEmptyValue(const json& v) {
  return v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty()) ||
         (v.is_array() && v.empty()) || (v.is_object() && v.empty()) ||
         (v.is_boolean() && !v.get<bool>());
}

// One JSON object being read: remembers which keys were looked at, so that
// the rest can be sorted into spec-defined-but-refused and unknown.
class Obj {
 public:
  Obj(const json& j, std::string path, Config* cfg) : j_(j), path_(std::move(path)), cfg_(cfg) {
    if (!j.is_object()) Refuse(path_, std::string("must be an object, not ") + TypeName(j));
    if (j.size() > kMaxListItems) Refuse(path_, "too many members", CAPSPAWN_ERR_OUT_OF_RANGE);
  }

  std::string Field(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  // nullptr when absent (JSON null counts as absent).
  const json* Get(const std::string& key) {
    seen_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  const json& Require(const std::string& key) {
    const json* v = Get(key);
    if (v == nullptr) Refuse(Field(key), "missing (required)");
    return *v;
  }

  // Spec-defined keys capspawn does not model: refused when set to something.
  void Unmodeled(std::initializer_list<const char*> keys) {
    for (const char* k : keys) {
      const json* v = Get(k);
      if (v != nullptr && !IsEmptyValue(*v)) cfg_->refused.push_back(Field(k));
    }
  }

  // Call last: every key not looked at is unknown to the spec.
  void Finish() {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (!seen_.count(it.key())) cfg_->unknown.push_back(Field(it.key()));
    }
  }

 private:
  const json& j_;
  std::string path_;
  Config* cfg_;
  std::set<std::string> seen_;
};

std::string String(const json& v, const std::string& field) {
  if (!v.is_string()) Refuse(field, std::string("must be a string, not ") + TypeName(v));
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() > kMaxStringBytes) Refuse(field, "string too long", CAPSPAWN_ERR_OUT_OF_RANGE);
  if (s.find('\0') != std::string::npos) Refuse(field, "contains a NUL byte");
  return s;
}

bool Bool(const json& v, const std::string& field) {
  if (!v.is_boolean()) Refuse(field, std::string("must be a boolean, not ") + TypeName(v));
  return v.get<bool>();
}

int64_t Int(const json& v, const std::string& field, int64_t lo, int64_t hi) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(hi)) {
      Refuse(field, std::to_string(u) + " is out of range", CAPSPAWN_ERR_OUT_OF_RANGE);
    }
    return static_cast<int64_t>(u);
  }
  if (!v.is_number_integer()) Refuse(field, std::string("must be an integer, not ") + TypeName(v));
  int64_t i = v.get<int64_t>();
  if (i < lo || i > hi) {
    Refuse(field, std::to_string(i) + " is out of range", CAPSPAWN_ERR_OUT_OF_RANGE);
  }
  return i;
}

uint64_t Uint64(const json& v, const std::string& field) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) {
    Refuse(field, std::to_string(v.get<int64_t>()) + " is negative", CAPSPAWN_ERR_OUT_OF_RANGE);
  }
  Refuse(field, std::string("must be an unsigned integer, not ") + TypeName(v));
}

uint32_t Id(const json& v, const std::string& field) {
  // 4294967295 is (uid_t)-1, "no change" to the kernel: never a real id.
  return static_cast<uint32_t>(Int(v, field, 0, 4294967294LL));
}

template <typename F>
void Array(const json& v, const std::string& field, F each) {
  if (!v.is_array()) Refuse(field, std::string("must be an array, not ") + TypeName(v));
  if (v.size() > kMaxListItems) Refuse(field, "too many items", CAPSPAWN_ERR_OUT_OF_RANGE);
  for (size_t i = 0; i < v.size(); ++i) each(v[i], field + "[" + std::to_string(i) + "]");
}

std::vector<std::string> Strings(const json& v, const std::string& field) {
  std::vector<std::string> out;
  Array(v, field, [&](const json& e, const std::string& f) { out.push_back(String(e, f)); });
  return out;
}

std::map<std::string, std::string> StringMap(const json& v, const std::string& field) {
  if (!v.is_object()) Refuse(field, std::string("must be an object, not ") + TypeName(v));
  if (v.size() > kMaxListItems) Refuse(field, "too many members", CAPSPAWN_ERR_OUT_OF_RANGE);
  std::map<std::string, std::string> out;
  for (auto it = v.begin(); it != v.end(); ++it) {
    std::string f = field + "." + it.key();
    if (it.key().find('\0') != std::string::npos) Refuse(field, "a key contains a NUL byte");
    out[it.key()] = String(*it, f);
  }
  return out;
}

std::string AbsolutePath(const json& v, const std::string& field) {
  std::string s = String(v, field);
  if (s.empty() || s[0] != '/') Refuse(field, "'" + s + "' is not an absolute path");
  std::optional<std::string> n = NormaliseAbsolute(s);
  if (!n) Refuse(field, "'" + s + "' leaves the root with '..'");
  return *n;
}

std::vector<IdMapping> Mappings(const json& v, const std::string& field, Config* cfg) {
  std::vector<IdMapping> out;
  Array(v, field, [&](const json& e, const std::string& f) {
    Obj o(e, f, cfg);
    IdMapping m;
    m.container_id = Id(o.Require("containerID"), o.Field("containerID"));
    m.host_id = Id(o.Require("hostID"), o.Field("hostID"));
    m.size = static_cast<uint32_t>(Int(o.Require("size"), o.Field("size"), 1, 4294967295LL));
    if (uint64_t{m.container_id} + m.size > 4294967296ULL ||
        uint64_t{m.host_id} + m.size > 4294967296ULL) {
      Refuse(o.Field("size"), "the range passes the largest id", CAPSPAWN_ERR_OUT_OF_RANGE);
    }
    o.Finish();
    out.push_back(m);
  });
  if (out.size() > kMaxIdMappings) {
    Refuse(field, "more than 340 ranges (the kernel's limit)", CAPSPAWN_ERR_OUT_OF_RANGE);
  }
  return out;
}

void ParseUser(Obj& o, User* u, Config* cfg) {
  u->uid = Id(o.Require("uid"), o.Field("uid"));
  u->gid = Id(o.Require("gid"), o.Field("gid"));
  if (const json* v = o.Get("umask")) {
    u->umask = static_cast<uint32_t>(Int(*v, o.Field("umask"), 0, 0777));
  }
  if (const json* v = o.Get("additionalGids")) {
    Array(*v, o.Field("additionalGids"),
          [&](const json& e, const std::string& f) { u->additional_gids.push_back(Id(e, f)); });
  }
  o.Unmodeled({"username"});  // Windows only
  (void)cfg;
}

std::vector<int> CapabilitySet(const json& v, const std::string& field) {
  std::vector<int> out;
  Array(v, field, [&](const json& e, const std::string& f) {
    std::string name = String(e, f);
    int n = CapabilityNumber(name);
    if (n < 0) Refuse(f, "unknown capability '" + name + "'");
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  });
  return out;
}

void ParseProcess(const json& j, Config* cfg) {
  Obj o(j, "process", cfg);
  Process& p = cfg->process;
  if (const json* v = o.Get("terminal")) p.terminal = Bool(*v, o.Field("terminal"));
  if (const json* v = o.Get("consoleSize")) {
    Obj c(*v, o.Field("consoleSize"), cfg);
    ConsoleSize s;
    s.height = static_cast<uint32_t>(Int(c.Require("height"), c.Field("height"), 0, 65535));
    s.width = static_cast<uint32_t>(Int(c.Require("width"), c.Field("width"), 0, 65535));
    c.Finish();
    p.console_size = s;
  }
  p.cwd = AbsolutePath(o.Require("cwd"), o.Field("cwd"));
  p.args = Strings(o.Require("args"), o.Field("args"));
  if (p.args.empty()) Refuse(o.Field("args"), "must name the program (it is empty)");
  if (p.args[0].empty()) Refuse(o.Field("args[0]"), "the program name is empty");
  if (const json* v = o.Get("env")) {
    p.env = Strings(*v, o.Field("env"));
    for (size_t i = 0; i < p.env.size(); ++i) {
      if (p.env[i].find('=') == std::string::npos || p.env[i][0] == '=') {
        Refuse(o.Field("env[" + std::to_string(i) + "]"), "'" + p.env[i] + "' is not NAME=VALUE");
      }
    }
  }
  size_t bytes = 0;
  for (const std::string& s : p.args) bytes += s.size() + 1;
  for (const std::string& s : p.env) bytes += s.size() + 1;
  if (bytes > kMaxArgBytes) {
    Refuse("process.args",
           "arguments and environment total " + std::to_string(bytes) +
               " bytes, more than execve takes",
           CAPSPAWN_ERR_OUT_OF_RANGE);
  }
  {
    Obj u(o.Require("user"), o.Field("user"), cfg);
    ParseUser(u, &p.user, cfg);
    u.Finish();
  }
  if (const json* v = o.Get("capabilities")) {
    Obj c(*v, o.Field("capabilities"), cfg);
    Capabilities caps;
    auto set = [&](const char* key, std::optional<std::vector<int>>* out) {
      if (const json* s = c.Get(key)) *out = CapabilitySet(*s, c.Field(key));
    };
    set("bounding", &caps.bounding);
    set("effective", &caps.effective);
    set("inheritable", &caps.inheritable);
    set("permitted", &caps.permitted);
    set("ambient", &caps.ambient);
    c.Finish();
    p.capabilities = std::move(caps);
  }
  if (const json* v = o.Get("rlimits")) {
    Array(*v, o.Field("rlimits"), [&](const json& e, const std::string& f) {
      Obj r(e, f, cfg);
      Rlimit l;
      l.type = String(r.Require("type"), r.Field("type"));
      l.resource = RlimitNumber(l.type);
      if (l.resource < 0) Refuse(r.Field("type"), "unknown resource '" + l.type + "'");
      for (const Rlimit& earlier : p.rlimits) {
        if (earlier.resource == l.resource) Refuse(r.Field("type"), l.type + " given twice");
      }
      l.soft = Uint64(r.Require("soft"), r.Field("soft"));
      l.hard = Uint64(r.Require("hard"), r.Field("hard"));
      if (l.soft > l.hard) Refuse(r.Field("soft"), "above the hard limit");
      r.Finish();
      p.rlimits.push_back(l);
    });
  }
  if (const json* v = o.Get("noNewPrivileges")) {
    p.no_new_privileges = Bool(*v, o.Field("noNewPrivileges"));
  }
  if (const json* v = o.Get("oomScoreAdj")) {
    p.oom_score_adj = static_cast<int>(Int(*v, o.Field("oomScoreAdj"), -1000, 1000));
  }
  o.Unmodeled({"apparmorProfile", "selinuxLabel", "ioPriority", "scheduler", "execCPUAffinity",
               "commandLine"});
  o.Finish();
}

Hook ParseHook(const json& j, const std::string& field, Config* cfg) {
  Obj o(j, field, cfg);
  Hook h;
  h.path = AbsolutePath(o.Require("path"), o.Field("path"));
  if (const json* v = o.Get("args")) h.args = Strings(*v, o.Field("args"));
  if (const json* v = o.Get("env")) h.env = Strings(*v, o.Field("env"));
  if (const json* v = o.Get("timeout")) {
    h.timeout = static_cast<int>(Int(*v, o.Field("timeout"), 1, 86400));
  }
  o.Finish();
  return h;
}

void ParseHooks(const json& j, Config* cfg) {
  Obj o(j, "hooks", cfg);
  auto list = [&](const char* key, std::vector<Hook>* out) {
    if (const json* v = o.Get(key)) {
      Array(*v, o.Field(key),
            [&](const json& e, const std::string& f) { out->push_back(ParseHook(e, f, cfg)); });
    }
  };
  list("prestart", &cfg->hooks.prestart);
  list("createRuntime", &cfg->hooks.create_runtime);
  list("createContainer", &cfg->hooks.create_container);
  list("startContainer", &cfg->hooks.start_container);
  list("poststart", &cfg->hooks.poststart);
  list("poststop", &cfg->hooks.poststop);
  o.Finish();
}

void ParseMounts(const json& j, Config* cfg) {
  Array(j, "mounts", [&](const json& e, const std::string& f) {
    Obj o(e, f, cfg);
    Mount m;
    m.destination = AbsolutePath(o.Require("destination"), o.Field("destination"));
    if (const json* v = o.Get("type")) m.type = String(*v, o.Field("type"));
    if (const json* v = o.Get("source")) m.source = String(*v, o.Field("source"));
    if (const json* v = o.Get("options")) m.options = Strings(*v, o.Field("options"));
    if (const json* v = o.Get("uidMappings")) {
      m.uid_mappings = Mappings(*v, o.Field("uidMappings"), cfg);
    }
    if (const json* v = o.Get("gidMappings")) {
      m.gid_mappings = Mappings(*v, o.Field("gidMappings"), cfg);
    }
    o.Finish();
    cfg->mounts.push_back(std::move(m));
  });
}

constexpr std::array<const char*, 8> kNamespaceTypes = {"pid", "network", "mount",  "ipc",
                                                        "uts", "user",    "cgroup", "time"};

void ParseResources(const json& j, Config* cfg) {
  Obj o(j, "linux.resources", cfg);
  Resources r;
  if (const json* v = o.Get("devices")) {
    Array(*v, o.Field("devices"), [&](const json& e, const std::string& f) {
      Obj d(e, f, cfg);
      DeviceRule rule;
      rule.allow = Bool(d.Require("allow"), d.Field("allow"));
      if (const json* t = d.Get("type")) {
        rule.type = String(*t, d.Field("type"));
        if (rule.type != "a" && rule.type != "c" && rule.type != "b") {
          Refuse(d.Field("type"), "'" + rule.type + "' is not a, c or b");
        }
      }
      if (const json* t = d.Get("major")) rule.major = Int(*t, d.Field("major"), -1, 0xfff);
      if (const json* t = d.Get("minor")) rule.minor = Int(*t, d.Field("minor"), -1, 0xfffff);
      if (const json* t = d.Get("access")) {
        rule.access = String(*t, d.Field("access"));
        if (rule.access.find_first_not_of("rwm") != std::string::npos) {
          Refuse(d.Field("access"), "'" + rule.access + "' is not made of r, w and m");
        }
      }
      d.Finish();
      r.devices.push_back(rule);
    });
  }
  if (const json* v = o.Get("memory")) {
    Obj m(*v, o.Field("memory"), cfg);
    const int64_t kMax = INT64_MAX;
    if (const json* t = m.Get("limit")) r.memory_limit = Int(*t, m.Field("limit"), -1, kMax);
    if (const json* t = m.Get("reservation")) {
      r.memory_reservation = Int(*t, m.Field("reservation"), -1, kMax);
    }
    if (const json* t = m.Get("swap")) r.memory_swap = Int(*t, m.Field("swap"), -1, kMax);
    m.Unmodeled({"kernel", "kernelTCP", "swappiness", "disableOOMKiller", "useHierarchy",
                 "checkBeforeUpdate"});
    m.Finish();
  }
  if (const json* v = o.Get("cpu")) {
    Obj c(*v, o.Field("cpu"), cfg);
    if (const json* t = c.Get("shares")) r.cpu_shares = Uint64(*t, c.Field("shares"));
    if (const json* t = c.Get("quota")) r.cpu_quota = Int(*t, c.Field("quota"), -1, INT64_MAX);
    if (const json* t = c.Get("period")) r.cpu_period = Uint64(*t, c.Field("period"));
    if (const json* t = c.Get("cpus")) r.cpu_cpus = String(*t, c.Field("cpus"));
    if (const json* t = c.Get("mems")) r.cpu_mems = String(*t, c.Field("mems"));
    c.Unmodeled({"burst", "realtimeRuntime", "realtimePeriod", "idle"});
    c.Finish();
  }
  if (const json* v = o.Get("pids")) {
    Obj p(*v, o.Field("pids"), cfg);
    r.pids_limit = Int(p.Require("limit"), p.Field("limit"), -1, INT64_MAX);
    p.Finish();
  }
  o.Unmodeled({"blockIO", "hugepageLimits", "network", "rdma", "unified"});
  o.Finish();
  cfg->linux.resources = std::move(r);
}

void ParseSeccomp(const json& j, Config* cfg) {
  Obj o(j, "linux.seccomp", cfg);
  Seccomp s;
  s.default_action = String(o.Require("defaultAction"), o.Field("defaultAction"));
  if (const json* v = o.Get("defaultErrnoRet")) {
    s.default_errno_ret = static_cast<uint32_t>(Int(*v, o.Field("defaultErrnoRet"), 0, 4095));
  }
  if (const json* v = o.Get("architectures")) {
    s.architectures = Strings(*v, o.Field("architectures"));
  }
  if (const json* v = o.Get("flags")) s.flags = Strings(*v, o.Field("flags"));
  if (const json* v = o.Get("listenerPath")) {
    s.listener_path = String(*v, o.Field("listenerPath"));
  }
  if (const json* v = o.Get("syscalls")) {
    Array(*v, o.Field("syscalls"), [&](const json& e, const std::string& f) {
      Obj r(e, f, cfg);
      SeccompRule rule;
      rule.names = Strings(r.Require("names"), r.Field("names"));
      if (rule.names.empty()) Refuse(r.Field("names"), "is empty");
      rule.action = String(r.Require("action"), r.Field("action"));
      if (const json* t = r.Get("errnoRet")) {
        rule.errno_ret = static_cast<uint32_t>(Int(*t, r.Field("errnoRet"), 0, 4095));
      }
      if (const json* t = r.Get("args")) {
        Array(*t, r.Field("args"), [&](const json& ae, const std::string& af) {
          Obj a(ae, af, cfg);
          SeccompArg arg;
          arg.index = static_cast<uint32_t>(Int(a.Require("index"), a.Field("index"), 0, 5));
          arg.value = Uint64(a.Require("value"), a.Field("value"));
          if (const json* w = a.Get("valueTwo")) arg.value_two = Uint64(*w, a.Field("valueTwo"));
          arg.op = String(a.Require("op"), a.Field("op"));
          a.Finish();
          rule.args.push_back(arg);
        });
      }
      r.Unmodeled({"comment", "includes", "excludes"});
      r.Finish();
      s.syscalls.push_back(std::move(rule));
    });
  }
  o.Unmodeled({"listenerMetadata"});
  o.Finish();
  cfg->linux.seccomp = std::move(s);
}

void ParseLinux(const json& j, Config* cfg) {
  Obj o(j, "linux", cfg);
  Linux& l = cfg->linux;
  if (const json* v = o.Get("namespaces")) {
    Array(*v, o.Field("namespaces"), [&](const json& e, const std::string& f) {
      Obj n(e, f, cfg);
      Namespace ns;
      ns.type = String(n.Require("type"), n.Field("type"));
      if (std::find_if(kNamespaceTypes.begin(), kNamespaceTypes.end(),
                       [&](const char* t) { return ns.type == t; }) == kNamespaceTypes.end()) {
        Refuse(n.Field("type"), "unknown namespace type '" + ns.type + "'");
      }
      for (const Namespace& earlier : l.namespaces) {
        if (earlier.type == ns.type) Refuse(n.Field("type"), "'" + ns.type + "' given twice");
      }
      if (const json* p = n.Get("path")) ns.path = String(*p, n.Field("path"));
      if (!ns.path.empty() && ns.path[0] != '/') {
        Refuse(n.Field("path"), "'" + ns.path + "' is not an absolute path");
      }
      n.Finish();
      l.namespaces.push_back(ns);
    });
  }
  if (const json* v = o.Get("uidMappings")) {
    l.uid_mappings = Mappings(*v, o.Field("uidMappings"), cfg);
  }
  if (const json* v = o.Get("gidMappings")) {
    l.gid_mappings = Mappings(*v, o.Field("gidMappings"), cfg);
  }
  if (const json* v = o.Get("devices")) {
    Array(*v, o.Field("devices"), [&](const json& e, const std::string& f) {
      Obj d(e, f, cfg);
      Device dev;
      std::string type = String(d.Require("type"), d.Field("type"));
      if (type.size() != 1 || std::string("cbup").find(type[0]) == std::string::npos) {
        Refuse(d.Field("type"), "'" + type + "' is not c, b, u or p");
      }
      dev.type = type[0];
      dev.path = AbsolutePath(d.Require("path"), d.Field("path"));
      if (dev.type != 'p') {
        dev.major = Int(d.Require("major"), d.Field("major"), 0, 0xfff);
        dev.minor = Int(d.Require("minor"), d.Field("minor"), 0, 0xfffff);
      }
      if (const json* t = d.Get("fileMode")) {
        dev.file_mode = static_cast<uint32_t>(Int(*t, d.Field("fileMode"), 0, 07777));
      }
      if (const json* t = d.Get("uid")) dev.uid = Id(*t, d.Field("uid"));
      if (const json* t = d.Get("gid")) dev.gid = Id(*t, d.Field("gid"));
      d.Finish();
      l.devices.push_back(dev);
    });
  }
  if (const json* v = o.Get("cgroupsPath")) l.cgroups_path = String(*v, o.Field("cgroupsPath"));
  if (const json* v = o.Get("resources")) ParseResources(*v, cfg);
  if (const json* v = o.Get("sysctl")) l.sysctl = StringMap(*v, o.Field("sysctl"));
  if (const json* v = o.Get("seccomp")) ParseSeccomp(*v, cfg);
  if (const json* v = o.Get("rootfsPropagation")) {
    l.rootfs_propagation = String(*v, o.Field("rootfsPropagation"));
  }
  if (const json* v = o.Get("maskedPaths")) {
    Array(*v, o.Field("maskedPaths"), [&](const json& e, const std::string& f) {
      l.masked_paths.push_back(AbsolutePath(e, f));
    });
  }
  if (const json* v = o.Get("readonlyPaths")) {
    Array(*v, o.Field("readonlyPaths"), [&](const json& e, const std::string& f) {
      l.readonly_paths.push_back(AbsolutePath(e, f));
    });
  }
  o.Unmodeled({"timeOffsets", "intelRdt", "mountLabel", "personality"});
  o.Finish();
}

void ParseTop(const json& j, Config* cfg) {
  Obj o(j, "", cfg);
  cfg->oci_version = String(o.Require("ociVersion"), "ociVersion");
  if (cfg->oci_version.rfind("1.", 0) != 0) {
    Refuse("ociVersion", "'" + cfg->oci_version + "' is not a 1.x version of the runtime spec");
  }
  {
    Obj r(o.Require("root"), "root", cfg);
    cfg->root.path = String(r.Require("path"), "root.path");
    if (cfg->root.path.empty()) Refuse("root.path", "is empty");
    if (const json* v = r.Get("readonly")) cfg->root.readonly = Bool(*v, "root.readonly");
    r.Finish();
  }
  ParseProcess(o.Require("process"), cfg);
  if (const json* v = o.Get("hostname")) {
    cfg->hostname = String(*v, "hostname");
    if (cfg->hostname.size() > 64) Refuse("hostname", "longer than 64 bytes");
  }
  if (const json* v = o.Get("domainname")) {
    cfg->domainname = String(*v, "domainname");
    if (cfg->domainname.size() > 64) Refuse("domainname", "longer than 64 bytes");
  }
  if (const json* v = o.Get("mounts")) ParseMounts(*v, cfg);
  if (const json* v = o.Get("hooks")) ParseHooks(*v, cfg);
  if (const json* v = o.Get("annotations")) cfg->annotations = StringMap(*v, "annotations");
  if (const json* v = o.Get("linux")) ParseLinux(*v, cfg);
  o.Unmodeled({"solaris", "windows", "vm", "zos"});
  o.Finish();
}

}  // namespace

namespace {

// One bounded parse for config.json and exec's --process: the size and
// nesting limits, then `fill` reads the document; `what` starts each message.
Result<Config> ParseBounded(std::string_view text, const char* what,
                            void (*fill)(const json&, Config*)) {
  const std::string prefix = std::string(what) + ": ";
  if (text.size() > kMaxConfigBytes) {
    return Error(CAPSPAWN_ERR_OUT_OF_RANGE, prefix + std::to_string(text.size()) +
                                                " bytes, more than the " +
                                                std::to_string(kMaxConfigBytes) + " accepted");
  }
  bool too_deep = false;
  json j;
  try {
    // The callback sees each value's depth while parsing (nlohmann's parser is
    // not recursive): deeper values are dropped and the document refused.
    j = json::parse(text, [&](int depth, json::parse_event_t, json&) {
      if (depth > kMaxDepth) too_deep = true;
      return depth <= kMaxDepth;
    });
  } catch (const json::parse_error& e) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 prefix + "not valid JSON at byte " + std::to_string(e.byte) + ": " +
                     std::string(e.what()).substr(std::string(e.what()).rfind(':') + 2));
  } catch (const json::exception& e) {
    // A number too large for a double ("1e999") is out_of_range, not parse_error.
    return Error(CAPSPAWN_ERR_INVALID_ARGS, prefix + "not valid JSON: " + e.what());
  }
  if (too_deep) {
    return Error(CAPSPAWN_ERR_OUT_OF_RANGE,
                 prefix + "nested deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  Config cfg;
  try {
    fill(j, &cfg);
  } catch (const Refusal& r) {
    return Error(r.status, prefix + r.message);
  } catch (const json::exception& e) {
    // The checks in `fill` should make this unreachable; never let it escape.
    return Error(CAPSPAWN_ERR_INVALID_ARGS, prefix + e.what());
  }
  return cfg;
}

}  // namespace

Result<Config> ParseConfig(std::string_view text) {
  return ParseBounded(text, "config.json", ParseTop);
}

Result<Config> ParseProcessJson(std::string_view text) {
  return ParseBounded(text, "--process", ParseProcess);
}

std::optional<std::string> NormaliseAbsolute(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view c = path.substr(i, j - i);
    if (c == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(c);
    }
    i = j + 1;
  }
  std::string out;
  for (std::string_view p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

int RlimitNumber(std::string_view name) {
  static constexpr std::pair<const char*, int> kTable[] = {
      {"RLIMIT_CPU", RLIMIT_CPU},           {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_DATA", RLIMIT_DATA},         {"RLIMIT_STACK", RLIMIT_STACK},
      {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
  };
  for (const auto& [n, r] : kTable) {
    if (name == n) return r;
  }
  return -1;
}

namespace {
// Linux's capability numbers (<linux/capability.h>), 0 .. 40.
constexpr const char* kCapNames[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
}  // namespace

int CapabilityNumber(std::string_view name) {
  for (size_t i = 0; i < std::size(kCapNames); ++i) {
    if (name == kCapNames[i]) return static_cast<int>(i);
  }
  return -1;
}

std::string CapabilityName(int cap) {
  if (cap < 0 || cap >= static_cast<int>(std::size(kCapNames))) return {};
  return kCapNames[cap];
}

}  // namespace capspawn::oci
