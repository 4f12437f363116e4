// SPDX-License-Identifier: Apache-2.0
// The container features through ProcessBuilder and through
// capspawn_create_without_starting: the process is fully set up, stopped
// after its exec, and runs only when started.
#include <sys/resource.h>

#include <gtest/gtest.h>

#include <capspawn/process_builder.h>
#include <capspawn/start.h>

#include "ct_util.h"

namespace {

using namespace ct;  // NOLINT

std::string State(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all;
  std::getline(in, all);
  size_t close_paren = all.rfind(')');
  return close_paren == std::string::npos ? "?" : all.substr(close_paren + 2, 1);
}

TEST(ContainerBuilder, BuildsAContainerStoppedThenStarts) {
  Rootfs root;
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  capspawn::ProcessBuilder b("ct", -1, capspawn::UniqueFd(open(kProbe, O_RDONLY | O_CLOEXEC)));
  b.add_arguments({"ct_probe", "stat:/proc/1", "write:/tmp/x"});
  std::vector<capspawn::NamespaceEntry> entries;
  entries.push_back({"/", capspawn::UniqueFd(OpenDir(root.path())), false});
  ASSERT_TRUE(b.add_namespace_entries(std::move(entries)).ok());
  std::vector<capspawn::StartupHandle> handles;
  handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 1), capspawn::UniqueFd(out[1])});
  ASSERT_TRUE(b.add_handles(std::move(handles)).ok());
  b.set_new_namespaces(CAPSPAWN_NEW_NS_PID | CAPSPAWN_NEW_NS_NET | CAPSPAWN_NEW_NS_UTS);
  b.set_hostname("built");
  b.add_mount({CAPSPAWN_MOUNT_PROC, CAPSPAWN_MOUNT_NOSUID, "/proc", {}, ""});
  b.add_mount({CAPSPAWN_MOUNT_TMPFS, CAPSPAWN_MOUNT_NODEV, "/tmp", {}, "size=1m"});
  b.set_rlimit(RLIMIT_NOFILE, 32, 32);
  b.set_no_new_privs();
  b.set_new_session();
  b.set_working_directory("/tmp");
  if (!AsRoot()) {
    b.add_uid_map(0, geteuid(), 1);
    b.add_gid_map(0, getegid(), 1);
  }
  capspawn::Result<capspawn::BuiltProcess> built = b.build();
  ASSERT_TRUE(built.ok()) << built.error().message();
  EXPECT_EQ(State(built->thread), "T") << "stopped (a group stop) before its first instruction";
  EXPECT_NE(built->entry, 0u);
  ASSERT_TRUE(built->start().ok());
  Report r;
  r.out = Drain(out[0]);
  close(out[0]);
  Parse(&r);
  capspawn::Result<int64_t> rc = built->process.Wait();
  ASSERT_TRUE(rc.ok());
  EXPECT_EQ(rc.value(), 0);
  EXPECT_EQ(r["hostname"], "built");
  EXPECT_EQ(r["pid"], "1");
  EXPECT_EQ(r["stat:/proc/1"], "dir");
  EXPECT_EQ(r["write:/tmp/x"], "ok");
  EXPECT_EQ(r["cwd"], "/tmp");
  EXPECT_EQ(r["nofile"], "32:32");
  EXPECT_EQ(r["nnp"], "1");
  EXPECT_EQ(r["sid"], "1");  // its own session, led by itself (pid 1 here)
  EXPECT_EQ(r["lo_up"], "1");
}

TEST(ContainerBuilder, BadInputNamesTheAction) {
  capspawn::ProcessBuilder b("ct", -1, capspawn::UniqueFd(open(kProbe, O_RDONLY | O_CLOEXEC)));
  b.add_arguments({"ct_probe"});
  b.set_umask(0777);
  b.set_hostname("");
  auto built = b.build();
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.error().message(),
            "build: action 2 (SET_HOSTNAME): the hostname must have 1 to 64 bytes");
}

TEST(ContainerBuilder, CreateWithoutStartingComposes) {
  Rootfs root;
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  capspawn_mount_t proc{CAPSPAWN_MOUNT_PROC, 0, "/proc", -1, nullptr};
  capspawn_capabilities_t caps{};
  caps.bounding = caps.permitted = caps.effective = 1ull << 10;
  capspawn_action_t c = Act(CAPSPAWN_ACTION_SET_CAPABILITIES);
  c.caps.sets = &caps;
  capspawn_action_t o = Act(CAPSPAWN_ACTION_TRANSFER_FD);
  o.fd.local_fd = out[1];
  o.fd.target_fd = 1;
  std::vector<capspawn_action_t> acts = {Root(OpenDir(root.path())), NewNs(CAPSPAWN_NEW_NS_PID),
                                         Mount(&proc), c, o};
  if (!AsRoot()) {
    acts.push_back(Map(CAPSPAWN_ACTION_ADD_UID_MAP, 0, geteuid(), 1));
    acts.push_back(Map(CAPSPAWN_ACTION_ADD_GID_MAP, 0, getegid(), 1));
  }
  const char* argv[] = {"ct_probe", nullptr};
  capspawn_start_data_t data{};
  char msg[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  ASSERT_EQ(capspawn_create_without_starting(-1, kAll, kProbe, -1, argv, nullptr, acts.size(),
                                             acts.data(), &data, msg),
            CAPSPAWN_OK)
      << msg;
  EXPECT_EQ(State(data.thread), "T");
  ASSERT_EQ(capspawn_start(data.process), CAPSPAWN_OK);
  Report r;
  r.out = Drain(out[0]);
  close(out[0]);
  Parse(&r);
  int64_t rc = -1;
  ASSERT_EQ(capspawn_process_wait(data.process, -1, &rc), CAPSPAWN_OK);
  EXPECT_EQ(rc, 0);
  close(data.process);
  close(data.root_vmar);
  EXPECT_EQ(r["pid"], "1");
  EXPECT_EQ(r["cap_eff"], "400");
  EXPECT_EQ(r["cap_bnd"], "400");
}

}  // namespace
