// tsdsr-model-bench: CPU speed of the built-in models (builtin:NAME) in the serving path, against the same
// network and weights run by PyTorch from Python (bench/torch_reference.py under /usr/bin/python3, Debian's
// python3-torch) in the same run, on the same input and with the same number of intra-op threads. Reports
// output megapixels per second (median over the timed repetitions) for both, their ratio, and the largest
// difference between the two outputs, which shows that both ran the same network. See README.md.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/from_blob.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/cli.h"
#include "worker/model/builtin_catalog.h"
#include "worker/model/builtin_model.h"

namespace tsdsr::bench {
namespace {

using nlohmann::json;

struct ModelBenchOptions {
  std::vector<std::string> models;  // catalogue names; empty: every built-in model
  std::vector<int> sizes = {64};    // edges of the square LR input
  int batch = 1;                    // tiles per Forward call
  int warmup = 1;                   // untimed runs before the timed ones
  int repeat = 5;                   // timed runs; the median counts
  int threads = 1;                  // intra-op threads of both sides (at::set_num_threads, torch.set_num_threads)
  unsigned seed = 1;                // of the random input
  std::string models_dir;           // default: ResolveModelsDir("")
  std::string python = "/usr/bin/python3";
  std::string script;  // default: bench/torch_reference.py of the repository this program was built from
  bool no_python = false;
  std::string json;  // also write the results here
};

// What one side measured for one model and size.
struct Timing {
  std::vector<double> seconds;      // wall-clock, one per repetition
  std::vector<double> cpu_seconds;  // process CPU time, one per repetition
};

struct Row {
  std::string model;
  int size = 0;
  int scale = 0;
  double output_mp = 0;  // output megapixels per Forward (all tiles)
  Timing cpp;
  Timing python;
  double max_abs_diff = -1;  // -1: not compared
};


CliOutcome ParseOptions(int argc, char** argv, ModelBenchOptions* o) {
  CLI::App app(
      "tsdsr-model-bench: CPU output MP/s of the built-in models, C++ (BuiltinModel::Forward) against "
      "the same network in PyTorch from Python.");
  app.add_option("--models", o->models, "Built-in models, comma-separated (default: all)")->delimiter(',');
  app.add_option("--size", o->sizes, "LR input edges, comma-separated")->delimiter(',')->capture_default_str();
  app.add_option("--batch", o->batch, "Tiles per Forward call")->capture_default_str()->check(CLI::Range(1, 64));
  app.add_option("--warmup", o->warmup, "Untimed runs first")->capture_default_str()->check(CLI::Range(0, 100));
  app.add_option("--repeat", o->repeat, "Timed runs (median reported)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--threads", o->threads, "Intra-op threads, both sides")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--seed", o->seed, "Seed of the random input")->capture_default_str();
  app.add_option("--models-dir", o->models_dir, "Models folder (default: TSDSR_MODELS_DIR or the repository's)");
  app.add_option("--python", o->python, "Python interpreter with torch")->capture_default_str();
  app.add_option("--script", o->script, "The reference script (default: bench/torch_reference.py of this tree)");
  app.add_flag("--no-python", o->no_python, "Measure the C++ side only");
  app.add_option("--json", o->json, "Also write the results as JSON to this file");
  CliOutcome outcome = ParseCommandLine(app, ArgsOf(argc, argv));
  if (o->models.empty()) {
    for (const model::BuiltinModelInfo& info : model::BuiltinModels()) o->models.emplace_back(info.name);
  }
  o->models_dir = model::ResolveModelsDir(o->models_dir);
  if (o->script.empty()) {
    o->script = (std::filesystem::path(ProgramDir()) / ".." / ".." / "bench" / "torch_reference.py")
                    .lexically_normal()
                    .string();
  }
  return outcome;
}

Status Validate(const ModelBenchOptions& o) {
  for (const std::string& name : o.models) TSDSR_RETURN_IF_ERROR(model::FindBuiltinModel(name).status());
  for (int size : o.sizes) {
    if (size < 4 || size > 1024) return Status::InvalidArgument("--size: each edge must be in 4..1024");
  }
  if (o.sizes.empty()) return Status::InvalidArgument("--size: give at least one edge");
  if (!o.no_python && access(o.script.c_str(), R_OK) != 0) {
    return Status::InvalidArgument("--script: cannot read " + o.script);
  }
  return Status::Ok();
}

// ---- .npy (version 1.0, little-endian float32, C order): how the two sides exchange tensors ----

Status WriteNpy(const std::string& path, const at::Tensor& tensor) {
  const at::Tensor t = tensor.to(at::kFloat).contiguous();
  std::string shape = "(";
  for (int64_t d : t.sizes()) shape += std::to_string(d) + ", ";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + "), }";
  header.append(63 - (10 + header.size()) % 64, ' ').push_back('\n');  // data starts 64-byte aligned
  std::ofstream file(path, std::ios::binary);
  const uint16_t length = static_cast<uint16_t>(header.size());  // little-endian on every target here
  file.write("\x93NUMPY\x01\x00", 8).write(reinterpret_cast<const char*>(&length), 2) << header;
  file.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * sizeof(float)));
  if (!file) return Status::Internal("cannot write " + path);
  return Status::Ok();
}

Result<at::Tensor> ReadNpy(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0 || bytes[6] != 1) {
    return Status::InvalidArgument(path + ": not a version 1.0 .npy file");
  }
  const size_t length = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
  const std::string header = bytes.substr(10, length);
  const size_t open = header.find("'shape': (");
  if (header.find("'<f4'") == std::string::npos || header.find("'fortran_order': False") == std::string::npos ||
      open == std::string::npos) {
    return Status::InvalidArgument(path + ": not little-endian float32 in C order: " + header);
  }
  std::vector<int64_t> shape;
  std::istringstream dims(header.substr(open + 10, header.find(')', open) - open - 10));
  int64_t numel = 1;
  for (std::string d; std::getline(dims, d, ',');) {
    if (d.find_first_not_of(' ') == std::string::npos) continue;
    if (d.find_first_not_of(" 0123456789") != std::string::npos) {
      return Status::InvalidArgument(path + ": bad shape in " + header);
    }
    shape.push_back(std::stoll(d));
    numel *= shape.back();
  }
  if (bytes.size() != 10 + length + static_cast<size_t>(numel) * sizeof(float)) {
    return Status::InvalidArgument(path + ": size does not match its shape");
  }
  return at::from_blob(bytes.data() + 10 + length, shape, at::kFloat).clone();
}

// ---- measuring ----

// (batch, 3, size, size) uniform in [0, 1), the same for a seed on every machine (mt19937 is specified
// exactly; the standard distributions are not).
at::Tensor SeededInput(int batch, int size, unsigned seed) {
  std::mt19937 random(seed);
  std::vector<float> values(static_cast<size_t>(batch) * 3 * size * size);
  for (float& v : values) v = static_cast<float>(random() >> 8) / static_cast<float>(1 << 24);
  return at::from_blob(values.data(), {batch, 3, size, size}, at::kFloat).clone();
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

// Process CPU time (all threads), seconds.
double CpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// One Forward of `network` on `input`, timed into `timing` (when not null); returns its output.
at::Tensor RunCpp(model::BuiltinModel& network, const at::Tensor& input, Timing* timing) {
  c10::InferenceMode inference_mode;  // as the worker runs it (torch_upscaler)
  const double cpu = CpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  at::Tensor output = network.Forward(input, network.info().scale);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  if (timing != nullptr) {
    timing->seconds.push_back(elapsed.count());
    timing->cpu_seconds.push_back(CpuSeconds() - cpu);
  }
  return output;
}

// bench/torch_reference.py --serve, running: Ask sends it one command line and returns its JSON answer.
class Reference {
 public:
  // Starts `argv` with pipes on its stdin and stdout and reads its first line. Internal if it cannot start.
  static Result<std::unique_ptr<Reference>> Start(const std::vector<std::string>& argv) {
    std::vector<char*> args;  // built before fork: the child may only make async-signal-safe calls
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    int to_child[2];
    int from_child[2];
    if (pipe(to_child) != 0) return Status::Internal("pipe failed");
    if (pipe(from_child) != 0) return close(to_child[0]), close(to_child[1]), Status::Internal("pipe failed");
    const pid_t pid = fork();
    if (pid == 0) {
      dup2(to_child[0], STDIN_FILENO);
      dup2(from_child[1], STDOUT_FILENO);
      for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) close(fd);
      execv(args[0], args.data());
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    if (pid < 0) return close(to_child[1]), close(from_child[0]), Status::Internal("fork failed");
    std::unique_ptr<Reference> process(new Reference(pid, fdopen(to_child[1], "w"), fdopen(from_child[0], "r")));
    if (process->in_ == nullptr || process->out_ == nullptr) return Status::Internal("fdopen failed");
    TSDSR_ASSIGN_OR_RETURN(process->hello_, process->ReadLine());
    return process;
  }

  ~Reference() {
    if (in_ != nullptr) std::fclose(in_);  // EOF on its stdin: it exits
    if (out_ != nullptr) std::fclose(out_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }

  Result<json> Ask(const std::string& command) {
    if (std::fprintf(in_, "%s\n", command.c_str()) < 0 || std::fflush(in_) != 0) {
      return Status::Internal("the reference exited");
    }
    return ReadLine();
  }
  // Its first line: {"torch": version, "threads": n}.
  const json& hello() const { return hello_; }

 private:
  Reference(pid_t pid, FILE* in, FILE* out) : pid_(pid), in_(in), out_(out) {}

  Result<json> ReadLine() {
    std::string line;
    for (int c; (c = std::fgetc(out_)) != EOF && c != '\n';) line += static_cast<char>(c);
    json answer = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (answer.is_discarded() || !answer.is_object() || answer.contains("error")) {
      return Status::Internal("the reference failed (is python3-torch installed?): " + line.substr(0, 200));
    }
    return answer;
  }

  pid_t pid_;
  FILE* in_;   // its stdin
  FILE* out_;  // its stdout
  json hello_;
};

Result<std::unique_ptr<Reference>> StartReference(const ModelBenchOptions& o, const model::BuiltinModelInfo& info,
                                                  const std::string& input_path, const std::string& output_path) {
  TSDSR_ASSIGN_OR_RETURN(
      auto reference,
      Reference::Start({o.python, o.script, "--serve", "--model-dir", model::BuiltinModelDir(o.models_dir, info),
                        "--input", input_path, "--output", output_path, "--pixel-range",
                        std::to_string(info.pixel_range), "--threads", std::to_string(o.threads)}));
  if (reference->hello().value("threads", 0) != o.threads) {
    return Status::Internal("the reference runs " + reference->hello().dump() + ", not " + std::to_string(o.threads) +
                            " thread(s)");
  }
  return reference;
}

Status RunReference(Reference& reference, Timing* timing) {
  TSDSR_ASSIGN_OR_RETURN(const json answer, reference.Ask("run"));
  if (timing != nullptr) {
    timing->seconds.push_back(answer.at("seconds").get<double>());
    timing->cpu_seconds.push_back(answer.at("cpu_seconds").get<double>());
  }
  return Status::Ok();
}

// Warm-up runs of both sides, then o.repeat rounds that alternate them (which goes first alternates too), so
// that a shared machine's changing load weighs on both alike. Compares the last outputs.
Status MeasureBoth(const ModelBenchOptions& o, model::BuiltinModel& network, Reference& reference,
                   const at::Tensor& input, const std::string& output_path, Row* row) {
  at::Tensor output;
  for (int rep = 0; rep < o.warmup; ++rep) {
    output = RunCpp(network, input, nullptr);
    TSDSR_RETURN_IF_ERROR(RunReference(reference, nullptr));
  }
  for (int rep = 0; rep < o.repeat; ++rep) {
    if (rep % 2 == 1) TSDSR_RETURN_IF_ERROR(RunReference(reference, &row->python));
    output = RunCpp(network, input, &row->cpp);
    if (rep % 2 == 0) TSDSR_RETURN_IF_ERROR(RunReference(reference, &row->python));
  }
  row->output_mp = static_cast<double>(output.numel() / output.size(1)) / 1e6;
  TSDSR_RETURN_IF_ERROR(reference.Ask("save").status());
  TSDSR_ASSIGN_OR_RETURN(const at::Tensor python_output, ReadNpy(output_path));
  if (python_output.sizes() != output.sizes()) {
    return Status::Internal("the reference's output is " + c10::str(python_output.sizes()) + ", C++'s " +
                            c10::str(output.sizes()));
  }
  row->max_abs_diff = python_output.sub(output).abs().max().item<double>();
  return Status::Ok();
}

// Measures one model at one size (C++ alone with --no-python).
Result<Row> MeasureModel(const ModelBenchOptions& o, const std::string& name, int size, const std::string& work) {
  TSDSR_ASSIGN_OR_RETURN(const model::BuiltinModelInfo info, model::FindBuiltinModel(name));
  TSDSR_ASSIGN_OR_RETURN(auto network, model::BuiltinModel::Create(name, o.models_dir, c10::kCPU, at::kFloat));
  Row row;
  row.model = name;
  row.size = size;
  row.scale = info.scale;
  const at::Tensor input = SeededInput(o.batch, size, o.seed);
  try {
    if (o.no_python) {
      for (int rep = 0; rep < o.warmup + o.repeat; ++rep) {
        const at::Tensor output = RunCpp(*network, input, rep < o.warmup ? nullptr : &row.cpp);
        row.output_mp = static_cast<double>(output.numel() / output.size(1)) / 1e6;
      }
      return row;
    }
    const std::string input_path = work + "/input.npy";
    const std::string output_path = work + "/output.npy";
    TSDSR_RETURN_IF_ERROR(WriteNpy(input_path, input));
    TSDSR_ASSIGN_OR_RETURN(auto reference, StartReference(o, info, input_path, output_path));
    TSDSR_RETURN_IF_ERROR(MeasureBoth(o, *network, *reference, input, output_path, &row));
  } catch (const c10::Error& e) {
    return Status::Internal(name + ": " + e.what_without_backtrace());
  } catch (const json::exception& e) {
    return Status::Internal(name + ": unexpected answer from the reference: " + e.what());
  }
  return row;
}

// ---- reporting ----

// Output megapixels per second at the median wall-clock (or CPU) time of `t`; 0 without repetitions.
double Mps(const Row& row, const Timing& t, bool cpu = false) {
  const double median = Median(cpu ? t.cpu_seconds : t.seconds);
  return median > 0 ? row.output_mp / median : 0;
}

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string Today() {
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", &utc);
  return date;
}

std::string Format(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

std::string MarkdownTable(const std::vector<Row>& rows) {
  std::string table =
      "| model | LR size | output MP/s C++ | output MP/s Python | C++ / Python | C++ / Python, CPU time | "
      "max abs diff |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const Row& row : rows) {
    const double python = Mps(row, row.python);
    const double ratio = python > 0 ? Mps(row, row.cpp) / python : 0;
    const double cpu_ratio = python > 0 ? Mps(row, row.cpp, true) / Mps(row, row.python, true) : 0;
    table += "| " + row.model + " | " + std::to_string(row.size) + " | " + Format("%.4f", Mps(row, row.cpp)) + " | " +
             (python > 0 ? Format("%.4f", python) : "-") + " | " + (python > 0 ? Format("%.2f", ratio) : "-") + " | " +
             (python > 0 ? Format("%.2f", cpu_ratio) : "-") + " | " +
             (row.max_abs_diff >= 0 ? Format("%.1e", row.max_abs_diff) : "-") + " |\n";
  }
  return table;
}

json ToJson(const ModelBenchOptions& o, const std::vector<Row>& rows, const std::string& command,
            const std::string& date) {
  json out = {
      {"command", command},   {"date", date},         {"cpu", CpuModel()},  {"nproc", sysconf(_SC_NPROCESSORS_ONLN)},
      {"threads", o.threads}, {"batch", o.batch},     {"warmup", o.warmup}, {"repeat", o.repeat},
      {"seed", o.seed},       {"rows", json::array()}};
  for (const Row& row : rows) {
    out["rows"].push_back({{"model", row.model},
                           {"lr_size", row.size},
                           {"scale", row.scale},
                           {"output_mp", row.output_mp},
                           {"cpp_seconds", row.cpp.seconds},
                           {"cpp_cpu_seconds", row.cpp.cpu_seconds},
                           {"cpp_mps", Mps(row, row.cpp)},
                           {"cpp_mps_cpu_time", Mps(row, row.cpp, true)},
                           {"python_seconds", row.python.seconds},
                           {"python_cpu_seconds", row.python.cpu_seconds},
                           {"python_mps", Mps(row, row.python)},
                           {"python_mps_cpu_time", Mps(row, row.python, true)},
                           {"max_abs_diff", row.max_abs_diff}});
  }
  return out;
}

int Main(int argc, char** argv) {
  ModelBenchOptions o;
  const CliOutcome outcome = ParseOptions(argc, argv, &o);
  if (auto exit_code = FinishCommandLine(outcome, [&] { return Validate(o); })) return *exit_code;
  at::set_num_threads(o.threads);
  std::signal(SIGPIPE, SIG_IGN);  // a reference that died is an error from Ask, not the end of this program
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  char work_template[] = "/tmp/tsdsr-model-bench-XXXXXX";
  if (mkdtemp(work_template) == nullptr) return std::perror("mkdtemp"), 1;
  const std::string work = work_template;
  const std::string started = Today();
  std::fprintf(stderr, "%s, %ld CPUs, %d thread(s), %s\n", CpuModel().c_str(), sysconf(_SC_NPROCESSORS_ONLN),
               at::get_num_threads(), started.c_str());
  std::vector<Row> rows;
  int failures = 0;
  for (const std::string& name : o.models) {
    for (int size : o.sizes) {
      auto row = MeasureModel(o, name, size, work);
      if (!row.ok()) {
        std::fprintf(stderr, "%s at %d: %s\n", name.c_str(), size, row.status().ToString().c_str());
        ++failures;
        continue;
      }
      std::fprintf(stderr, "%s at %d: C++ %.4f MP/s (%.4f at CPU time)", name.c_str(), size, Mps(*row, row->cpp),
                   Mps(*row, row->cpp, true));
      if (row->max_abs_diff >= 0) {
        std::fprintf(stderr, ", Python %.4f (%.4f), max diff %.1e", Mps(*row, row->python),
                     Mps(*row, row->python, true), row->max_abs_diff);
      }
      std::fprintf(stderr, "\n");
      rows.push_back(std::move(*row));
    }
  }
  std::filesystem::remove_all(work);
  std::printf("%s", MarkdownTable(rows).c_str());
  if (!o.json.empty()) {
    std::ofstream file(o.json);
    file << ToJson(o, rows, command, started).dump(2) << "\n";
    if (!file) return std::fprintf(stderr, "error: cannot write --json %s\n", o.json.c_str()), 1;
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace tsdsr::bench

int main(int argc, char** argv) { return tsdsr::bench::Main(argc, argv); }
