// A bound on the bytes the dispatcher holds for requests and jobs: request bodies from their head until their
// response is written, responses until written, async inputs while the pool holds them. Work that would take it
// over its limit is refused (503) before its bytes are kept; what must be held anyway (a worker's answer) is
// counted all the same, so that new work waits until it is written. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

namespace tsdsr {

class MemoryBudget : public std::enable_shared_from_this<MemoryBudget> {
 public:
  // What one holder counts against the budget; gives it back when released or destroyed. Move-only.
  class Lease {
   public:
    Lease() = default;
    ~Lease() { Release(); }
    Lease(Lease&& other) noexcept : budget_(std::move(other.budget_)), bytes_(other.bytes_) { other.bytes_ = 0; }
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    // Counts `bytes` more if the budget has room; false (nothing counted) when it has not or the lease is empty.
    bool TryGrow(std::int64_t bytes);
    void Release();
    std::int64_t bytes() const { return bytes_; }

   private:
    friend class MemoryBudget;
    Lease(std::shared_ptr<MemoryBudget> budget, std::int64_t bytes) : budget_(std::move(budget)), bytes_(bytes) {}
    std::shared_ptr<MemoryBudget> budget_;
    std::int64_t bytes_ = 0;
  };

  // `limit` bytes; 0 = no limit (everything is counted, nothing refused).
  static std::shared_ptr<MemoryBudget> Create(std::int64_t limit);

  // A lease of `bytes` when they fit under the limit with what is held; nullopt (and a refusal counted) otherwise.
  // A single reservation larger than the whole limit never fits.
  std::optional<Lease> TryReserve(std::int64_t bytes);
  // A lease of `bytes` whether they fit or not (what is already in memory and must stay until written).
  Lease Force(std::int64_t bytes);

  std::int64_t limit() const { return limit_; }
  std::int64_t used() const { return used_.load(); }
  std::int64_t peak() const { return peak_.load(); }
  std::int64_t refusals() const { return refusals_.load(); }

 private:
  explicit MemoryBudget(std::int64_t limit) : limit_(limit) {}
  bool Take(std::int64_t bytes);  // counts `bytes` if they fit
  void Add(std::int64_t bytes);   // counts `bytes` unconditionally

  const std::int64_t limit_;
  std::atomic<std::int64_t> used_{0};
  std::atomic<std::int64_t> peak_{0};
  std::atomic<std::int64_t> refusals_{0};
};

// The default budget of a process: a quarter of the machine's memory, or of the control group's limit when that
// is lower (a container), and at least 256 MiB.
std::int64_t DefaultMemoryBudgetBytes();

// At most what one job holds in a worker while it runs, estimated from what the dispatcher knows before sending
// it: the payload, the decoded input and the upscaled output (8-bit and as float tensors) and the encoded answer;
// for a video chunk, one frame in and out at a time besides the payload. The model's own tiles are bounded apart
// (the worker's --tile-memory-mb). Unknown sizes (0) count as one pixel.
std::int64_t WorkerJobBytes(std::int64_t payload_bytes, int input_width, int input_height, int scale);

}  // namespace tsdsr
