// SPDX-License-Identifier: Apache-2.0
// StartupHandleName: the LISTEN_FDNAMES spelling of typed handle ids, and its
// parser.
#include <capspawn/processargs.h>
#include <capspawn/startup.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace {

std::string Name(uint32_t id) {
  char buf[64];
  int n = capspawn_startup_handle_name(id, buf, sizeof buf);
  EXPECT_GE(n, 0);
  EXPECT_EQ(static_cast<size_t>(n), std::strlen(buf));
  return n >= 0 ? std::string(buf) : "";
}

int Parse(const std::string& name, uint32_t* id) {
  return capspawn_startup_handle_parse_name(name.data(), name.size(), id);
}

TEST(StartupHandleName, KnownTypes) {
  EXPECT_EQ(Name(CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 0)), "user0.0");
  EXPECT_EQ(Name(CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 1)), "user0.1");
  EXPECT_EQ(Name(CAPSPAWN_PA_HND(CAPSPAWN_PA_USER1, 7)), "user1.7");
  EXPECT_EQ(Name(CAPSPAWN_PA_HND(CAPSPAWN_PA_USER2, 65535)), "user2.65535");
  EXPECT_EQ(Name(CAPSPAWN_PA_HND(CAPSPAWN_PA_DIRECTORY_REQUEST, 0)), "directory_request.0");
  EXPECT_EQ(Name(CAPSPAWN_PA_HND(CAPSPAWN_PA_JOB_DEFAULT, 0)), "job_default.0");
  EXPECT_EQ(Name(CAPSPAWN_PA_HND(CAPSPAWN_PA_LIFECYCLE, 0)), "lifecycle.0");
}

TEST(StartupHandleName, TypeWithoutANameIsHex) {
  const uint32_t id = CAPSPAWN_PA_HND(0xE0, 3);
  std::string name = Name(id);
  ASSERT_GE(name.size(), 4u);
  EXPECT_EQ(name.compare(0, 2, "0x"), 0) << name;
  EXPECT_EQ(name.substr(name.size() - 2), ".3") << name;
  uint32_t back = 0;
  ASSERT_EQ(Parse(name, &back), 0) << name;
  EXPECT_EQ(back, id);
}

// Every type and a spread of arguments survive name -> parse, and every name
// fits the 32 bytes the header promises.
TEST(StartupHandleName, RoundTrip) {
  for (uint32_t type = 1; type <= 0xFF; ++type) {
    for (uint32_t arg : {0u, 1u, 42u, 0x7FFFu, 0xFFFFu}) {
      const uint32_t id = CAPSPAWN_PA_HND(type, arg);
      char buf[32];
      int n = capspawn_startup_handle_name(id, buf, sizeof buf);
      ASSERT_GT(n, 0) << std::hex << id;
      ASSERT_LT(n, 32);
      uint32_t back = 0;
      ASSERT_EQ(capspawn_startup_handle_parse_name(buf, static_cast<size_t>(n), &back), 0) << buf;
      EXPECT_EQ(back, id) << buf;
    }
  }
}

TEST(StartupHandleName, SmallBufferFails) {
  char buf[4];
  std::memset(buf, 'Z', sizeof buf);
  EXPECT_EQ(capspawn_startup_handle_name(CAPSPAWN_PA_HND(CAPSPAWN_PA_DIRECTORY_REQUEST, 0), buf,
                                         sizeof buf),
            -1);
}

TEST(StartupHandleName, ParseUsesTheGivenLength) {
  const char list[] = "user0.0:user1.7";
  uint32_t id = 0;
  ASSERT_EQ(capspawn_startup_handle_parse_name(list, 7, &id), 0);
  EXPECT_EQ(id, CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 0));
  ASSERT_EQ(capspawn_startup_handle_parse_name(list + 8, 7, &id), 0);
  EXPECT_EQ(id, CAPSPAWN_PA_HND(CAPSPAWN_PA_USER1, 7));
}

TEST(StartupHandleName, ParseRejectsGarbage) {
  for (const char* bad : {"", "unknown", "stored", "nosuch.0", "user0.", "user0.x", "user0.65536",
                          ".0", "user0.-1"}) {
    uint32_t id = 12345;
    EXPECT_EQ(Parse(bad, &id), -1) << '"' << bad << '"';
  }
}

}  // namespace
