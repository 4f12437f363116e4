// SPDX-License-Identifier: Apache-2.0
// Parses `capspawn run` options with getopt_long into RunOptions.
#include "options.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <capspawn/processargs.h>
#include <capspawn/startup.h>

namespace capspawn::cli {
namespace {

// Values getopt_long returns for options without a short form.
enum OptionId : int {
  kOptClone = 256,
  kOptNoClone,
  kOptEnvFile,
  kOptUnsetEnv,
  kOptClearEnv,
  kOptFd,
  kOptTransferFd,
  kOptHandle,
  kOptName,
  kOptNs,
  kOptDir,
  kOptJob,
  kOptVmo,
  kOptTimeout,
  kOptPrintPid,
  kOptRoNs,
  kOptLdsvc,
  kOptDevMinimal,
  kOptProc,
  kOptTmpfs,
  // Accepted now, implemented by later work: they fail with NOT_SUPPORTED.
  kOptSuspended,
  kOptLauncher,
  kOptStartDataFd,
  kOptStartData,
  kOptStartDeadline,
  kOptListen,
};

const option kBaseOptions[] = {
    {"clone", required_argument, nullptr, kOptClone},
    {"no-clone", required_argument, nullptr, kOptNoClone},
    {"env", required_argument, nullptr, 'e'},
    {"env-file", required_argument, nullptr, kOptEnvFile},
    {"unset-env", required_argument, nullptr, kOptUnsetEnv},
    {"clear-env", no_argument, nullptr, kOptClearEnv},
    {"fd", required_argument, nullptr, kOptFd},
    {"transfer-fd", required_argument, nullptr, kOptTransferFd},
    {"handle", required_argument, nullptr, kOptHandle},
    {"name", required_argument, nullptr, kOptName},
    {"ns", required_argument, nullptr, kOptNs},
    {"dir", required_argument, nullptr, kOptDir},
    {"job", required_argument, nullptr, kOptJob},
    {"vmo", no_argument, nullptr, kOptVmo},
    {"timeout", required_argument, nullptr, kOptTimeout},
    {"print-pid", no_argument, nullptr, kOptPrintPid},
    {"quiet", no_argument, nullptr, 'q'},
    {"help", no_argument, nullptr, 'h'},
    {"ro-ns", required_argument, nullptr, kOptRoNs},
    {"ldsvc", required_argument, nullptr, kOptLdsvc},
    {"dev-minimal", no_argument, nullptr, kOptDevMinimal},
    {"proc", no_argument, nullptr, kOptProc},
    {"tmpfs", required_argument, nullptr, kOptTmpfs},
    {"suspended", no_argument, nullptr, kOptSuspended},
    {"launcher", required_argument, nullptr, kOptLauncher},
    {"start-data-fd", required_argument, nullptr, kOptStartDataFd},
    {"start-data", required_argument, nullptr, kOptStartData},
    {"start-deadline", required_argument, nullptr, kOptStartDeadline},
    {"listen", required_argument, nullptr, kOptListen},
    {nullptr, 0, nullptr, 0},
};

// The base options, then the container ones (options_container.cc).
const std::vector<option>& AllOptions() {
  static const std::vector<option> all = [] {
    std::vector<option> v;
    for (const option* o = kBaseOptions; o->name; ++o) v.push_back(*o);
    for (const option* o = ContainerLongOptions(); o->name; ++o) v.push_back(*o);
    v.push_back({nullptr, 0, nullptr, 0});
    return v;
  }();
  return all;
}

// '+': stop at the first non-option (PROGRAM's own options are its business).
// ':': report a missing argument as ':' rather than '?'.
constexpr char kShortOptions[] = "+:e:qh";

struct CloneWord {
  const char* word;
  uint32_t flags;
};
constexpr CloneWord kCloneWords[] = {
    {"job", CAPSPAWN_CLONE_JOB},
    {"ldsvc", CAPSPAWN_DEFAULT_LDSVC},
    {"namespace", CAPSPAWN_CLONE_NAMESPACE},
    {"stdio", CAPSPAWN_CLONE_STDIO},
    {"environ", CAPSPAWN_CLONE_ENVIRON},
    {"utc-clock", CAPSPAWN_CLONE_UTC_CLOCK},
    {"all", CAPSPAWN_CLONE_ALL},
    {"none", 0},
};

// A whole string as an unsigned number (decimal, or hex with 0x) up to max.
bool ParseUnsigned(const std::string& text, uint64_t max, uint64_t* value) {
  if (text.empty() || text[0] == '-' || text[0] == '+' ||
      isspace(static_cast<unsigned char>(text[0])))
    return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = strtoull(text.c_str(), &end, 0);
  if (errno != 0 || *end != '\0' || v > max) return false;
  *value = v;
  return true;
}

// An fd number: decimal only (an fd is never written in hex).
bool ParseFdNumber(const std::string& text, int* fd) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
  errno = 0;
  long v = strtol(text.c_str(), nullptr, 10);
  if (errno != 0 || v > INT32_MAX) return false;
  *fd = static_cast<int>(v);
  return true;
}

// Splits "LEFT=RIGHT" at the first '='; both sides must be non-empty.
bool SplitPair(const std::string& text, std::string* left, std::string* right) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) return false;
  *left = text.substr(0, eq);
  *right = text.substr(eq + 1);
  return true;
}

bool ParseSeconds(const std::string& text, int64_t* ns) {
  if (text.empty() || isspace(static_cast<unsigned char>(text[0]))) return false;
  errno = 0;
  char* end = nullptr;
  double seconds = strtod(text.c_str(), &end);
  // A week in ns still fits easily; beyond ~292 years int64 ns overflows.
  if (errno != 0 || *end != '\0' || !std::isfinite(seconds) || seconds < 0 || seconds > 1e9)
    return false;
  *ns = static_cast<int64_t>(seconds * 1e9);
  return true;
}

// The option as the user most likely typed it, for messages.
std::string Spelled(const char* name, const char* arg) {
  std::string s = std::string("--") + name;
  if (arg != nullptr) s += std::string(" ") + arg;
  return s;
}

class Parser {
 public:
  Parser(int argc, char** argv) : argc_(argc), argv_(argv) {}

  ParseResult Parse() {
    optind = 0;  // 0, not 1: glibc then re-reads the '+' in the option string
    opterr = 0;  // we print our own messages, naming the subcommand
    int long_index = -1;
    int c;
    while ((c = getopt_long(argc_, argv_, kShortOptions, AllOptions().data(), &long_index)) != -1) {
      const char* name = LongName(c, long_index);
      long_index = -1;
      if (c == 'h') return Outcome(ParseResult::Outcome::kHelp);
      if (c == '?') return Usage(Rejected());
      if (c == ':')
        return Usage("option '" + std::string(argv_[optind - 1]) + "' needs an argument");
      if (!Handle(c, name, optarg)) return std::move(result_);
    }
    for (int i = optind; i < argc_; ++i) result_.options.command.emplace_back(argv_[i]);
    if (result_.options.command.empty()) return Usage("missing PROGRAM");
    const RunOptions& o = result_.options;
    if (!o.suspended &&
        (o.start_data_fd >= 0 || !o.start_data_file.empty() || o.start_deadline_ns > 0)) {
      return Usage("--start-data-fd, --start-data and --start-deadline need --suspended");
    }
    if (o.start_data_fd >= 0 && !o.start_data_file.empty()) {
      return Usage("give --start-data-fd or --start-data, not both");
    }
    result_.outcome = ParseResult::Outcome::kRun;
    return std::move(result_);
  }

 private:
  ParseResult Outcome(ParseResult::Outcome outcome) {
    result_.outcome = outcome;
    return std::move(result_);
  }
  ParseResult Usage(const std::string& error) {
    result_.outcome = ParseResult::Outcome::kUsageError;
    result_.error = error;
    return std::move(result_);
  }
  bool Fail(const std::string& error) {
    result_.outcome = ParseResult::Outcome::kUsageError;
    result_.error = error;
    return false;
  }

  static const char* LongName(int c, int long_index) {
    if (long_index >= 0) return AllOptions().data()[long_index].name;
    for (const option* o = AllOptions().data(); o->name != nullptr; ++o) {
      if (o->val == c) return o->name;
    }
    return "?";
  }

  // Why getopt answered '?'. glibc leaves optopt 0 for an unknown (or
  // ambiguous) long option, the option's value for a long option given an
  // argument it does not take, and the character for an unknown short option.
  std::string Rejected() const {
    std::string element = argv_[optind - 1];
    std::string spelled = element.substr(0, element.find('='));
    if (optopt == 0) return "unknown option '" + spelled + "'";
    if (optopt > 0xFF || strchr("eqh", optopt) != nullptr) {
      return "option '" + spelled + "' takes no argument";
    }
    return std::string("unknown option '-") + static_cast<char>(optopt) + "'";
  }

  bool Handle(int c, const char* name, const char* arg) {
    RunOptions& o = result_.options;
    std::string value = arg != nullptr ? arg : "";
    switch (c) {
      case kOptClone:
      case kOptNoClone: {
        uint32_t flags = 0;
        std::string bad;
        if (!ParseCloneList(value, &flags, &bad)) {
          return Fail("--" + std::string(name) + ": unknown word '" + bad +
                      "' (expected job, ldsvc, namespace, stdio, environ, utc-clock, all, none)");
        }
        if (c == kOptNoClone) {
          o.flags &= ~flags;
        } else if (!seen_clone_) {
          o.flags = flags;  // the first --clone replaces the default (all)
          o.clone_list = value;
        } else {
          o.flags |= flags;
        }
        seen_clone_ = seen_clone_ || c == kOptClone;
        return true;
      }
      case 'e': {
        size_t eq = value.find('=');
        if (eq == std::string::npos || eq == 0) {
          return Fail("--env '" + value + "': expected NAME=VALUE");
        }
        o.env.push_back({EnvOption::Kind::kSet, value});
        return true;
      }
      case kOptEnvFile:
        o.env.push_back({EnvOption::Kind::kFile, value});
        return true;
      case kOptUnsetEnv:
        if (value.empty() || value.find('=') != std::string::npos) {
          return Fail("--unset-env '" + value + "': expected a variable NAME");
        }
        o.env.push_back({EnvOption::Kind::kUnset, value});
        return true;
      case kOptClearEnv:
        o.env.push_back({EnvOption::Kind::kClear, ""});
        return true;
      case kOptFd:
      case kOptTransferFd:
        return AddFdAction(c == kOptFd ? CAPSPAWN_ACTION_CLONE_FD : CAPSPAWN_ACTION_TRANSFER_FD,
                           name, value);
      case kOptHandle: {
        std::string id_text, fd_text;
        ActionOption a;
        a.action = CAPSPAWN_ACTION_ADD_HANDLE;
        a.option = Spelled(name, arg);
        if (!SplitPair(value, &id_text, &fd_text)) {
          return Fail(a.option + ": expected ID=FD[,name=NAME]");
        }
        if (size_t comma = fd_text.find(','); comma != std::string::npos) {
          std::string suboption = fd_text.substr(comma + 1);
          fd_text.resize(comma);
          if (suboption.rfind("name=", 0) != 0) {
            return Fail(a.option + ": unknown '" + suboption + "' (expected name=NAME)");
          }
          a.name =
              suboption.substr(5);  // checked by the library (name rules: docs/startup-handles.md)
          if (a.name.empty()) return Fail(a.option + ": empty name");
        }
        if (!ParseHandleId(id_text, &a.id)) {
          return Fail(a.option + ": bad handle id '" + id_text +
                      "' (a number, or TYPE[.ARG]; see 'capspawn run --help')");
        }
        if (!ParseFdNumber(fd_text, &a.source_fd)) {
          return Fail(a.option + ": bad fd '" + fd_text + "'");
        }
        o.actions.push_back(std::move(a));
        return true;
      }
      case kOptName: {
        ActionOption a;
        a.action = CAPSPAWN_ACTION_SET_NAME;
        a.path = value;
        a.option = Spelled(name, arg);
        o.actions.push_back(std::move(a));
        return true;
      }
      case kOptNs:
      case kOptRoNs: {
        ActionOption a;
        a.action =
            c == kOptNs ? CAPSPAWN_ACTION_ADD_NS_ENTRY : CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY;
        a.option = Spelled(name, arg);
        if (!SplitPair(value, &a.path, &a.dir)) return Fail(a.option + ": expected PATH=DIR");
        o.actions.push_back(std::move(a));
        return true;
      }
      case kOptDir: {
        ActionOption a;
        a.action = CAPSPAWN_ACTION_CLONE_DIR;
        a.path = value;
        a.option = Spelled(name, arg);
        o.actions.push_back(std::move(a));
        return true;
      }
      case kOptJob:
        if (value.empty()) return Fail("--job: expected an fd number or a cgroup directory");
        o.job = value;
        return true;
      case kOptVmo:
        o.vmo = true;
        return true;
      case kOptTimeout:
        if (!ParseSeconds(value, &o.timeout_ns)) {
          return Fail("--timeout '" + value + "': expected a number of seconds");
        }
        if (o.timeout_ns == 0) o.timeout_ns = -1;  // as timeout(1): 0 disables it
        return true;
      case kOptPrintPid:
        o.print_pid = true;
        return true;
      case 'q':
        o.quiet = true;
        return true;
      case kOptLauncher:
        o.launcher = optarg;
        return true;
      case kOptLdsvc: {
        // PA_LDSVC_LOADER: the library directory, opened when spawning.
        ActionOption a;
        a.action = CAPSPAWN_ACTION_ADD_HANDLE;
        a.id = CAPSPAWN_PA_HND(CAPSPAWN_PA_LDSVC_LOADER, 0);
        a.dir = value;
        a.option = Spelled(name, arg);
        if (value.empty()) return Fail(a.option + ": expected a directory");
        o.actions.push_back(std::move(a));
        return true;
      }
      case kOptDevMinimal:
      case kOptProc:
      case kOptTmpfs: {
        ActionOption a;
        a.action = c == kOptDevMinimal ? CAPSPAWN_ACTION_ADD_NS_DEV_MINIMAL
                   : c == kOptProc     ? CAPSPAWN_ACTION_ADD_NS_PROC
                                       : CAPSPAWN_ACTION_ADD_NS_TMPFS;
        a.path = c == kOptDevMinimal ? "/dev" : c == kOptProc ? "/proc" : value;
        a.option = Spelled(name, arg);
        o.actions.push_back(std::move(a));
        return true;
      }
      case kOptSuspended:
        o.suspended = true;
        return true;
      case kOptStartDataFd:
        if (!ParseFdNumber(value, &o.start_data_fd)) {
          return Fail("--start-data-fd '" + value + "': expected an fd number");
        }
        return true;
      case kOptStartData:
        if (value.empty()) return Fail("--start-data: expected a FILE");
        o.start_data_file = value;
        return true;
      case kOptStartDeadline:
        if (!ParseSeconds(value, &o.start_deadline_ns) || o.start_deadline_ns == 0) {
          return Fail("--start-deadline '" + value + "': expected a number of seconds above 0");
        }
        return true;
      case kOptListen: {
        ActionOption a;
        a.action = CAPSPAWN_ACTION_ADD_HANDLE;
        a.option = Spelled(name, arg);
        a.listen = true;
        std::string why;
        if (!ParseListen(value, &a.address, &a.name, &a.id, &why)) {
          return Fail(a.option + ": " + why);
        }
        if (a.id == 0) a.id = CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, listen_count_);
        ++listen_count_;
        o.actions.push_back(std::move(a));
        return true;
      }
      default: {
        bool ok = true;
        std::string error;
        if (HandleContainerOption(c, name, value, &o, &ok, &error)) return ok || Fail(error);
        return Fail("unhandled option '--" + std::string(name) + "'");
      }
    }
  }

  bool AddFdAction(uint32_t action, const char* name, const std::string& value) {
    ActionOption a;
    a.action = action;
    a.option = Spelled(name, value.c_str());
    std::string target = value, source;
    size_t eq = value.find('=');
    if (eq != std::string::npos) {
      target = value.substr(0, eq);
      source = value.substr(eq + 1);
    } else if (action == CAPSPAWN_ACTION_CLONE_FD) {
      source = value;  // --fd N: capspawn's own fd N at the same number
    }
    if (!ParseFdNumber(target, &a.target_fd) || !ParseFdNumber(source, &a.source_fd)) {
      return Fail(a.option + (action == CAPSPAWN_ACTION_CLONE_FD
                                  ? ": expected TARGET=SRC or TARGET (fd numbers)"
                                  : ": expected TARGET=SRC (fd numbers)"));
    }
    result_.options.actions.push_back(std::move(a));
    return true;
  }

  int argc_;
  char** argv_;
  ParseResult result_;
  bool seen_clone_ = false;
  uint32_t listen_count_ = 0;  // --listen without id= gets user0.<its index among them>
};

}  // namespace

bool ParseCloneList(const std::string& list, uint32_t* flags, std::string* bad) {
  *flags = 0;
  size_t start = 0;
  while (true) {
    size_t comma = list.find(',', start);
    std::string word = list.substr(start, comma == std::string::npos ? comma : comma - start);
    bool known = false;
    for (const CloneWord& w : kCloneWords) {
      if (word == w.word) {
        *flags |= w.flags;
        known = true;
      }
    }
    if (!known) {
      *bad = word;
      return false;
    }
    if (comma == std::string::npos) return true;
    start = comma + 1;
  }
}

bool ParseHandleId(const std::string& text, uint32_t* id) {
  uint64_t number = 0;
  size_t dot = text.find('.');
  if (dot == std::string::npos && ParseUnsigned(text, UINT32_MAX, &number)) {
    *id = static_cast<uint32_t>(number);  // the whole id; the library checks reserved bits
    return true;
  }
  std::string type_text = text.substr(0, dot);
  uint64_t arg = 0;
  if (dot != std::string::npos && !ParseUnsigned(text.substr(dot + 1), 0xFFFF, &arg)) return false;
  uint64_t type = 0;
  if (!ParseUnsigned(type_text, 0xFF, &type)) {
    // A type name: ask the library, so the names are exactly those that
    // LISTEN_FDNAMES uses in the child.
    std::string name = type_text + ".0";
    uint32_t parsed = 0;
    if (type_text.empty() || type_text[0] == '0' ||
        capspawn_startup_handle_parse_name(name.data(), name.size(), &parsed) != 0) {
      return false;
    }
    type = CAPSPAWN_PA_TYPE(parsed);
  }
  *id = CAPSPAWN_PA_HND(type, arg);
  return true;
}

std::vector<std::string> HandleTypeNames() {
  std::vector<std::string> names;
  for (uint32_t type = 0; type <= 0xFF; ++type) {
    char buf[32];
    int len = capspawn_startup_handle_name(CAPSPAWN_PA_HND(type, 0), buf, sizeof(buf));
    if (len <= 2 || strncmp(buf, "0x", 2) == 0) continue;  // no name of its own
    std::string name(buf, len);
    names.push_back(name.substr(0, name.find('.')));
  }
  return names;
}

std::vector<std::string> CloneWords() {
  std::vector<std::string> words;
  for (const CloneWord& w : kCloneWords) words.emplace_back(w.word);
  return words;
}

ParseResult ParseRunOptions(int argc, char** argv) { return Parser(argc, argv).Parse(); }

const option* RunLongOptions() { return AllOptions().data(); }

const char* RunShortOptions() { return kShortOptions; }

}  // namespace capspawn::cli
