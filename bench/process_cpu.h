// CPU time of the processes a pool benchmark point runs: the dispatcher, its local workers, and the
// benchmark itself (the HTTP clients), and of the whole machine (to see what else ran), read from /proc and
// getrusage. Linux only.
#pragma once

namespace tsdsr::bench {

// User + system CPU seconds used so far.
struct CpuSeconds {
  double dispatcher = 0;  // the dispatcher process, all its threads
  double workers = 0;     // its live child processes (the local workers)
  double client = 0;      // this process
  double machine = 0;     // every CPU of the machine, busy (not idle or iowait), whoever ran
  double steal = 0;       // time the hypervisor gave this VM's CPUs to someone else

  // What ran on the machine besides the dispatcher, its workers and this process.
  double others() const { return machine - dispatcher - workers - client; }
};

// Reads the CPU time of `dispatcher_pid`, of every live process whose parent it is, of this process, and of
// the machine (/proc/stat). A process that cannot be read (it just exited) counts as 0. Thread-safe.
CpuSeconds ReadCpu(int dispatcher_pid);

// `after` minus `before`, field by field.
CpuSeconds operator-(const CpuSeconds& after, const CpuSeconds& before);

}  // namespace tsdsr::bench
