// SPDX-License-Identifier: Apache-2.0
// Every regular ELF file under /usr/bin and /usr/lib that capspawn accepts
// must look the same to capspawn as to binutils' readelf: type, machine,
// entry, interpreter, every program header field, and the dynamic section's
// DT_NEEDED, DT_SONAME, DT_RUNPATH and DT_RPATH strings. Files that are not ELF,
// are 32-bit or for another machine are skipped; files capspawn rejects are
// counted and listed by reason. readelf runs on batches of files, on two
// threads, so the whole tree takes seconds.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <capspawn/elf.h>
#include <capspawn/fd.h>

extern char** environ;

namespace capspawn::elf {
namespace {

constexpr size_t kBatchSize = 64;

struct Accepted {
  std::string path;
  ElfHeaders headers;
  std::optional<DynamicInfo> dynamic;  // none: no PT_DYNAMIC
  std::string dynamic_error;           // why a PT_DYNAMIC could not be read
};

struct Census {
  size_t files = 0, not_elf = 0, unreadable = 0, elf32 = 0, foreign = 0;
  std::vector<Accepted> accepted;
  // Rejection reason (numbers blanked) -> count and one example.
  std::map<std::string, std::pair<size_t, std::string>> rejected;
  size_t rejected_total = 0;
};

std::string BlankNumbers(const std::string& m) {
  auto digit = [&m](size_t i, bool hex) {
    const auto c = static_cast<unsigned char>(m[i]);
    return hex ? isxdigit(c) != 0 : isdigit(c) != 0;
  };
  std::string out;
  for (size_t i = 0; i < m.size();) {
    const bool hex = m.compare(i, 2, "0x") == 0;
    if (!hex && !digit(i, false)) {
      out += m[i++];
      continue;
    }
    if (hex) i += 2;
    while (i < m.size() && digit(i, hex)) ++i;
    out += 'N';
  }
  return out;
}

void Classify(const std::filesystem::path& path, Census& census, bool use_prefix) {
  ++census.files;
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd.valid()) {
    ++census.unreadable;
    return;
  }
  uint8_t head[4096];
  ssize_t n = pread(fd.get(), head, use_prefix ? sizeof(head) : EI_NIDENT + 4, 0);
  if (n < 0) {
    ++census.unreadable;
    return;
  }
  if (n < EI_NIDENT + 4 || std::memcmp(head, ELFMAG, SELFMAG) != 0) {
    ++census.not_elf;
    return;
  }
  if (head[EI_CLASS] == ELFCLASS32) {
    ++census.elf32;
    return;
  }
  uint16_t machine;
  std::memcpy(&machine, head + offsetof(Elf64_Ehdr, e_machine), sizeof(machine));
  if (head[EI_DATA] != ELFDATA2LSB || machine != kHostMachine) {
    ++census.foreign;
    return;
  }
  std::span<const uint8_t> prefix;
  if (use_prefix) prefix = std::span<const uint8_t>(head, static_cast<size_t>(n));
  Result<ElfHeaders> h = ParseHeaders(fd.get(), prefix);
  if (!h.ok()) {
    ++census.rejected_total;
    auto& [count, example] = census.rejected[BlankNumbers(h.error().message())];
    if (count++ == 0) example = path.string();
    return;
  }
  Accepted a{path.string(), std::move(h.value()), std::nullopt, ""};
  if (a.headers.FindProgramHeader(PT_DYNAMIC)) {
    Result<DynamicInfo> d = ReadDynamicInfo(fd.get(), a.headers);
    if (d.ok()) {
      a.dynamic = std::move(d.value());
    } else {
      a.dynamic_error = d.error().message();
    }
  }
  census.accepted.push_back(std::move(a));
}

Census Walk(const std::vector<std::string>& roots) {
  namespace fs = std::filesystem;
  Census census;
  bool use_prefix = false;
  for (const std::string& root : roots) {
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code sec;
      if (it->symlink_status(sec).type() != fs::file_type::regular || sec) continue;
      if (it->path().native().find('\n') != std::string::npos) continue;
      // Alternate between the two ways the spawn path calls the parser.
      use_prefix = !use_prefix;
      Classify(it->path(), census, use_prefix);
    }
  }
  return census;
}

// What readelf -lhW says about one file.
struct ReadelfView {
  std::string type, machine;
  std::optional<uint64_t> entry;
  struct Segment {
    uint32_t type = 0;
    uint64_t offset = 0, vaddr = 0, paddr = 0, filesz = 0, memsz = 0, align = 0;
    std::string flags;  // "RE", "RW"...: readelf's letters without the spaces
  };
  std::vector<Segment> segments;
  std::optional<std::string> interp;
  std::vector<std::string> needed;
  std::optional<std::string> soname, runpath, rpath;
  std::vector<std::string> unparsed;
};

// "... (NEEDED)   Shared library: [libc.so.6]" -> "libc.so.6".
std::optional<std::string> Bracketed(const std::string& line, const std::string& tag) {
  if (line.find(tag) == std::string::npos) return std::nullopt;
  const size_t open = line.find('[');
  const size_t close = line.rfind(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  return line.substr(open + 1, close - open - 1);
}

std::optional<uint32_t> SegmentTypeFromReadelf(const std::string& name) {
  static const std::map<std::string, uint32_t> kNames = {
      {"NULL", PT_NULL},          {"LOAD", PT_LOAD},         {"DYNAMIC", PT_DYNAMIC},
      {"INTERP", PT_INTERP},      {"NOTE", PT_NOTE},         {"SHLIB", PT_SHLIB},
      {"PHDR", PT_PHDR},          {"TLS", PT_TLS},           {"GNU_EH_FRAME", 0x6474e550},
      {"GNU_STACK", 0x6474e551},  {"GNU_RELRO", 0x6474e552}, {"GNU_PROPERTY", 0x6474e553},
      {"GNU_SFRAME", 0x6474e554},
  };
  if (auto it = kNames.find(name); it != kNames.end()) return it->second;
  for (auto [prefix, base] : {std::pair<const char*, uint32_t>{"LOOS+", PT_LOOS},
                              std::pair<const char*, uint32_t>{"LOPROC+", PT_LOPROC}}) {
    if (name.rfind(prefix, 0) == 0) {
      return base + static_cast<uint32_t>(std::stoul(name.substr(strlen(prefix)), nullptr, 16));
    }
  }
  return std::nullopt;
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(' ');
  const size_t e = s.find_last_not_of(' ');
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Splits readelf's output for a batch into one view per file.
std::map<std::string, ReadelfView> ParseReadelf(const std::string& text,
                                                const std::vector<std::string>& paths) {
  std::map<std::string, ReadelfView> views;
  ReadelfView* cur = paths.size() == 1 ? &views[paths[0]] : nullptr;
  bool in_segments = false;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("File: ", 0) == 0) {
      cur = &views[line.substr(6)];
      in_segments = false;
      continue;
    }
    if (cur == nullptr) continue;
    const std::string t = Trim(line);
    if (auto v = Bracketed(t, "(NEEDED)")) {
      cur->needed.push_back(*v);
    } else if (auto v = Bracketed(t, "(SONAME)")) {
      cur->soname = *v;
    } else if (auto v = Bracketed(t, "(RUNPATH)")) {
      cur->runpath = *v;
    } else if (auto v = Bracketed(t, "(RPATH)")) {
      cur->rpath = *v;
    } else if (t.rfind("Type:", 0) == 0) {
      std::istringstream f(t.substr(5));
      f >> cur->type;
    } else if (t.rfind("Machine:", 0) == 0) {
      cur->machine = Trim(t.substr(8));
    } else if (t.rfind("Entry point address:", 0) == 0) {
      cur->entry = std::stoull(Trim(t.substr(20)), nullptr, 16);
    } else if (t == "Program Headers:") {
      in_segments = true;
    } else if (in_segments && t.empty()) {
      in_segments = false;
    } else if (in_segments && t.rfind("[Requesting program interpreter: ", 0) == 0) {
      const size_t start = strlen("[Requesting program interpreter: ");
      cur->interp = t.substr(start, t.size() - start - 1);
    } else if (in_segments && t.rfind("Type ", 0) != 0 && t.rfind("Section to", 0) != 0) {
      std::istringstream f(line);
      std::string type, offset, vaddr, paddr, filesz, memsz;
      f >> type >> offset >> vaddr >> paddr >> filesz >> memsz;
      std::string rest;
      std::getline(f, rest);
      rest = Trim(rest);
      const size_t sp = rest.find_last_of(' ');
      std::optional<uint32_t> type_value = SegmentTypeFromReadelf(type);
      if (!type_value || sp == std::string::npos) {
        cur->unparsed.push_back(line);
        continue;
      }
      ReadelfView::Segment s;
      s.type = *type_value;
      s.offset = std::stoull(offset, nullptr, 16);
      s.vaddr = std::stoull(vaddr, nullptr, 16);
      s.paddr = std::stoull(paddr, nullptr, 16);
      s.filesz = std::stoull(filesz, nullptr, 16);
      s.memsz = std::stoull(memsz, nullptr, 16);
      s.align = std::stoull(rest.substr(sp + 1), nullptr, 16);
      for (char c : rest.substr(0, sp)) {
        if (c != ' ') s.flags += c;
      }
      cur->segments.push_back(s);
    }
  }
  return views;
}

// Runs readelf -lhdW on `paths`; its standard output, or an error description.
std::optional<std::string> RunReadelf(const std::vector<std::string>& paths, std::string* error) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    *error = std::string("pipe2: ") + strerror(errno);
    return std::nullopt;
  }
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  std::vector<std::string> args = {"readelf", "-lhdW", "--"};
  args.insert(args.end(), paths.begin(), paths.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  const int rc = posix_spawnp(&pid, "readelf", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  write_end.reset();
  if (rc != 0) {
    *error = std::string("posix_spawnp readelf: ") + strerror(rc);
    return std::nullopt;
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(read_end.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *error = "readelf exited with status " + std::to_string(status);
    return std::nullopt;
  }
  return out;
}

std::string Hex(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

std::string FlagLetters(uint32_t flags) {
  std::string s;
  for (char c : SegmentFlagsString(flags)) {
    if (c != ' ') s += c;
  }
  return s;
}

// Every way `ours` and `theirs` disagree, one line each.
std::vector<std::string> Compare(const Accepted& ours, const ReadelfView& theirs) {
  std::vector<std::string> diffs;
  auto diff = [&](const std::string& what, const std::string& a, const std::string& b) {
    if (a != b) diffs.push_back(ours.path + ": " + what + ": capspawn " + a + ", readelf " + b);
  };
  const Elf64_Ehdr& eh = ours.headers.ehdr;
  const std::string type = eh.e_type == ET_EXEC ? "EXEC" : eh.e_type == ET_DYN ? "DYN" : "?";
  diff("type", type, theirs.type);
  const std::string machine = eh.e_machine == EM_X86_64    ? "Advanced Micro Devices X86-64"
                              : eh.e_machine == EM_AARCH64 ? "AArch64"
                                                           : "?";
  diff("machine", machine, theirs.machine);
  diff("entry", Hex(eh.e_entry), theirs.entry ? Hex(*theirs.entry) : "(none)");
  diff("interpreter", ours.headers.interp.value_or("(none)"), theirs.interp.value_or("(none)"));
  for (const std::string& line : theirs.unparsed) diff("readelf line", "", line);
  diff("dynamic section", ours.dynamic_error, "");
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const std::string& e : v) out += (out.empty() ? "" : ",") + e;
    return out;
  };
  const DynamicInfo none;
  const DynamicInfo& d = ours.dynamic ? *ours.dynamic : none;
  diff("DT_NEEDED", join(d.needed), join(theirs.needed));
  diff("DT_SONAME", d.soname.value_or("(none)"), theirs.soname.value_or("(none)"));
  diff("DT_RUNPATH", d.runpath.value_or("(none)"), theirs.runpath.value_or("(none)"));
  diff("DT_RPATH", d.rpath.value_or("(none)"), theirs.rpath.value_or("(none)"));
  diff("program header count", std::to_string(ours.headers.phdrs.size()),
       std::to_string(theirs.segments.size()));
  const size_t n = std::min(ours.headers.phdrs.size(), theirs.segments.size());
  for (size_t i = 0; i < n; ++i) {
    const Elf64_Phdr& a = ours.headers.phdrs[i];
    const ReadelfView::Segment& b = theirs.segments[i];
    const std::string p = "program header " + std::to_string(i) + " ";
    diff(p + "type", Hex(a.p_type), Hex(b.type));
    diff(p + "offset", Hex(a.p_offset), Hex(b.offset));
    diff(p + "vaddr", Hex(a.p_vaddr), Hex(b.vaddr));
    diff(p + "paddr", Hex(a.p_paddr), Hex(b.paddr));
    diff(p + "filesz", Hex(a.p_filesz), Hex(b.filesz));
    diff(p + "memsz", Hex(a.p_memsz), Hex(b.memsz));
    diff(p + "flags", FlagLetters(a.p_flags), b.flags);
    diff(p + "align", Hex(a.p_align), Hex(b.align));
  }
  return diffs;
}

TEST(ElfReadelfCrossCheck, UsrBinAndUsrLib) {
  const Census census = Walk({"/usr/bin", "/usr/lib"});
  ASSERT_FALSE(census.accepted.empty()) << "no ELF file found under /usr/bin and /usr/lib";

  std::atomic<size_t> next_batch{0}, checked{0};
  std::mutex mu;
  std::vector<std::string> failures;
  const size_t batches = (census.accepted.size() + kBatchSize - 1) / kBatchSize;
  auto worker = [&] {
    for (size_t b; (b = next_batch++) < batches;) {
      const size_t begin = b * kBatchSize;
      const size_t end = std::min(begin + kBatchSize, census.accepted.size());
      std::vector<std::string> paths;
      for (size_t i = begin; i < end; ++i) paths.push_back(census.accepted[i].path);
      std::string error;
      std::optional<std::string> out = RunReadelf(paths, &error);
      std::vector<std::string> found;
      if (!out) {
        found.push_back("batch starting at " + paths[0] + ": " + error);
      } else {
        const std::map<std::string, ReadelfView> views = ParseReadelf(*out, paths);
        for (size_t i = begin; i < end; ++i) {
          auto it = views.find(census.accepted[i].path);
          if (it == views.end()) {
            found.push_back(census.accepted[i].path + ": readelf printed nothing for it");
            continue;
          }
          std::vector<std::string> d = Compare(census.accepted[i], it->second);
          found.insert(found.end(), d.begin(), d.end());
          ++checked;
        }
      }
      std::lock_guard lock(mu);
      failures.insert(failures.end(), found.begin(), found.end());
    }
  };
  std::thread t1(worker), t2(worker);
  t1.join();
  t2.join();

  std::cout << "ELF cross-check against readelf: " << checked << " files cross-checked; of "
            << census.files << " regular files under /usr/bin and /usr/lib, " << census.not_elf
            << " not ELF, " << census.elf32 << " 32-bit, " << census.foreign
            << " for another machine, " << census.unreadable << " unreadable, "
            << census.rejected_total << " rejected by capspawn:\n";
  for (const auto& [reason, entry] : census.rejected) {
    std::cout << "  " << entry.first << " x " << reason << " (e.g. " << entry.second << ")\n";
  }
  for (size_t i = 0; i < failures.size() && i < 50; ++i) ADD_FAILURE() << failures[i];
  EXPECT_TRUE(failures.empty()) << failures.size() << " disagreements with readelf";
  EXPECT_EQ(census.accepted.size(), checked.load());
}

}  // namespace
}  // namespace capspawn::elf
