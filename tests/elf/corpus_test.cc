// SPDX-License-Identifier: Apache-2.0
// The fuzzer's seed files say what they are: valid_* parse, bad_* are
// rejected. The seeds are x86_64 files; on another host their e_machine is
// patched to the host's so the other rules still decide.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <capspawn/elf.h>

namespace capspawn::elf {
namespace {

TEST(ElfCorpus, SeedsParseAsTheirNamesSay) {
  size_t valid = 0, bad = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CAPSPAWN_ELF_CORPUS_DIR)) {
    const std::string name = entry.path().filename().string();
    std::ifstream in(entry.path(), std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    if (bytes.size() >= sizeof(Elf64_Ehdr) && bytes[EI_CLASS] == ELFCLASS64) {
      const uint16_t machine = kHostMachine;
      std::memcpy(bytes.data() + offsetof(Elf64_Ehdr, e_machine), &machine, sizeof(machine));
    }
    Result<ElfHeaders> h = ParseHeaders(bytes);
    if (name.rfind("valid_", 0) == 0) {
      ++valid;
      EXPECT_TRUE(h.ok()) << name << ": " << (h.ok() ? "" : h.error().message());
    } else if (name.rfind("bad_", 0) == 0) {
      ++bad;
      EXPECT_FALSE(h.ok()) << name << " was accepted";
    } else {
      ADD_FAILURE() << name << ": seed names start with valid_ or bad_";
    }
  }
  EXPECT_GT(valid, 0u);
  EXPECT_GT(bad, 0u);
}

}  // namespace
}  // namespace capspawn::elf
