#include "worker/model/tfjs_ops.h"

#include <ATen/ops/zeros.h>
#include <c10/util/Exception.h>

namespace tsdsr::model {

at::Tensor DepthToSpace(const at::Tensor& x, int64_t block) {
  TORCH_CHECK(x.dim() == 4, "depth_to_space takes (N, C, H, W), got ", x.sizes());
  TORCH_CHECK(block >= 1, "depth_to_space block must be at least 1, got ", block);
  const int64_t n = x.size(0);
  const int64_t depth = x.size(1);
  const int64_t h = x.size(2);
  const int64_t w = x.size(3);
  TORCH_CHECK(depth % (block * block) == 0, "depth_to_space: ", depth, " channels are not a multiple of ",
              block * block);
  const int64_t c = depth / (block * block);
  if (x.is_contiguous(at::MemoryFormat::ChannelsLast) && !x.is_contiguous()) {
    // On the NHWC data: (n, y, x, i, j, c) → (n, y, i, x, j, c), seen again as NCHW.
    return x.permute({0, 2, 3, 1})
        .reshape({n, h, w, block, block, c})
        .permute({0, 1, 3, 2, 4, 5})
        .reshape({n, h * block, w * block, c})
        .permute({0, 3, 1, 2});
  }
  // Channel index (i·b + j)·C + c → axes (i, j, c); then out[n, c, y, i, x, j].
  return x.reshape({n, block, block, c, h, w}).permute({0, 3, 4, 1, 5, 2}).reshape({n, c, h * block, w * block});
}

at::Tensor UpsampleNearest(const at::Tensor& x, int64_t sy, int64_t sx) {
  TORCH_CHECK(x.dim() == 4, "nearest upsampling takes (N, C, H, W), got ", x.sizes());
  TORCH_CHECK(sy >= 1 && sx >= 1, "nearest upsampling factors must be at least 1, got ", sy, "×", sx);
  const int64_t n = x.size(0);
  const int64_t c = x.size(1);
  const int64_t h = x.size(2);
  const int64_t w = x.size(3);
  return x.reshape({n, c, h, 1, w, 1}).expand({n, c, h, sy, w, sx}).reshape({n, c, h * sy, w * sx});
}

std::array<int64_t, 4> SamePadding(int64_t kernel_h, int64_t kernel_w, int64_t dilation_h, int64_t dilation_w) {
  const int64_t total_h = (kernel_h - 1) * dilation_h;
  const int64_t total_w = (kernel_w - 1) * dilation_w;
  return {total_w / 2, total_w - total_w / 2, total_h / 2, total_h - total_h / 2};
}

at::Tensor KernelToOihw(const at::Tensor& hwio) {
  TORCH_CHECK(hwio.dim() == 4, "a Conv2D kernel is (kh, kw, in, out), got ", hwio.sizes());
  return hwio.permute({3, 2, 0, 1}).contiguous();
}

namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

at::Tensor UpsampledConvKernel(const at::Tensor& oihw, int64_t block) {
  TORCH_CHECK(oihw.dim() == 4 && oihw.size(2) % 2 == 1 && oihw.size(3) % 2 == 1,
              "folding an upsampling takes an odd (out, in, kh, kw) kernel, got ", oihw.sizes());
  TORCH_CHECK(block >= 1, "upsampling factor must be at least 1, got ", block);
  const int64_t rh = (oihw.size(2) - 1) / 2;
  const int64_t rw = (oihw.size(3) - 1) / 2;
  const int64_t low_rh = (rh + block - 1) / block;  // radius in low-resolution pixels
  const int64_t low_rw = (rw + block - 1) / block;
  const at::Tensor w = oihw.to(at::kDouble);
  at::Tensor fused = at::zeros({block, block, oihw.size(0), oihw.size(1), 2 * low_rh + 1, 2 * low_rw + 1}, w.options());
  for (int64_t i = 0; i < block; ++i) {
    for (int64_t j = 0; j < block; ++j) {
      // Output pixel (y·b + i, x·b + j) reads upsampled pixel (y·b + i + dy, ...) = x[y + ⌊(i + dy) / b⌋, ...].
      for (int64_t dy = -rh; dy <= rh; ++dy) {
        for (int64_t dx = -rw; dx <= rw; ++dx) {
          fused[i][j]
              .select(2, FloorDiv(i + dy, block) + low_rh)
              .select(2, FloorDiv(j + dx, block) + low_rw)
              .add_(w.select(2, dy + rh).select(2, dx + rw));
        }
      }
    }
  }
  return fused.reshape({block * block * oihw.size(0), oihw.size(1), 2 * low_rh + 1, 2 * low_rw + 1})
      .to(oihw.scalar_type());
}

int64_t NchwAxis(int64_t nhwc_axis) {
  TORCH_CHECK(nhwc_axis >= -4 && nhwc_axis <= 3, "axis ", nhwc_axis, " is out of range for a rank-4 tensor");
  constexpr int64_t kNchwOfNhwc[4] = {0, 2, 3, 1};
  return kNchwOfNhwc[(nhwc_axis + 4) % 4];
}

}  // namespace tsdsr::model
