// SPDX-License-Identifier: Apache-2.0
// capspawn elf: says what a file is (executable, PIE, static PIE, shared
// library, not ELF), in words, with the exit status docs/elf.md gives.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "cli_runner.h"

namespace capspawn::cli_test {
namespace {

#if CAPSPAWN_CLI_HAVE_ELF

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string Line(const std::string& out, const std::string& key) {
  size_t at = out.find(key);
  if (at == std::string::npos) return "";
  size_t end = out.find('\n', at);
  return out.substr(at, end - at);
}

// A file under /tmp holding `bytes`, removed at the end.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& bytes) {
    char name[] = "/tmp/capspawn-cli-elf-XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    close(fd);
    path = name;
  }
  ~TempFile() { unlink(path.c_str()); }
};

TEST(CliElf, SaysWhatTheFileIs) {
  struct Case {
    const char* path;
    const char* kind;
    int exit_code;
  };
  const Case cases[] = {
      {"/bin/true", "kind:          PIE (position-independent executable", 0},
      {"/bin/busybox", "kind:          executable (loaded at fixed addresses, statically linked)",
       0},
      {CAPSPAWN_TEST_STATIC_PIE, "kind:          static PIE", 0},
      {"/lib/x86_64-linux-gnu/libc.so.6", "kind:          shared library (soname libc.so.6)", 0},
      // A library whose entry point is 0 is not a program: exit 1.
      {"/lib/x86_64-linux-gnu/libz.so.1", "kind:          shared library (soname libz.so.1)", 1},
  };
  for (const Case& c : cases) {
    if (access(c.path, R_OK) != 0) {
      ADD_FAILURE() << c.path << " is missing on this host";
      continue;
    }
    CliResult r = RunCli({"elf", c.path});
    EXPECT_EQ(r.exit_code, c.exit_code) << c.path << ": " << r.err;
    EXPECT_EQ(Line(r.out, "kind:").rfind(c.kind, 0), 0u) << c.path << "\n" << r.out;
  }
  CliResult lib = RunCli({"elf", "/lib/x86_64-linux-gnu/libz.so.1"});
  EXPECT_TRUE(Contains(lib.out, "runnable:      no (its entry point is 0")) << lib.out;
  CliResult libc = RunCli({"elf", "/lib/x86_64-linux-gnu/libc.so.6"});
  EXPECT_TRUE(Contains(libc.out, "runnable:      yes")) << libc.out;
  CliResult t = RunCli({"elf", "/bin/true"});
  EXPECT_TRUE(Contains(t.out, "needed:        libc.so.6")) << t.out;
}

// A file that is not ELF is said to be so, with what it is instead; the
// exit status is 1 and the status a spawn of it would give is named.
TEST(CliElf, NotElfIsSaidInWords) {
  TempFile text("hello, I am text\n");
  CliResult r = RunCli({"elf", text.path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "capspawn elf: " + text.path +
                       " is not an ELF file: it starts with \"hell\", not \"\\x7fELF\" (a spawn "
                       "of it fails with INTERNAL)\n");
  TempFile script("#!/bin/sh\necho hi\n");
  r = RunCli({"elf", script.path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "it is a '#!' script (\"#!/bin/sh\")")) << r.err;
  TempFile empty("");
  r = RunCli({"elf", empty.path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "it is empty (a spawn of it fails with OUT_OF_RANGE)")) << r.err;
  r = RunCli({"elf", "--json", text.path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.out,
                       "\"kind\":\"not ELF\",\"status\":\"NOT_FOUND\","
                       "\"spawn_status\":\"INTERNAL\""))
      << r.out;
}

// An ELF file capspawn refuses names the rule; a file it cannot open is a
// capspawn failure (125), as for 'capspawn run'.
TEST(CliElf, RefusedAndUnreadable) {
  std::string elf;
  {
    FILE* f = fopen("/bin/busybox", "rb");
    ASSERT_NE(f, nullptr);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    elf.assign(buf, n);
  }
  TempFile truncated(elf.substr(0, 40));
  CliResult r = RunCli({"elf", truncated.path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err,
                       "is an ELF file that capspawn does not run: the ELF header needs 64 "
                       "bytes, the file has 40: truncated (a spawn of it fails with "
                       "OUT_OF_RANGE)"))
      << r.err;
  r = RunCli({"elf", "/nonexistent/file"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.err, "capspawn: NOT_FOUND: open /nonexistent/file: No such file or directory\n");
  r = RunCli({"elf", "/dev/null"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_TRUE(Contains(r.err, "capspawn: NOT_FILE: ")) << r.err;
}

// JSON: addresses are hex strings, as in 'capspawn run --suspended'.
TEST(CliElf, JsonAddressesAreHexStrings) {
  CliResult r = RunCli({"elf", "--json", "/bin/busybox"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "\"kind\":\"executable\",\"runnable\":true")) << r.out;
  EXPECT_TRUE(Contains(r.out, "\"entry\":\"0x")) << r.out;
  EXPECT_TRUE(Contains(r.out, "\"vaddr\":\"0x")) << r.out;
  EXPECT_TRUE(Contains(r.out, "\"dynamic\":null")) << r.out;
}

#endif  // CAPSPAWN_CLI_HAVE_ELF

}  // namespace
}  // namespace capspawn::cli_test
