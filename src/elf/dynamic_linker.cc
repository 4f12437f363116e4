// SPDX-License-Identifier: Apache-2.0
// get_dynamic_linker: the PT_INTERP file, taken from a loader directory.
#include <fcntl.h>

#include <cerrno>
#include <string>

#include <capspawn/elf.h>

namespace capspawn::elf {

Result<UniqueFd> GetDynamicLinker(int loader_dir, const ElfHeaders& program) {
  Result<std::string> interp = GetDynamicLinker(program);
  if (!interp.ok()) return interp.error();
  const std::string name = interp->substr(interp->rfind('/') + 1);
  const std::string what = "dynamic linker " + *interp + " (" + name + " in loader fd " +
                           std::to_string(loader_dir) + ")";
  if (name.empty() || name == "." || name == "..") {
    return Error(CAPSPAWN_ERR_NOT_FOUND, what + ": PT_INTERP names no file");
  }
  UniqueFd fd(openat(loader_dir, name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return Error(CAPSPAWN_ERR_NOT_FOUND, what + ": the loader has no such file");
    }
    return Error::FromErrno(err, what + ": open");
  }
  Result<ElfHeaders> h = ParseHeaders(fd.get());
  if (!h.ok()) return h.error().Context(what);
  if (h->ehdr.e_type != ET_DYN || h->is_dynamic()) {
    return Error(kBadFormatStatus, what +
                                       ": ELF: not a dynamic linker (it must be ET_DYN "
                                       "without a PT_INTERP of its own)");
  }
  return fd;
}

}  // namespace capspawn::elf
