// SPDX-License-Identifier: Apache-2.0
// capspawn job: create, inspect and control jobs (cgroup v2 job trees) from the shell.
// See docs/jobs.md; each subcommand has --help.
#include <getopt.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <capspawn/job.h>

#include "commands.h"
#include "options_job.h"
#include "options_table.h"
#include "voice.h"

namespace {

using capspawn::Error;
using capspawn::Job;
using capspawn::JobInfo;
using capspawn::JobLimit;
using capspawn::NewProcessPolicy;
using capspawn::Result;
using capspawn::Status;
using capspawn::cli::JobCommand;
using capspawn::cli::kExitUsage;

constexpr char kJobHelp[] = R"(Usage: capspawn job COMMAND [OPTIONS] [JOB]

Jobs are cgroup v2 directories: a job's processes live in its leaf "procs/",
its child jobs beside it. JOB is a cgroup directory: an absolute path, a path
starting with ./ or ../, or a path relative to the default job (the cgroup
capspawn runs in). Without JOB, list and ps use the default job.

Commands:
  create [--deny-new-process] [LIMITS] JOB
                  create JOB (its parent must exist) and print its path
  list [-r] [JOB] list the child jobs (-r: the whole tree) with their state
  ps [JOB]        list the processes of the job tree: PID and command name
  kill [--timeout SECONDS] JOB
                  kill every process of the tree and wait until it is empty;
                  the job is then dead (no new processes or child jobs)
  freeze [--timeout SECONDS] JOB
                  stop every process of the tree and wait until all are stopped
  thaw JOB        resume the tree (a job whose ancestor is frozen stays frozen)
  limit JOB LIMITS
                  set resource limits of the tree
  policy JOB [allow|deny]
                  print or set the new-process policy (it only gets stricter,
                  and can only be set while the job has no process or child)
  destroy [--timeout SECONDS] JOB
                  kill the tree, then remove the job and its child jobs

LIMITS: --memory BYTES (suffix K, M, G; or max), --pids N (or max),
        --cpu CPUS (a fraction of CPUs such as 0.5 or 2; or max),
        --cpu-weight W (the share of CPU time, 1..10000; or default: 100).
        A limit needs its controller enabled in the parent's
        cgroup.subtree_control; otherwise the command says which is missing.

Each command that changes a job confirms it on stdout ("killed job PATH");
-q, --quiet keeps it silent. create prints the new job's path.

Exit status: 0 on success; 125 when the operation failed, with
"capspawn: STATUS: message" on stderr; 2 for a wrong command line.

Examples:
  capspawn job create --deny-new-process --pids 64 sandbox
  capspawn run --job sandbox -- /bin/sh -c 'echo $$'
  capspawn job ps sandbox
  capspawn job destroy sandbox
)";

int Usage(const char* command, const std::string& message) {
  return capspawn::cli::Usage(command ? std::string("job ") + command : std::string("job"),
                              message);
}

// "capspawn: STATUS: job COMMAND JOB: message".
int Fail(const char* command, const char* job, const Error& e) {
  std::string what = std::string("job ") + command + (job ? std::string(" ") + job : "");
  return capspawn::cli::Fail(e.status(), what + ": " + e.message());
}

// "VERB job PATH", the path as the library resolved it.
void Confirm(const char* verb, const Job& job, const std::string& typed,
             const std::string& detail = "") {
  Result<std::string> path = job.Path();
  capspawn::cli::Confirm(verb, "job " + (path.ok() ? *path : typed) + detail);
}

// The default job's path, or an error.
Result<std::string> DefaultPath() {
  Result<Job> def = Job::Default();
  if (!def.ok()) return def.error();
  return def->Path();
}

Result<std::string> ResolvePath(const std::string& arg) {
  if (arg.empty()) return Error(CAPSPAWN_ERR_INVALID_ARGS, "empty JOB");
  if (arg[0] == '/' || arg.rfind("./", 0) == 0 || arg.rfind("../", 0) == 0 || arg == "." ||
      arg == "..") {
    return arg;
  }
  Result<std::string> def = DefaultPath();
  if (!def.ok()) return def.error();
  return *def + "/" + arg;
}

Result<Job> OpenJob(const char* arg) {
  if (arg == nullptr) return Job::Default();
  Result<std::string> path = ResolvePath(arg);
  if (!path.ok()) return path.error();
  return Job::Open(*path);
}

bool ParseTimeout(const char* text, int64_t* out) {
  char* end = nullptr;
  errno = 0;
  double s = strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !(s >= 0) || s > 1e9) return false;
  *out = static_cast<int64_t>(s * 1e9);
  return true;
}

// "--memory 64M" -> bytes, "max" -> CAPSPAWN_JOB_UNLIMITED. A weight is
// 1..10000, or "default" (100, what CAPSPAWN_JOB_UNLIMITED sets).
bool ParseLimit(JobLimit limit, const char* text, int64_t* out) {
  if (limit == JobLimit::kCpuWeight) {
    if (strcmp(text, "default") == 0) {
      *out = CAPSPAWN_JOB_UNLIMITED;
      return true;
    }
    char* end = nullptr;
    errno = 0;
    long w = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || w < 1 || w > 10000) return false;
    *out = w;
    return true;
  }
  if (strcmp(text, "max") == 0) {
    *out = CAPSPAWN_JOB_UNLIMITED;
    return true;
  }
  char* end = nullptr;
  errno = 0;
  if (limit == JobLimit::kCpuMax) {
    double cpus = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(cpus > 0) || cpus > 1000) return false;
    *out = static_cast<int64_t>(std::llround(cpus * 1000));
    return true;
  }
  unsigned long long v = strtoull(text, &end, 10);
  if (errno != 0 || end == text || text[0] == '-') return false;
  unsigned long long scale = 1;
  if (limit == JobLimit::kMemoryMax && *end != '\0' && end[1] == '\0') {
    switch (*end) {
      case 'K':
      case 'k':
        scale = 1ULL << 10;
        break;
      case 'M':
      case 'm':
        scale = 1ULL << 20;
        break;
      case 'G':
      case 'g':
        scale = 1ULL << 30;
        break;
      default:
        return false;
    }
    ++end;
  }
  if (*end != '\0' || v > (1ULL << 62) / scale) return false;
  *out = static_cast<int64_t>(v * scale);
  return true;
}

struct Limits {
  std::vector<std::pair<JobLimit, int64_t>> items;
  std::string typed;  // " (--memory 64M --pids 10)", for the confirmation
};

// What a job subcommand's options said.
struct Args {
  Limits limits;
  bool deny = false;
  bool recursive = false;
  int64_t timeout_ns = -1;
  std::vector<const char*> operands;  // JOB [VALUE]
};

// Parses `capspawn job COMMAND`'s options with its table (options_job.cc);
// returns -1 to go on, else the exit code (help printed, or a usage error).
int Parse(const char* command, int argc, char** argv, const std::string& help, Args* args) {
  const JobCommand* table = capspawn::cli::FindJobCommand(command);
  opterr = 0;
  optind = 0;  // a full re-initialisation of getopt; options may follow JOB
  int c;
  while ((c = getopt_long(argc, argv, table->short_options, table->long_options, nullptr)) != -1) {
    switch (c) {
      case 'h':
        fputs(help.c_str(), stdout);
        return 0;
      case 'q':
        capspawn::cli::SetQuiet(true);
        break;
      case 'r':
        args->recursive = true;
        break;
      case capspawn::cli::kJobOptMemory:
      case capspawn::cli::kJobOptPids:
      case capspawn::cli::kJobOptCpu:
      case capspawn::cli::kJobOptCpuWeight: {
        JobLimit l = c == capspawn::cli::kJobOptMemory ? JobLimit::kMemoryMax
                     : c == capspawn::cli::kJobOptPids ? JobLimit::kPidsMax
                     : c == capspawn::cli::kJobOptCpu  ? JobLimit::kCpuMax
                                                       : JobLimit::kCpuWeight;
        int64_t v = 0;
        // "--cpu=0.5" is one word; "--cpu 0.5" two, the option before its value.
        const bool separate = optarg == argv[optind - 1] && optind >= 2 &&
                              std::string(argv[optind - 2]).find('=') == std::string::npos;
        std::string typed = separate ? argv[optind - 2] : argv[optind - 1];
        if (separate) typed += std::string(" ") + optarg;
        if (!ParseLimit(l, optarg, &v)) {
          return Usage(command, "bad value '" + std::string(optarg) + "' for " +
                                    typed.substr(0, typed.find_first_of(" =")));
        }
        args->limits.items.push_back({l, v});
        args->limits.typed += " " + typed;
        break;
      }
      case capspawn::cli::kJobOptDeny:
        args->deny = true;
        break;
      case capspawn::cli::kJobOptTimeout:
        if (!ParseTimeout(optarg, &args->timeout_ns)) {
          return Usage(command, std::string("--timeout '") + optarg + "': expected seconds");
        }
        break;
      default:
        return Usage(command, capspawn::cli::GetoptError(table->long_options, argv));
    }
  }
  for (int i = optind; i < argc; ++i) args->operands.push_back(argv[i]);
  return -1;
}

std::string HelpFor(const char* usage, const char* what) {
  return std::string("Usage: capspawn job ") + usage + "\n\n" + what +
         "  -h, --help          show this help and exit\n" +
         "\nJOB: a cgroup directory (absolute, ./ or ../ relative, or relative to the default "
         "job).\nExit status: 0 on success, 125 on failure (\"capspawn: STATUS: message\"), 2 "
         "for a wrong command line.\n";
}

constexpr char kQuietHelp[] = "  -q, --quiet         do not confirm on stdout\n";

Status ApplyLimits(const Job& job, const Limits& limits) {
  for (auto [limit, value] : limits.items) {
    if (Status s = job.SetLimit(limit, value); !s.ok()) return s;
  }
  return {};
}

int Create(int argc, char** argv) {
  const std::string help = HelpFor(
      "create [--deny-new-process] [--memory BYTES] [--pids N] [--cpu CPUS] [--cpu-weight W] "
      "JOB",
      "Creates JOB as a child of its parent directory, which must be a cgroup, and prints\n"
      "its path. The new job inherits its parent's new-process policy.\n\n"
      "  --deny-new-process  its processes (and theirs) cannot fork: set before any process\n"
      "  --memory BYTES      memory.max (K, M, G suffixes; max)\n"
      "  --pids N            pids.max: processes and threads (max)\n"
      "  --cpu CPUS          cpu.max as a number of CPUs, e.g. 0.5 (max)\n"
      "  --cpu-weight W      cpu.weight, the share of CPU time: 1..10000 (default: 100)\n"
      "  -q, --quiet         do not print the path\n"
      "If a step fails, the new job is removed again.\n");
  Args a;
  if (int rc = Parse("create", argc, argv, help, &a); rc >= 0) return rc;
  if (a.operands.size() != 1) return Usage("create", "expects exactly one JOB");
  const char* typed = a.operands[0];
  Result<std::string> path = ResolvePath(typed);
  if (!path.ok()) return Fail("create", typed, path.error());
  std::string p = *path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  std::string parent_path =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : p.substr(0, slash));
  std::string name = slash == std::string::npos ? p : p.substr(slash + 1);
  Result<Job> parent = Job::Open(parent_path);
  if (!parent.ok()) return Fail("create", typed, parent.error());
  Result<Job> job = parent->CreateChild(name);
  if (!job.ok()) return Fail("create", typed, job.error());
  Status s = a.deny ? job->SetNewProcessPolicy(NewProcessPolicy::kDeny) : Status();
  if (s.ok()) s = ApplyLimits(*job, a.limits);
  if (!s.ok()) {
    (void)job->Destroy(-1);
    return Fail("create", typed, s.error());
  }
  Result<std::string> made = job->Path();
  if (!capspawn::cli::Quiet()) printf("%s\n", made.ok() ? made->c_str() : p.c_str());
  return 0;
}

void PrintTree(const Job& job, const std::string& prefix, bool recursive) {
  Result<std::vector<std::string>> children = job.Children();
  if (!children.ok()) {
    capspawn::cli::Report(children.error().status(),
                          "job list " + prefix + ": " + children.error().message());
    return;
  }
  for (const std::string& name : *children) {
    Result<Job> child = job.OpenChild(name);
    if (!child.ok()) continue;
    Result<JobInfo> info = child->Info();
    Result<std::vector<pid_t>> pids = child->Processes();
    std::string state = "-";
    if (info.ok()) {
      state = info->killed      ? "killed"
              : info->frozen    ? "frozen"
              : info->populated ? "running"
                                : "empty";
    }
    printf("%-40s %-8s %-6s %zu\n", (prefix + name).c_str(), state.c_str(),
           info.ok() && info->new_process == NewProcessPolicy::kDeny ? "deny" : "allow",
           pids.ok() ? pids->size() : 0);
    if (recursive) PrintTree(*child, prefix + name + "/", true);
  }
}

int List(int argc, char** argv) {
  const std::string help =
      HelpFor("list [-r|--recursive] [JOB]",
              "Lists the child jobs of JOB (default: the default job): name, state (running,\n"
              "empty, frozen, killed), new-process policy and number of processes of its tree.\n"
              "  -r, --recursive  the whole tree, as paths relative to JOB\n");
  Args a;
  if (int rc = Parse("list", argc, argv, help, &a); rc >= 0) return rc;
  if (a.operands.size() > 1) return Usage("list", "expects at most one JOB");
  const char* typed = a.operands.empty() ? nullptr : a.operands[0];
  Result<Job> job = OpenJob(typed);
  if (!job.ok()) return Fail("list", typed, job.error());
  if (Result<std::vector<std::string>> c = job->Children(); !c.ok()) {
    return Fail("list", typed, c.error());
  }
  printf("%-40s %-8s %-6s %s\n", "JOB", "STATE", "POLICY", "PROCESSES");
  PrintTree(*job, "", a.recursive);
  return 0;
}

int Ps(int argc, char** argv) {
  const std::string help = HelpFor(
      "ps [JOB]", "Lists the processes of JOB's tree (default: the default job): PID and name.\n");
  Args a;
  if (int rc = Parse("ps", argc, argv, help, &a); rc >= 0) return rc;
  if (a.operands.size() > 1) return Usage("ps", "expects at most one JOB");
  const char* typed = a.operands.empty() ? nullptr : a.operands[0];
  Result<Job> job = OpenJob(typed);
  if (!job.ok()) return Fail("ps", typed, job.error());
  Result<std::vector<pid_t>> pids = job->Processes();
  if (!pids.ok()) return Fail("ps", typed, pids.error());
  printf("%7s %s\n", "PID", "COMMAND");
  for (pid_t pid : *pids) {
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    if (!std::getline(comm, name)) name = "?";
    printf("%7d %s\n", pid, name.c_str());
  }
  return 0;
}

// kill, freeze, destroy: JOB with an optional --timeout.
int WithTimeout(const char* command, int argc, char** argv, const char* what, const char* done,
                Status (Job::*op)(int64_t) const) {
  const std::string help = HelpFor((std::string(command) + " [--timeout SECONDS] [-q] JOB").c_str(),
                                   (std::string(what) + kQuietHelp).c_str());
  Args a;
  if (int rc = Parse(command, argc, argv, help, &a); rc >= 0) return rc;
  if (a.operands.size() != 1) return Usage(command, "expects exactly one JOB");
  Result<Job> job = OpenJob(a.operands[0]);
  if (!job.ok()) return Fail(command, a.operands[0], job.error());
  Result<std::string> path = job->Path();  // read before destroy removes it
  Status s = ((*job).*op)(a.timeout_ns);
  if (!s.ok()) return Fail(command, a.operands[0], s.error());
  capspawn::cli::Confirm(done, "job " + (path.ok() ? *path : std::string(a.operands[0])));
  return 0;
}

int Thaw(int argc, char** argv) {
  const std::string help =
      HelpFor("thaw [-q] JOB",
              (std::string("Withdraws JOB's freeze: its processes run again, unless an ancestor "
                           "job is frozen too.\n") +
               kQuietHelp)
                  .c_str());
  Args a;
  if (int rc = Parse("thaw", argc, argv, help, &a); rc >= 0) return rc;
  if (a.operands.size() != 1) return Usage("thaw", "expects exactly one JOB");
  Result<Job> job = OpenJob(a.operands[0]);
  if (!job.ok()) return Fail("thaw", a.operands[0], job.error());
  Status s = job->Thaw();
  if (!s.ok()) return Fail("thaw", a.operands[0], s.error());
  Confirm("thawed", *job, a.operands[0]);
  return 0;
}

int Limit(int argc, char** argv) {
  const std::string help =
      HelpFor("limit JOB [--memory BYTES] [--pids N] [--cpu CPUS] [--cpu-weight W] [-q]",
              "Sets resource limits of JOB's tree. Each needs its controller (memory, pids, cpu)\n"
              "in the parent's cgroup.subtree_control: capspawn enables it in parents that are\n"
              "capspawn jobs, and says NOT_SUPPORTED, naming the controller, elsewhere.\n"
              "  --memory BYTES  memory.max (K, M, G suffixes; max)\n"
              "  --pids N        pids.max: processes and threads (max)\n"
              "  --cpu CPUS      cpu.max as a number of CPUs, e.g. 0.5 (max)\n"
              "  --cpu-weight W  cpu.weight, the share of CPU time: 1..10000 (default: 100)\n"
              "  -q, --quiet     do not confirm on stdout\n");
  Args a;
  if (int rc = Parse("limit", argc, argv, help, &a); rc >= 0) return rc;
  if (a.operands.size() != 1) return Usage("limit", "expects exactly one JOB");
  if (a.limits.items.empty())
    return Usage("limit", "expects --memory, --pids, --cpu or --cpu-weight");
  Result<Job> job = OpenJob(a.operands[0]);
  if (!job.ok()) return Fail("limit", a.operands[0], job.error());
  Status s = ApplyLimits(*job, a.limits);
  if (!s.ok()) return Fail("limit", a.operands[0], s.error());
  Confirm("limited", *job, a.operands[0], ":" + a.limits.typed);
  return 0;
}

int Policy(int argc, char** argv) {
  const std::string help =
      HelpFor("policy JOB [allow|deny] [-q]",
              "Prints JOB's new-process policy, or sets it. Under deny, processes started in the\n"
              "job and their descendants cannot fork, vfork or clone (EPERM; clone3: ENOSYS);\n"
              "threads still work. Child jobs inherit it; it only gets stricter (allow on a deny\n"
              "job is ACCESS_DENIED) and can only change while the job has no process or child\n"
              "job (BAD_STATE).\n"
              "  -q, --quiet     do not confirm a change on stdout\n");
  Args a;
  if (int rc = Parse("policy", argc, argv, help, &a); rc >= 0) return rc;
  if (a.operands.empty() || a.operands.size() > 2) {
    return Usage("policy", "expects JOB [allow|deny]");
  }
  NewProcessPolicy p = NewProcessPolicy::kAllow;
  const bool set = a.operands.size() == 2;
  if (set) {
    const char* value = a.operands[1];
    if (strcmp(value, "deny") == 0) {
      p = NewProcessPolicy::kDeny;
    } else if (strcmp(value, "allow") != 0) {
      return Usage("policy", std::string("policy '") + value + "' is neither allow nor deny");
    }
  }
  Result<Job> job = OpenJob(a.operands[0]);
  if (!job.ok()) return Fail("policy", a.operands[0], job.error());
  if (!set) {
    Result<NewProcessPolicy> current = job->GetNewProcessPolicy();
    if (!current.ok()) return Fail("policy", a.operands[0], current.error());
    printf("new-process %s\n", *current == NewProcessPolicy::kDeny ? "deny" : "allow");
    return 0;
  }
  Status s = job->SetNewProcessPolicy(p);
  if (!s.ok()) return Fail("policy", a.operands[0], s.error());
  Confirm(p == NewProcessPolicy::kDeny ? "set new-process deny on" : "set new-process allow on",
          *job, a.operands[0]);
  return 0;
}

}  // namespace

int CmdJob(int argc, char** argv) {
  if (argc < 2) {
    fputs(kJobHelp, stderr);
    return kExitUsage;
  }
  const std::string sub = argv[1];
  if (sub == "--help" || sub == "-h" || sub == "help") {
    fputs(kJobHelp, stdout);
    return 0;
  }
  // The subcommand sees itself as argv[0].
  argc -= 1;
  argv += 1;
  if (sub == "create") return Create(argc, argv);
  if (sub == "list") return List(argc, argv);
  if (sub == "ps") return Ps(argc, argv);
  if (sub == "kill") {
    return WithTimeout("kill", argc, argv,
                       "Kills every process of JOB's tree (cgroup.kill) and waits until it is\n"
                       "empty. JOB and its child jobs are then dead: spawning into them or\n"
                       "creating child jobs is BAD_STATE. Processes outside JOB are untouched.\n"
                       "  --timeout SECONDS  give up waiting (TIMED_OUT) after this long\n",
                       "killed", &Job::Kill);
  }
  if (sub == "freeze") {
    return WithTimeout("freeze", argc, argv,
                       "Freezes every process of JOB's tree (cgroup.freeze) and waits until\n"
                       "all are frozen. 'capspawn job thaw' resumes them.\n"
                       "  --timeout SECONDS  give up waiting (TIMED_OUT) after this long\n",
                       "froze", &Job::Freeze);
  }
  if (sub == "destroy") {
    return WithTimeout("destroy", argc, argv,
                       "Kills JOB's tree, then removes JOB and its child jobs, bottom-up.\n"
                       "Only jobs capspawn created can be destroyed (WRONG_TYPE otherwise).\n"
                       "  --timeout SECONDS  give up waiting (TIMED_OUT) after this long\n",
                       "destroyed", &Job::Destroy);
  }
  if (sub == "thaw") return Thaw(argc, argv);
  if (sub == "limit") return Limit(argc, argv);
  if (sub == "policy") return Policy(argc, argv);
  return Usage(nullptr, "unknown command '" + sub + "'");
}
