// capspawn elf: prints what capspawn sees of an ELF file, the view the spawn
// path checks before any process exists (see docs/elf.md).
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <capspawn/elf.h>
#include <capspawn/fd.h>
#include <capspawn/status.h>

#include "commands.h"

extern char** environ;

namespace {

namespace elf = capspawn::elf;

constexpr int kExitRejected = 1;
constexpr int kExitUsage = 2;

constexpr char kHelp[] = R"(Usage: capspawn elf [--json] [--handles N] FILE [ARG...]

Print what capspawn sees in the ELF file FILE: its class, type, machine, entry
point, dynamic linker (PT_INTERP) and program headers, after the checks the
spawn path runs before creating a process (docs/elf.md lists them). A file
capspawn would refuse to run is reported with the status and the message a
spawn of it would give.

It also prints the initial stack size Fuchsia's process_builder would choose:
for a PT_INTERP program the dynamic linker's stack for a processargs message
holding argv (FILE ARG...), this environment and N handles; otherwise the
PT_GNU_STACK size, or 256 KiB.

Options:
      --json        print one JSON object instead of text
      --handles N   handles in the bootstrap message, for the stack size (default 0)
  -h, --help        show this help and exit

Exit status: 0 if capspawn accepts FILE, 1 if it rejects it (or cannot read
it), 2 for a wrong command line.

Examples:
  capspawn elf /bin/true
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

size_t EnvCount() {
  size_t n = 0;
  for (char** e = environ; e && *e; ++e) ++n;
  return n;
}

void PrintText(const elf::ElfHeaders& h, const Options& o) {
  const Elf64_Ehdr& eh = h.ehdr;
  printf("file:          %s\n", o.file.c_str());
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

void PrintJson(const elf::ElfHeaders& h, const Options& o) {
  const Elf64_Ehdr& eh = h.ehdr;
  std::string j = "{\"file\":" + JsonString(o.file) + ",\"ok\":true";
  j += ",\"class\":\"ELFCLASS64\",\"data\":\"ELFDATA2LSB\"";
  j += ",\"type\":" + JsonString(TypeText(eh.e_type)) +
       ",\"type_value\":" + std::to_string(eh.e_type);
  j += std::string(",\"pie\":") + (h.is_pie() ? "true" : "false");
  j += ",\"machine\":" + JsonString(MachineText(eh.e_machine)) +
       ",\"machine_value\":" + std::to_string(eh.e_machine);
  j += ",\"entry\":" + std::to_string(eh.e_entry);
  j += ",\"interpreter\":" + (h.interp ? JsonString(*h.interp) : std::string("null"));
  j += ",\"program_headers\":[";
  for (size_t i = 0; i < h.phdrs.size(); ++i) {
    const Elf64_Phdr& p = h.phdrs[i];
    if (i) j += ',';
    j += "{\"index\":" + std::to_string(i) + ",\"type\":" + JsonString(SegmentText(p.p_type)) +
         ",\"type_value\":" + std::to_string(p.p_type) +
         ",\"flags\":" + JsonString(Trimmed(elf::SegmentFlagsString(p.p_flags))) +
         ",\"flags_value\":" + std::to_string(p.p_flags) +
         ",\"offset\":" + std::to_string(p.p_offset) + ",\"vaddr\":" + std::to_string(p.p_vaddr) +
         ",\"paddr\":" + std::to_string(p.p_paddr) + ",\"filesz\":" + std::to_string(p.p_filesz) +
         ",\"memsz\":" + std::to_string(p.p_memsz) + ",\"align\":" + std::to_string(p.p_align) +
         "}";
  }
  const Stack s = ComputeStack(h, o);
  j += "],\"initial_stack\":{\"size\":" + std::to_string(s.size) +
       ",\"source\":" + JsonString(s.source) + ",\"args_bytes\":" + std::to_string(s.args_bytes) +
       ",\"env_bytes\":" + std::to_string(s.env_bytes) +
       ",\"handles\":" + std::to_string(o.handles) + "}}";
  puts(j.c_str());
}

int Report(const capspawn::Error& e, const Options& o) {
  if (o.json) {
    printf("{\"file\":%s,\"ok\":false,\"status\":%s,\"status_value\":%d,\"error\":%s}\n",
           JsonString(o.file).c_str(), JsonString(capspawn_status_string(e.status())).c_str(),
           e.status(), JsonString(e.message()).c_str());
  } else {
    fprintf(stderr, "capspawn elf: %s: %s: %s\n", o.file.c_str(),
            capspawn_status_string(e.status()), e.message().c_str());
  }
  return kExitRejected;
}

capspawn::Result<elf::ElfHeaders> ParseFile(const std::string& path) {
  capspawn::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return capspawn::Error::FromErrno(errno, "open " + path);
  // Read the first page once, as the spawn path does for its '#!' check.
  uint8_t head[4096];
  ssize_t n;
  do {
    n = pread(fd.get(), head, sizeof head, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return capspawn::Error::FromErrno(errno, "read " + path);
  return elf::ParseHeaders(fd.get(), std::span<const uint8_t>(head, static_cast<size_t>(n)));
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

  capspawn::Result<elf::ElfHeaders> h = ParseFile(o.file);
  if (!h.ok()) return Report(h.error(), o);
  if (o.json) {
    PrintJson(*h, o);
  } else {
    PrintText(*h, o);
  }
  return 0;
}
