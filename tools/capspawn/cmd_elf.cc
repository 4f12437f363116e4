// SPDX-License-Identifier: Apache-2.0
// capspawn elf: prints what capspawn sees of an ELF file, the view the spawn
// path checks before any process exists (see docs/elf.md).
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <capspawn/elf.h>
#include <capspawn/fd.h>
#include <capspawn/status.h>

#include "commands.h"

extern char** environ;

namespace {

namespace elf = capspawn::elf;

constexpr int kExitNotAProgram = 1;  // the verdict: not a program capspawn runs
constexpr int kExitUsage = 2;
constexpr int kExitFailed = 125;  // capspawn could not look (open, read)

constexpr char kHelp[] = R"(Usage: capspawn elf [--json] [--handles N] FILE [ARG...]

Say what FILE is - an executable, a PIE, a static PIE, a shared library, or
not an ELF file at all - and print what capspawn sees in it: class, type,
machine, entry point, dynamic linker (PT_INTERP), program headers, and the
libraries and soname of its dynamic section. These are the checks the spawn
path runs before creating a process (docs/elf.md lists them); a file capspawn
would refuse is reported with the reason a spawn of it would give.

It also prints the initial stack size Fuchsia's process_builder would choose:
for a PT_INTERP program the dynamic linker's stack for a processargs message
holding argv (FILE ARG...), this environment and N handles; otherwise the
PT_GNU_STACK size, or 256 KiB.

Options:
      --json        print one JSON object instead of text
      --handles N   handles in the bootstrap message, for the stack size (default 0)
  -h, --help        show this help and exit

Exit status: 0 if FILE is a program capspawn runs; 1 if it is not (not ELF,
refused by capspawn's checks, or a library without an entry point); 2 for a
wrong command line; 125 if FILE cannot be opened or read.

Examples:
  capspawn elf /bin/true
  capspawn elf /lib/x86_64-linux-gnu/libc.so.6
  capspawn elf --json /usr/bin/python3 -c 'print(1)'
)";

struct Options {
  bool json = false;
  size_t handles = 0;
  std::string file;
  std::vector<std::string> args;  // argv for the stack size: FILE ARG...
};

int Usage(const std::string& message) {
  fprintf(stderr, "capspawn elf: %s\n(see 'capspawn elf --help')\n", message.c_str());
  return kExitUsage;
}

// "NOT_FOUND" for CAPSPAWN_ERR_NOT_FOUND, as 'capspawn run' prints statuses.
std::string StatusName(capspawn_status_t status) {
  std::string name = capspawn_status_string(status);
  for (const char* prefix : {"CAPSPAWN_ERR_", "CAPSPAWN_"}) {
    if (name.rfind(prefix, 0) == 0) return name.substr(std::strlen(prefix));
  }
  return name;
}

std::string Hex(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string TypeText(uint16_t type) {
  std::string_view name = elf::TypeName(type);
  return name.empty() ? std::to_string(type) : std::string(name);
}

std::string MachineText(uint16_t machine) {
  std::string_view name = elf::MachineName(machine);
  return name.empty() ? std::to_string(machine) : std::string(name);
}

std::string SegmentText(uint32_t type) {
  std::string_view name = elf::SegmentTypeName(type);
  return name.empty() ? Hex(type) : std::string(name);
}

std::string Trimmed(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// The initial stack, and where its size comes from.
struct Stack {
  uint64_t size;
  const char* source;  // "linker", "gnu_stack", "default"
  size_t args_bytes, env_bytes;
};

Stack ComputeStack(const elf::ElfHeaders& h, const Options& o) {
  Stack s;
  s.args_bytes = elf::StringsBytes(o.args);
  s.env_bytes = elf::StringsBytes(environ);
  s.size = elf::InitialStackSize(h, s.args_bytes, s.env_bytes, o.handles);
  s.source = h.is_dynamic() ? "linker" : h.requested_stack_size() ? "gnu_stack" : "default";
  return s;
}

// The dynamic section, when the file has one that reads.
struct Dynamic {
  std::optional<elf::DynamicInfo> info;
  std::string error;  // a PT_DYNAMIC that could not be read
};

// "PIE (position-independent executable, dynamically linked)".
std::string KindText(const elf::ElfHeaders& h, const Dynamic& d) {
  const elf::FileKind kind = elf::Classify(h, d.info ? &*d.info : nullptr);
  std::string out(elf::FileKindName(kind));
  const char* linking = h.is_dynamic() ? "dynamically linked" : "statically linked";
  switch (kind) {
    case elf::FileKind::kExecutable:
      return out + " (loaded at fixed addresses, " + linking + ")";
    case elf::FileKind::kPie:
      return out + " (position-independent executable, dynamically linked)";
    case elf::FileKind::kStaticPie:
      return out + " (position-independent, statically linked: it relocates itself)";
    case elf::FileKind::kSharedLibrary:
      if (d.info && d.info->soname) return out + " (soname " + *d.info->soname + ")";
      return out;
  }
  return out;
}

std::string RunnableText(const elf::ElfHeaders& h) {
  if (!elf::IsRunnable(h)) return "no (its entry point is 0: a library, not a program)";
  return "yes";
}

size_t EnvCount() {
  size_t n = 0;
  for (char** e = environ; e && *e; ++e) ++n;
  return n;
}

void PrintText(const elf::ElfHeaders& h, const Dynamic& d, const Options& o) {
  const Elf64_Ehdr& eh = h.ehdr;
  printf("file:          %s\n", o.file.c_str());
  printf("kind:          %s\n", KindText(h, d).c_str());
  printf("runnable:      %s\n", RunnableText(h).c_str());
  printf("class:         ELF64, little-endian\n");
  printf("type:          %s%s\n", TypeText(eh.e_type).c_str(),
         h.is_pie() ? " (position-independent)" : " (fixed addresses)");
  printf("machine:       %s (%u)\n", MachineText(eh.e_machine).c_str(), eh.e_machine);
  printf("entry:         %s\n", Hex(eh.e_entry).c_str());
  printf("interpreter:   %s\n", h.interp ? h.interp->c_str() : "(none: statically linked)");
  printf("program headers: %zu\n", h.phdrs.size());
  printf("  %3s  %-13s %-10s %-18s %-18s %-10s %-10s %-3s %s\n", "#", "type", "offset", "vaddr",
         "paddr", "filesz", "memsz", "flg", "align");
  for (size_t i = 0; i < h.phdrs.size(); ++i) {
    const Elf64_Phdr& p = h.phdrs[i];
    printf("  %3zu  %-13s %-10s %-18s %-18s %-10s %-10s %-3s %s\n", i,
           SegmentText(p.p_type).c_str(), Hex(p.p_offset).c_str(), Hex(p.p_vaddr).c_str(),
           Hex(p.p_paddr).c_str(), Hex(p.p_filesz).c_str(), Hex(p.p_memsz).c_str(),
           elf::SegmentFlagsString(p.p_flags).c_str(), Hex(p.p_align).c_str());
    if (p.p_type == PT_INTERP && h.interp)
      printf("         [interpreter: %s]\n", h.interp->c_str());
  }
  if (d.info) {
    std::string needed;
    for (const std::string& n : d.info->needed) needed += (needed.empty() ? "" : " ") + n;
    printf("needed:        %s\n", needed.empty() ? "(none)" : needed.c_str());
    printf("soname:        %s\n", d.info->soname ? d.info->soname->c_str() : "(none)");
    if (d.info->runpath) printf("runpath:       %s\n", d.info->runpath->c_str());
    if (d.info->rpath) printf("rpath:         %s\n", d.info->rpath->c_str());
  } else if (!d.error.empty()) {
    printf("dynamic:       unreadable: %s\n", d.error.c_str());
  } else {
    printf("dynamic:       (no dynamic section)\n");
  }
  const Stack s = ComputeStack(h, o);
  printf("initial stack: %" PRIu64 " bytes: ", s.size);
  if (h.is_dynamic()) {
    printf("the dynamic linker's stack for a %" PRIu64
           "-byte processargs message (argv: %zu strings, %zu bytes; environ: %zu strings, %zu "
           "bytes; %zu handles)\n",
           elf::ProcessargsMessageSize(s.args_bytes, s.env_bytes, o.handles), o.args.size(),
           s.args_bytes, EnvCount(), s.env_bytes, o.handles);
  } else if (h.requested_stack_size()) {
    printf("PT_GNU_STACK's size, rounded up to a page\n");
  } else {
    printf("the default (no PT_INTERP and no PT_GNU_STACK size)\n");
  }
}

std::string JsonStrings(const std::vector<std::string>& v) {
  std::string j = "[";
  for (size_t i = 0; i < v.size(); ++i) j += (i ? "," : "") + JsonString(v[i]);
  return j + "]";
}

std::string JsonOptional(const std::optional<std::string>& s) {
  return s ? JsonString(*s) : std::string("null");
}

// Addresses and offsets are hex strings, sizes numbers, as 'capspawn run
// --suspended' prints its start data.
void PrintJson(const elf::ElfHeaders& h, const Dynamic& d, const Options& o) {
  const Elf64_Ehdr& eh = h.ehdr;
  const elf::FileKind kind = elf::Classify(h, d.info ? &*d.info : nullptr);
  std::string j = "{\"file\":" + JsonString(o.file) + ",\"ok\":true";
  j += ",\"kind\":" + JsonString(std::string(elf::FileKindName(kind)));
  j += std::string(",\"runnable\":") + (elf::IsRunnable(h) ? "true" : "false");
  j += ",\"class\":\"ELFCLASS64\",\"data\":\"ELFDATA2LSB\"";
  j += ",\"type\":" + JsonString(TypeText(eh.e_type)) +
       ",\"type_value\":" + std::to_string(eh.e_type);
  j += std::string(",\"pie\":") + (h.is_pie() ? "true" : "false");
  j += ",\"machine\":" + JsonString(MachineText(eh.e_machine)) +
       ",\"machine_value\":" + std::to_string(eh.e_machine);
  j += ",\"entry\":" + JsonString(Hex(eh.e_entry));
  j += ",\"interpreter\":" + JsonOptional(h.interp);
  j += ",\"program_headers\":[";
  for (size_t i = 0; i < h.phdrs.size(); ++i) {
    const Elf64_Phdr& p = h.phdrs[i];
    if (i) j += ',';
    j += "{\"index\":" + std::to_string(i) + ",\"type\":" + JsonString(SegmentText(p.p_type)) +
         ",\"type_value\":" + std::to_string(p.p_type) +
         ",\"flags\":" + JsonString(Trimmed(elf::SegmentFlagsString(p.p_flags))) +
         ",\"flags_value\":" + std::to_string(p.p_flags) +
         ",\"offset\":" + JsonString(Hex(p.p_offset)) + ",\"vaddr\":" + JsonString(Hex(p.p_vaddr)) +
         ",\"paddr\":" + JsonString(Hex(p.p_paddr)) + ",\"filesz\":" + std::to_string(p.p_filesz) +
         ",\"memsz\":" + std::to_string(p.p_memsz) + ",\"align\":" + std::to_string(p.p_align) +
         "}";
  }
  j += "],\"dynamic\":";
  if (d.info) {
    j += "{\"needed\":" + JsonStrings(d.info->needed) +
         ",\"soname\":" + JsonOptional(d.info->soname) +
         ",\"runpath\":" + JsonOptional(d.info->runpath) +
         ",\"rpath\":" + JsonOptional(d.info->rpath) + "}";
  } else if (!d.error.empty()) {
    j += "{\"error\":" + JsonString(d.error) + "}";
  } else {
    j += "null";
  }
  const Stack s = ComputeStack(h, o);
  j += ",\"initial_stack\":{\"size\":" + std::to_string(s.size) +
       ",\"source\":" + JsonString(s.source) + ",\"args_bytes\":" + std::to_string(s.args_bytes) +
       ",\"env_bytes\":" + std::to_string(s.env_bytes) +
       ",\"handles\":" + std::to_string(o.handles) + "}}";
  puts(j.c_str());
}

// What a file that is not ELF starts with, for the message: "a '#!' script
// (/bin/sh)", "empty", "\"MZ\x90\\0\"".
std::string WhatItIs(std::span<const uint8_t> head) {
  if (head.empty()) return "it is empty";
  if (head.size() >= 2 && head[0] == '#' && head[1] == '!') {
    size_t end = 2;
    while (end < head.size() && end < 80 && head[end] != '\n') ++end;
    return "it is a '#!' script (\"" +
           std::string(reinterpret_cast<const char*>(head.data()), end) +
           "\"): run it with 'capspawn run', which follows its interpreter";
  }
  std::string shown;
  for (size_t i = 0; i < head.size() && i < 4; ++i) {
    const uint8_t c = head[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      shown += static_cast<char>(c);
    } else {
      char b[8];
      snprintf(b, sizeof b, "\\x%02x", c);
      shown += b;
    }
  }
  return "it starts with \"" + shown + "\", not \"\\x7fELF\"";
}

// A file that is not a program capspawn runs: the verdict, in words.
int NotAProgram(const capspawn::Error& e, std::span<const uint8_t> head, const Options& o) {
  const bool elf = head.size() >= SELFMAG && std::memcmp(head.data(), ELFMAG, SELFMAG) == 0;
  std::string reason = e.message();
  if (reason.rfind("ELF: ", 0) == 0) reason = reason.substr(5);
  const std::string text = elf ? "an ELF file that capspawn does not run: " + reason
                               : "not an ELF file: " + WhatItIs(head);
  // What capspawn_spawn* answers for it: fdio reports the parser's NOT_FOUND
  // as INTERNAL (docs/spawn.md).
  const capspawn_status_t spawn =
      e.status() == CAPSPAWN_ERR_NOT_FOUND ? CAPSPAWN_ERR_INTERNAL : e.status();
  if (o.json) {
    printf(
        "{\"file\":%s,\"ok\":false,\"kind\":%s,\"status\":%s,\"spawn_status\":%s,"
        "\"error\":%s}\n",
        JsonString(o.file).c_str(), elf ? "null" : "\"not ELF\"",
        JsonString(StatusName(e.status())).c_str(), JsonString(StatusName(spawn)).c_str(),
        JsonString(text).c_str());
  } else {
    fprintf(stderr, "capspawn elf: %s is %s (a spawn of it fails with %s)\n", o.file.c_str(),
            text.c_str(), StatusName(spawn).c_str());
  }
  return kExitNotAProgram;
}

int Failed(const capspawn::Error& e, const Options& o) {
  if (o.json) {
    printf("{\"file\":%s,\"ok\":false,\"kind\":null,\"status\":%s,\"error\":%s}\n",
           JsonString(o.file).c_str(), JsonString(StatusName(e.status())).c_str(),
           JsonString(e.message()).c_str());
  } else {
    fprintf(stderr, "capspawn: %s: %s\n", StatusName(e.status()).c_str(), e.message().c_str());
  }
  return kExitFailed;
}

// The file's first page (read once, as the spawn path does for its '#!'
// check) and its fd; errors are capspawn's own failures to look.
struct Opened {
  capspawn::UniqueFd fd;
  uint8_t head[4096];
  size_t head_len = 0;
};

capspawn::Status OpenFile(const std::string& path, Opened* out) {
  out->fd.reset(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!out->fd.valid()) return capspawn::Error::FromErrno(errno, "open " + path);
  ssize_t n;
  do {
    n = pread(out->fd.get(), out->head, sizeof out->head, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return capspawn::Error::FromErrno(errno, "read " + path);
  out->head_len = static_cast<size_t>(n);
  return {};
}

}  // namespace

int CmdElf(int argc, char** argv) {
  static const option kOptions[] = {
      {"help", no_argument, nullptr, 'h'},
      {"json", no_argument, nullptr, 'j'},
      {"handles", required_argument, nullptr, 'n'},
      {nullptr, 0, nullptr, 0},
  };
  Options o;
  opterr = 0;
  int c;
  // '+': options end at FILE; what follows is the program's argv.
  while ((c = getopt_long(argc, argv, "+h", kOptions, nullptr)) != -1) {
    switch (c) {
      case 'h':
        fputs(kHelp, stdout);
        return 0;
      case 'j':
        o.json = true;
        break;
      case 'n': {
        char* end = nullptr;
        errno = 0;
        const unsigned long long v = strtoull(optarg, &end, 10);
        if (errno || end == optarg || *end != '\0' || optarg[0] == '-' || v > 100000) {
          return Usage(std::string("--handles: '") + optarg +
                       "' is not a handle count (0..100000)");
        }
        o.handles = static_cast<size_t>(v);
        break;
      }
      case ':':
        return Usage(std::string("option '") + argv[optind - 1] + "' needs an argument");
      default: {
        std::string element = argv[optind - 1];
        if (optopt == 0)
          return Usage("unknown option '" + element.substr(0, element.find('=')) + "'");
        if (optopt == 'n') return Usage("option '--handles' needs an argument");
        if (optopt == 'h' || optopt == 'j') {
          return Usage("option '" + element.substr(0, element.find('=')) + "' takes no argument");
        }
        return Usage(std::string("unknown option '-") + static_cast<char>(optopt) + "'");
      }
    }
  }
  if (optind >= argc) return Usage("missing FILE");
  o.file = argv[optind];
  for (int i = optind; i < argc; ++i) o.args.emplace_back(argv[i]);

  Opened f;
  if (capspawn::Status st = OpenFile(o.file, &f); !st.ok()) return Failed(st.error(), o);
  const std::span<const uint8_t> head(f.head, f.head_len);
  capspawn::Result<elf::ElfHeaders> h = elf::ParseHeaders(f.fd.get(), head);
  if (!h.ok()) {
    // Not a regular file, or a read error: capspawn could not look.
    const capspawn_status_t st = h.status();
    if (st == CAPSPAWN_ERR_NOT_FILE || st == CAPSPAWN_ERR_IO || st == CAPSPAWN_ERR_BAD_HANDLE) {
      return Failed(h.error(), o);
    }
    return NotAProgram(h.error(), head, o);
  }
  Dynamic d;
  if (h->FindProgramHeader(PT_DYNAMIC)) {
    capspawn::Result<elf::DynamicInfo> info = elf::ReadDynamicInfo(f.fd.get(), *h);
    if (info.ok()) {
      d.info = std::move(info.value());
    } else {
      d.error = info.error().message();
    }
  }
  if (o.json) {
    PrintJson(*h, d, o);
  } else {
    PrintText(*h, d, o);
  }
  return elf::IsRunnable(*h) ? 0 : kExitNotAProgram;
}
