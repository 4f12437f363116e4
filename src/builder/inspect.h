// SPDX-License-Identifier: Apache-2.0
// From a launched child stopped at its exec to a BuiltProcess: read what it
// is (registers, auxv), open its address space, detach it into a group stop.
#ifndef CAPSPAWN_SRC_BUILDER_INSPECT_H_
#define CAPSPAWN_SRC_BUILDER_INSPECT_H_

#include <cstdint>
#include <map>
#include <span>

#include <capspawn/process_builder.h>
#include <capspawn/result.h>

#include "spawn/request.h"

namespace capspawn::builder {

// `launched` comes from spawn::Execute with stop_at_exec. On failure the
// process is killed and reaped.
Result<BuiltProcess> FinishBuild(spawn::Launched launched);

// An auxiliary vector (pairs of 64-bit words, AT_NULL-terminated) as a map.
std::map<uint64_t, uint64_t> ParseAuxv(std::span<const uint8_t> bytes);

// Where the image described by `phdrs` (its ELF header at file offset 0) is
// mapped, given AT_PHDR: the load bias (AT_PHDR minus the program headers'
// p_vaddr, from PT_PHDR or the PT_LOAD holding e_phoff) plus the first
// PT_LOAD's p_vaddr - p_offset. NOT_FOUND when the headers do not say.
Result<uint64_t> ImageBase(const elf::ElfHeaders& headers, uint64_t at_phdr);

}  // namespace capspawn::builder

#endif  // CAPSPAWN_SRC_BUILDER_INSPECT_H_
