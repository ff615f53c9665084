// A stand-in for libnvidia-ml.so.1 with NVML's C ABI, for nvml_test.cc on machines without an NVIDIA driver:
// a GPU at PCI bus id 0000:17:00.0, 37 % busy, drawing 215.5 W, 123456.789 J used, at 54 °C; and one at
// 0000:18:00.0 without power, energy or temperature sensors (NVML_ERROR_NOT_SUPPORTED), 5 % busy. Counts
// init/shutdown calls so the test sees them balanced.
extern "C" {

static int g_live = 0;     // nvmlInit_v2 calls not yet shut down
static int g_device = 1;   // the first device's handle points here
static int g_bare = 2;     // the second's

int nvmlInit_v2() { return ++g_live > 0 ? 0 : 999; }
int nvmlShutdown() { return --g_live >= 0 ? 0 : 999; }
int nvmlFakeLiveCount() { return g_live; }

static bool Equal(const char* a, const char* b) {
  for (int i = 0;; ++i) {
    if (a[i] != b[i]) return false;
    if (a[i] == '\0') return true;
  }
}

int nvmlDeviceGetHandleByPciBusId_v2(const char* bus_id, void** device) {
  if (Equal(bus_id, "0000:17:00.0")) *device = &g_device;
  else if (Equal(bus_id, "0000:18:00.0")) *device = &g_bare;
  else return 6;  // NVML_ERROR_NOT_FOUND
  return 0;
}

struct Utilization {
  unsigned int gpu;
  unsigned int memory;
};

int nvmlDeviceGetUtilizationRates(void* device, Utilization* rates) {
  if (device != &g_device && device != &g_bare) return 2;  // NVML_ERROR_INVALID_ARGUMENT
  rates->gpu = device == &g_device ? 37 : 5;
  rates->memory = 12;
  return 0;
}

int nvmlDeviceGetPowerUsage(void* device, unsigned int* milliwatts) {
  if (device != &g_device) return 3;  // NVML_ERROR_NOT_SUPPORTED
  *milliwatts = 215500;
  return 0;
}

int nvmlDeviceGetTotalEnergyConsumption(void* device, unsigned long long* millijoules) {  // NOLINT(runtime/int)
  if (device != &g_device) return 3;
  *millijoules = 123456789;
  return 0;
}

int nvmlDeviceGetTemperature(void* device, int sensor, unsigned int* celsius) {
  if (device != &g_device || sensor != 0) return 3;
  *celsius = 54;
  return 0;
}

const char* nvmlErrorString(int code) { return code == 6 ? "Not Found" : "Unknown Error"; }
}
