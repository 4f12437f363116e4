// SPDX-License-Identifier: Apache-2.0
// The C API's exception barrier: every extern "C" entry, made to throw by the
// api component's test hook, answers what docs/architecture.md promises for
// its kind instead of letting the exception cross into C:
// - status entries: NO_MEMORY for std::bad_alloc, INTERNAL for any other
//   exception, and the message in the error buffer when they take one;
// - int and const char* entries: their failure value, errno ENOMEM or
//   ENOTRECOVERABLE (which capspawn_status_from_errno maps back).
#include <capspawn/container.h>
#include <capspawn/job.h>
#include <capspawn/processargs.h>
#include <capspawn/spawn.h>
#include <capspawn/start.h>
#include <capspawn/startup.h>
#include <capspawn/status.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/barrier.h"

namespace {

enum class Throw { kBadAlloc, kStd, kOther };

int g_calls = 0;
Throw g_throw = Throw::kBadAlloc;

void ThrowingHook() {
  ++g_calls;
  switch (g_throw) {
    case Throw::kBadAlloc:
      throw std::bad_alloc();
    case Throw::kStd:
      throw std::runtime_error("a test's exception");
    case Throw::kOther:
      throw 7;
  }
}

// Sets the hook for one call; the hook is cleared again before the test
// looks at the answer (capspawn_status_from_errno is an entry too).
class Throwing {
 public:
  explicit Throwing(Throw kind) {
    g_calls = 0;
    g_throw = kind;
    capspawn::api::g_entry_hook.store(&ThrowingHook);
  }
  ~Throwing() { capspawn::api::g_entry_hook.store(nullptr); }
};

struct StatusEntry {
  const char* name;
  bool has_buffer;
  // Arguments chosen so that, without the hook, the entry fails early with a
  // status of its own (INVALID_ARGS, BAD_HANDLE...) or succeeds without
  // creating anything.
  std::function<capspawn_status_t(char* err)> call;
};

std::vector<StatusEntry> StatusEntries() {
  static int out;
  static pid_t pids[1];
  static char names[1];
  static uint32_t action;
  static int64_t code;
  return {
      {"capspawn_spawn", false,
       [](char*) { return capspawn_spawn(-1, 0, nullptr, nullptr, &out); }},
      {"capspawn_spawn_etc", true,
       [](char* e) {
         return capspawn_spawn_etc(-1, 0, nullptr, nullptr, nullptr, 0, nullptr, &out, e);
       }},
      {"capspawn_spawn_vmo", true,
       [](char* e) {
         return capspawn_spawn_vmo(-1, 0, -1, nullptr, nullptr, 0, nullptr, &out, e);
       }},
      {"capspawn_create_without_starting", true,
       [](char* e) {
         return capspawn_create_without_starting(-1, 0, "/bin/true", -1, nullptr, nullptr, 0,
                                                 nullptr, nullptr, e);
       }},
      {"capspawn_start", false, [](char*) { return capspawn_start(-1); }},
      {"capspawn_process_wait", false, [](char*) { return capspawn_process_wait(-1, 0, &code); }},
      {"capspawn_process_kill", false, [](char*) { return capspawn_process_kill(-1); }},
      {"capspawn_status_from_errno", false, [](char*) { return capspawn_status_from_errno(0); }},
      {"capspawn_job_default", true, [](char* e) { return capspawn_job_default(nullptr, e); }},
      {"capspawn_job_open", true, [](char* e) { return capspawn_job_open(nullptr, &out, e); }},
      {"capspawn_job_create", true, [](char* e) { return capspawn_job_create(-1, "x", &out, e); }},
      {"capspawn_job_open_child", true,
       [](char* e) { return capspawn_job_open_child(-1, "x", &out, e); }},
      {"capspawn_job_get_processes", true,
       [](char* e) { return capspawn_job_get_processes(-1, pids, 1, nullptr, nullptr, e); }},
      {"capspawn_job_get_children", true,
       [](char* e) { return capspawn_job_get_children(-1, names, 1, nullptr, nullptr, e); }},
      {"capspawn_job_kill", true, [](char* e) { return capspawn_job_kill(-1, 0, e); }},
      {"capspawn_job_freeze", true, [](char* e) { return capspawn_job_freeze(-1, 0, e); }},
      {"capspawn_job_thaw", true, [](char* e) { return capspawn_job_thaw(-1, e); }},
      {"capspawn_job_set_policy", true,
       [](char* e) {
         return capspawn_job_set_policy(-1, CAPSPAWN_JOB_POL_NEW_PROCESS,
                                        CAPSPAWN_JOB_POL_ACTION_DENY, e);
       }},
      {"capspawn_job_get_policy", true,
       [](char* e) {
         return capspawn_job_get_policy(-1, CAPSPAWN_JOB_POL_NEW_PROCESS, &action, e);
       }},
      {"capspawn_job_set_limit", true,
       [](char* e) { return capspawn_job_set_limit(-1, CAPSPAWN_JOB_LIMIT_MEMORY_MAX, 1, e); }},
      {"capspawn_job_destroy", true, [](char* e) { return capspawn_job_destroy(-1, 0, e); }},
  };
}

struct IntEntry {
  const char* name;
  std::function<int()> call;
  // What the entry answers without the hook (-1 for the take functions: no
  // handle was handed to this process, so only errno tells the barrier's -1).
  int normal;
};

std::vector<IntEntry> IntEntries() {
  static char buf[32];
  return {
      {"capspawn_take_startup_handle",
       [] { return capspawn_take_startup_handle(CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 1)); }, -1},
      {"capspawn_take_startup_handle_by_name",
       [] { return capspawn_take_startup_handle_by_name("none"); }, -1},
      {"capspawn_startup_handle_name",
       [] { return capspawn_startup_handle_name(CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 3), buf, 32); }, 4},
      {"capspawn_startup_handle_parse_name",
       [] {
         uint32_t id;
         return capspawn_startup_handle_parse_name("fd.3", 4, &id);
       },
       0},
      {"capspawn_capability_from_name", [] { return capspawn_capability_from_name("CAP_KILL"); },
       5},
      {"capspawn_capability_last", [] { return capspawn_capability_last(); },
       capspawn_capability_last()},
  };
}

struct StringEntry {
  const char* name;
  std::function<const char*()> call;
  const char* normal;
  const char* failure;  // nullptr: NULL
};

std::vector<StringEntry> StringEntries() {
  return {
      {"capspawn_status_string", [] { return capspawn_status_string(CAPSPAWN_OK); }, "CAPSPAWN_OK",
       "(UNKNOWN)"},
      {"capspawn_capability_name", [] { return capspawn_capability_name(0); }, "CAP_CHOWN",
       nullptr},
  };
}

struct Case {
  Throw kind;
  capspawn_status_t status;
  const char* message;
  int err;
};

const Case kCases[] = {
    {Throw::kBadAlloc, CAPSPAWN_ERR_NO_MEMORY, "out of memory", ENOMEM},
    {Throw::kStd, CAPSPAWN_ERR_INTERNAL, "internal error: a test's exception", ENOTRECOVERABLE},
    {Throw::kOther, CAPSPAWN_ERR_INTERNAL, "internal error: an unknown exception", ENOTRECOVERABLE},
};

TEST(ApiBarrier, EveryEntryIsListedHere) {
  // 21 status entries, 6 int, 2 const char*: the 29 capspawn_* functions of
  // include/capspawn/ (abi.exports checks that the library exports exactly those).
  EXPECT_EQ(StatusEntries().size() + IntEntries().size() + StringEntries().size(), 29u);
}

TEST(ApiBarrier, StatusEntriesAnswerTheExceptionsStatusAndMessage) {
  for (const StatusEntry& entry : StatusEntries()) {
    char err[CAPSPAWN_ERR_MSG_MAX_LENGTH];
    const capspawn_status_t normal = entry.call(err);
    for (const Case& c : kCases) {
      SCOPED_TRACE(std::string(entry.name) + ", " + c.message);
      ASSERT_NE(normal, c.status) << "these arguments cannot tell the barrier's answer";
      std::memset(err, 'x', sizeof err);
      err[sizeof err - 1] = '\0';
      capspawn_status_t status;
      {
        Throwing hook(c.kind);
        status = entry.call(err);
      }
      EXPECT_EQ(g_calls, 1);
      EXPECT_EQ(status, c.status) << capspawn_status_string(status);
      if (entry.has_buffer) {
        EXPECT_STREQ(err, c.message);
      }
    }
  }
}

TEST(ApiBarrier, IntEntriesAnswerMinusOneAndErrno) {
  for (const IntEntry& entry : IntEntries()) {
    errno = 0;
    EXPECT_EQ(entry.call(), entry.normal) << entry.name;
    for (const Case& c : kCases) {
      SCOPED_TRACE(std::string(entry.name) + ", " + c.message);
      int answer, err;
      {
        Throwing hook(c.kind);
        errno = 0;
        answer = entry.call();
        err = errno;
      }
      EXPECT_EQ(g_calls, 1);
      EXPECT_EQ(answer, -1);
      EXPECT_EQ(err, c.err) << std::strerror(err);
      EXPECT_EQ(capspawn_status_from_errno(err), c.status);
    }
  }
}

TEST(ApiBarrier, StringEntriesAnswerTheirStaticFailureAndErrno) {
  for (const StringEntry& entry : StringEntries()) {
    EXPECT_STREQ(entry.call(), entry.normal) << entry.name;
    for (const Case& c : kCases) {
      SCOPED_TRACE(std::string(entry.name) + ", " + c.message);
      const char* answer;
      int err;
      {
        Throwing hook(c.kind);
        errno = 0;
        answer = entry.call();
        err = errno;
      }
      EXPECT_EQ(g_calls, 1);
      if (entry.failure == nullptr) {
        EXPECT_EQ(answer, nullptr);
      } else {
        EXPECT_STREQ(answer, entry.failure);
      }
      EXPECT_EQ(err, c.err) << std::strerror(err);
    }
  }
}

}  // namespace
