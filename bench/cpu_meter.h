// SPDX-License-Identifier: Apache-2.0
// CPU time spent on the benchmark's behalf: this process plus every child it
// reaped (which includes what those children reaped). Unlike wall time it
// hardly moves when other programs compete for the cores, so it is a steadier
// view of a spawner's cost on a busy machine. Work the kernel defers to other
// threads (kworkers, RCU callbacks) is not counted.
#ifndef CAPSPAWN_BENCH_CPU_METER_H_
#define CAPSPAWN_BENCH_CPU_METER_H_

#include <sys/resource.h>

#include <benchmark/benchmark.h>

namespace capspawn_bench {

// The user counter that holds it, in µs per iteration.
inline constexpr char kCpuCounter[] = "cpu_us";

class CpuMeter {
 public:
  CpuMeter() : start_us_(Now()) {}
  // Stores the CPU time since construction, per iteration, in the counter.
  void Report(benchmark::State& state) const {
    state.counters[kCpuCounter] =
        benchmark::Counter(Now() - start_us_, benchmark::Counter::kAvgIterations);
  }

 private:
  static double Micros(const timeval& tv) { return tv.tv_sec * 1e6 + tv.tv_usec; }
  static double Now() {
    rusage self{}, children{};
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    return Micros(self.ru_utime) + Micros(self.ru_stime) + Micros(children.ru_utime) +
           Micros(children.ru_stime);
  }
  double start_us_;
};

}  // namespace capspawn_bench

#endif  // CAPSPAWN_BENCH_CPU_METER_H_
