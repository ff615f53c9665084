#include "bench/process_cpu.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tsdsr::bench {
namespace {

struct ProcStat {
  int ppid = 0;
  double cpu_s = 0;  // utime + stime
};

// /proc/PID/stat: "pid (comm) state ppid ... utime stime ..." (fields 4, 14 and 15); comm may hold spaces
// and parentheses, so fields are counted from the last ')'. False when the process is gone.
bool ReadStat(const std::string& pid, ProcStat* stat) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos) return false;
  std::istringstream fields(line.substr(paren + 2));
  std::string field;
  double utime = 0;
  double stime = 0;
  for (int index = 3; fields >> field && index <= 15; ++index) {
    if (index == 4) stat->ppid = std::atoi(field.c_str());
    if (index == 14) utime = std::atof(field.c_str());
    if (index == 15) stime = std::atof(field.c_str());
  }
  stat->cpu_s = (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return true;
}

// The first line of /proc/stat: "cpu user nice system idle iowait irq softirq steal ..." in clock ticks, summed
// over all CPUs. Busy is everything but idle and iowait (guest time is already inside user).
void ReadMachine(CpuSeconds* cpu) {
  std::ifstream in("/proc/stat");
  std::string label;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (!(in >> label >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) || label != "cpu") return;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  cpu->machine = (user + nice + system + irq + softirq) / tick;
  cpu->steal = steal / tick;
}

}  // namespace

CpuSeconds ReadCpu(int dispatcher_pid) {
  CpuSeconds cpu;
  ProcStat stat;
  if (ReadStat(std::to_string(dispatcher_pid), &stat)) cpu.dispatcher = stat.cpu_s;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (ReadStat(name, &stat) && stat.ppid == dispatcher_pid) cpu.workers += stat.cpu_s;
  }
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  cpu.client = seconds(self.ru_utime) + seconds(self.ru_stime);
  ReadMachine(&cpu);
  return cpu;
}

CpuSeconds operator-(const CpuSeconds& after, const CpuSeconds& before) {
  CpuSeconds d;
  d.dispatcher = after.dispatcher - before.dispatcher;
  d.workers = after.workers - before.workers;
  d.client = after.client - before.client;
  d.machine = after.machine - before.machine;
  d.steal = after.steal - before.steal;
  return d;
}

}  // namespace tsdsr::bench
