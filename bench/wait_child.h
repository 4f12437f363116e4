// SPDX-License-Identifier: Apache-2.0
// Reaping helpers shared by the spawn methods.
#ifndef CAPSPAWN_BENCH_WAIT_CHILD_H_
#define CAPSPAWN_BENCH_WAIT_CHILD_H_

#include <sys/types.h>

#include <string>

namespace capspawn_bench {

// waitpid(pid); "" when the child exited with status 0, else what happened.
std::string WaitPid(pid_t pid);
// waitid(P_PIDFD, pidfd), then closes pidfd; "" when it exited with status 0.
std::string WaitPidfdAndClose(int pidfd);
// Describes a non-zero exit: "exit status 127" / "killed by signal 9".
std::string DescribeExit(bool exited, int code);

}  // namespace capspawn_bench

#endif  // CAPSPAWN_BENCH_WAIT_CHILD_H_
