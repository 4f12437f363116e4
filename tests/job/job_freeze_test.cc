// SPDX-License-Identifier: Apache-2.0
// Freezing a job stops its processes (a busy loop makes no progress), thawing resumes them.
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "job_test_util.h"

namespace capspawn::jobtest {
namespace {

// The counter the helper's busy loop increments, shared through a memfd.
class Counter {
 public:
  Counter() : fd_(memfd_create("job-counter", MFD_CLOEXEC)) {
    EXPECT_TRUE(fd_.valid());
    EXPECT_EQ(ftruncate(fd_.get(), 4096), 0);
    void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
    EXPECT_NE(p, MAP_FAILED);
    value_ = static_cast<uint64_t*>(p);
  }
  ~Counter() { munmap(value_, 4096); }
  int fd() const { return fd_.get(); }
  uint64_t Get() const { return __atomic_load_n(value_, __ATOMIC_RELAXED); }
  // Waits (bounded only by a hang guard) until the counter passes `than`.
  bool WaitAbove(uint64_t than) const {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(kLongMs);
    while (Get() <= than) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

 private:
  UniqueFd fd_;
  uint64_t* value_ = nullptr;
};

TEST_F(JobTest, FreezeStopsABusyLoopAndThawResumesIt) {
  Result<Job> child = root().CreateChild("worker");
  ASSERT_OK(child);
  Counter counter;
  Result<Process> p = SpawnHelper(child->fd().get(), {"count", "10"}, {{counter.fd(), 10}});
  ASSERT_OK(p);
  ASSERT_TRUE(counter.WaitAbove(0)) << "the busy loop never ran";

  // Freezing the parent job freezes the child job's processes too.
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH];
  ASSERT_EQ(capspawn_job_freeze(root().fd().get(), kLongNs, err), CAPSPAWN_OK) << err;
  Result<JobInfo> info = child->Info();
  ASSERT_OK(info);
  EXPECT_TRUE(info->frozen);
  const uint64_t frozen_at = counter.Get();
  // However long we look, a frozen process makes no progress.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(counter.Get(), frozen_at);
  // A child's own thaw cannot undo its parent's freeze.
  ASSERT_OK(child->Thaw());
  info = child->Info();
  ASSERT_OK(info);
  EXPECT_TRUE(info->frozen);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(counter.Get(), frozen_at);

  ASSERT_EQ(capspawn_job_thaw(root().fd().get(), err), CAPSPAWN_OK) << err;
  EXPECT_TRUE(counter.WaitAbove(frozen_at)) << "no progress after thaw";
  info = child->Info();
  ASSERT_OK(info);
  EXPECT_FALSE(info->frozen);

  // A frozen job can still be killed.
  ASSERT_OK(root().Freeze(kLongNs));
  ASSERT_OK(root().Kill(kLongNs));
  Result<int64_t> rc = p->Wait(kLongNs);
  ASSERT_OK(rc);
  EXPECT_EQ(*rc, -9);
}

TEST_F(JobTest, FreezingAnEmptyJobCompletes) {
  ASSERT_OK(root().Freeze(kLongNs));
  Result<JobInfo> info = root().Info();
  ASSERT_OK(info);
  EXPECT_TRUE(info->frozen);
  ASSERT_OK(root().Thaw());
}

}  // namespace
}  // namespace capspawn::jobtest
