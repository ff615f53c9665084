// A stand-in for libnvidia-ml.so.1 with NVML's C ABI, for nvml_test.cc on machines without an NVIDIA driver:
// one GPU at PCI bus id 0000:17:00.0, 37 % busy. Counts init/shutdown calls so the test sees them balanced.
extern "C" {

static int g_live = 0;     // nvmlInit_v2 calls not yet shut down
static int g_device = 1;   // the one device's handle points here

int nvmlInit_v2() { return ++g_live > 0 ? 0 : 999; }
int nvmlShutdown() { return --g_live >= 0 ? 0 : 999; }
int nvmlFakeLiveCount() { return g_live; }

int nvmlDeviceGetHandleByPciBusId_v2(const char* bus_id, void** device) {
  const char* want = "0000:17:00.0";
  for (int i = 0;; ++i) {
    if (bus_id[i] != want[i]) return 6;  // NVML_ERROR_NOT_FOUND
    if (want[i] == '\0') break;
  }
  *device = &g_device;
  return 0;
}

struct Utilization {
  unsigned int gpu;
  unsigned int memory;
};

int nvmlDeviceGetUtilizationRates(void* device, Utilization* rates) {
  if (device != &g_device) return 2;  // NVML_ERROR_INVALID_ARGUMENT
  rates->gpu = 37;
  rates->memory = 12;
  return 0;
}

const char* nvmlErrorString(int code) { return code == 6 ? "Not Found" : "Unknown Error"; }
}
