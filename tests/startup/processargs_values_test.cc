// SPDX-License-Identifier: Apache-2.0
// Processargs: every PA_* handle type capspawn defines, against the value of
// the same name in Fuchsia's zircon/processargs.h, with the LISTEN_FDNAMES
// name the child sees. The list is the whole of processargs.h: a type it
// does not define is refused by spawn, the launcher and ProcessBuilder.
#include <capspawn/processargs.h>
#include <capspawn/startup.h>

#include <cstring>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "startup/handle_types.h"

namespace {

struct PaType {
  const char* fuchsia_name;  // as in zircon/processargs.h
  uint32_t capspawn_value;   // capspawn's CAPSPAWN_ macro
  uint32_t fuchsia_value;    // the number processargs.h gives it
  const char* listen_name;   // the LISTEN_FDNAMES type name
};

// The right-hand numbers are copied by hand from processargs.h, not from
// capspawn's header, so that a change to either shows here.
constexpr PaType kTypes[] = {
    {"PA_PROC_SELF", CAPSPAWN_PA_PROC_SELF, 0x01, "proc_self"},
    {"PA_THREAD_SELF", CAPSPAWN_PA_THREAD_SELF, 0x02, "thread_self"},
    {"PA_JOB_DEFAULT", CAPSPAWN_PA_JOB_DEFAULT, 0x03, "job_default"},
    {"PA_VMAR_ROOT", CAPSPAWN_PA_VMAR_ROOT, 0x04, "vmar_root"},
    {"PA_VMAR_LOADED", CAPSPAWN_PA_VMAR_LOADED, 0x05, "vmar_loaded"},
    {"PA_LDSVC_LOADER", CAPSPAWN_PA_LDSVC_LOADER, 0x10, "ldsvc_loader"},
    {"PA_VMO_VDSO", CAPSPAWN_PA_VMO_VDSO, 0x11, "vmo_vdso"},
    {"PA_VMO_STACK", CAPSPAWN_PA_VMO_STACK, 0x13, "vmo_stack"},
    {"PA_VMO_EXECUTABLE", CAPSPAWN_PA_VMO_EXECUTABLE, 0x14, "vmo_executable"},
    {"PA_VMO_BOOTDATA", CAPSPAWN_PA_VMO_BOOTDATA, 0x1A, "vmo_bootdata"},
    {"PA_VMO_BOOTFS", CAPSPAWN_PA_VMO_BOOTFS, 0x1B, "vmo_bootfs"},
    {"PA_VMO_KERNEL_FILE", CAPSPAWN_PA_VMO_KERNEL_FILE, 0x1C, "vmo_kernel_file"},
    {"PA_VMO_COMPONENT_CONFIG", CAPSPAWN_PA_VMO_COMPONENT_CONFIG, 0x1D, "vmo_component_config"},
    {"PA_NS_DIR", CAPSPAWN_PA_NS_DIR, 0x20, "ns_dir"},
    {"PA_FD", CAPSPAWN_PA_FD, 0x30, "fd"},
    {"PA_LIFECYCLE", CAPSPAWN_PA_LIFECYCLE, 0x3A, "lifecycle"},
    {"PA_DIRECTORY_REQUEST", CAPSPAWN_PA_DIRECTORY_REQUEST, 0x3B, "directory_request"},
    {"PA_RESOURCE", CAPSPAWN_PA_RESOURCE, 0x3F, "resource"},
    {"PA_CLOCK_UTC", CAPSPAWN_PA_CLOCK_UTC, 0x40, "clock_utc"},
    {"PA_MMIO_RESOURCE", CAPSPAWN_PA_MMIO_RESOURCE, 0x50, "mmio_resource"},
    {"PA_IRQ_RESOURCE", CAPSPAWN_PA_IRQ_RESOURCE, 0x51, "irq_resource"},
    {"PA_IOPORT_RESOURCE", CAPSPAWN_PA_IOPORT_RESOURCE, 0x52, "ioport_resource"},
    {"PA_SMC_RESOURCE", CAPSPAWN_PA_SMC_RESOURCE, 0x53, "smc_resource"},
    {"PA_SYSTEM_RESOURCE", CAPSPAWN_PA_SYSTEM_RESOURCE, 0x54, "system_resource"},
    {"PA_USER0", CAPSPAWN_PA_USER0, 0xF0, "user0"},
    {"PA_USER1", CAPSPAWN_PA_USER1, 0xF1, "user1"},
    {"PA_USER2", CAPSPAWN_PA_USER2, 0xF2, "user2"},
};

TEST(Processargs, EveryTypeHasFuchsiasValue) {
  for (const PaType& t : kTypes) {
    EXPECT_EQ(t.capspawn_value, t.fuchsia_value) << t.fuchsia_name;
  }
}

TEST(Processargs, HandleInfoMacrosAreFuchsias) {
  // PA_HND(type, arg): type in bits 0-7, arg in bits 16-31 (processargs.h).
  EXPECT_EQ(CAPSPAWN_PA_HND(0x30, 9), 0x00090030u);
  EXPECT_EQ(CAPSPAWN_PA_HND(0x1F0, 0x1FFFF), 0xFFFF00F0u);  // both masked
  EXPECT_EQ(CAPSPAWN_PA_TYPE(0x00090030u), 0x30u);
  EXPECT_EQ(CAPSPAWN_PA_ARG(0x00090030u), 9u);
  EXPECT_EQ(CAPSPAWN_FLAG_USE_FOR_STDIO, 0x8000u);  // fdio's FDIO_FLAG_USE_FOR_STDIO
}

TEST(Processargs, EveryTypeHasItsListenName) {
  std::set<std::string> names;
  for (const PaType& t : kTypes) {
    char buf[64];
    const int n =
        capspawn_startup_handle_name(CAPSPAWN_PA_HND(t.capspawn_value, 2), buf, sizeof buf);
    ASSERT_GT(n, 0) << t.fuchsia_name;
    EXPECT_EQ(std::string(buf), std::string(t.listen_name) + ".2") << t.fuchsia_name;
    uint32_t back = 0;
    ASSERT_EQ(capspawn_startup_handle_parse_name(buf, static_cast<size_t>(n), &back), 0) << buf;
    EXPECT_EQ(back, CAPSPAWN_PA_HND(t.capspawn_value, 2)) << buf;
    EXPECT_TRUE(names.insert(t.listen_name).second) << "two types named " << t.listen_name;
  }
}

// Exactly the listed types are known; every other byte value is refused.
TEST(Processargs, OnlyFuchsiasTypesAreKnown) {
  std::set<uint32_t> listed;
  for (const PaType& t : kTypes) listed.insert(t.fuchsia_value);
  int known = 0;
  for (uint32_t type = 0; type <= 0xFF; ++type) {
    const bool is_known = capspawn::startup::IsKnownHandleType(type);
    EXPECT_EQ(is_known, listed.count(type) == 1) << "type 0x" << std::hex << type;
    known += is_known;
  }
  EXPECT_EQ(known, static_cast<int>(std::size(kTypes)));
  // The numbers capspawn used before it took Fuchsia's: no longer types.
  for (uint32_t old : {0x3Cu, 0x3Du, 0x3Eu}) {
    EXPECT_FALSE(capspawn::startup::IsKnownHandleType(old)) << std::hex << old;
  }
}

}  // namespace
