#include "worker/model/sd3/sd3_transformer_embeddings.h"

#include <cmath>
#include <vector>

#include <ATen/ops/arange.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/cos.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/exp.h>
#include <ATen/ops/sin.h>
#include <ATen/ops/zeros.h>
#include <c10/util/Exception.h>

namespace tsdsr::model::sd3 {

at::Tensor SincosPosEmbed2d(int64_t embed_dim, int64_t grid_size, int64_t base_size, double interpolation_scale) {
  TORCH_CHECK(embed_dim > 0 && embed_dim % 4 == 0, "the sin-cos position embedding needs a width that is a ",
              "positive multiple of 4, got ", embed_dim);
  TORCH_CHECK(grid_size > 0 && base_size > 0 && interpolation_scale > 0, "bad sin-cos grid: size ", grid_size,
              ", base size ", base_size, ", interpolation scale ", interpolation_scale);
  // numpy: arange(float32) / (grid / base) / scale, both divisions in float32.
  const float ratio = static_cast<float>(static_cast<double>(grid_size) / static_cast<double>(base_size));
  const auto interpolation = static_cast<float>(interpolation_scale);
  std::vector<double> position(grid_size);
  for (int64_t i = 0; i < grid_size; ++i) position[i] = static_cast<float>(i) / ratio / interpolation;
  // get_1d_sincos_pos_embed_from_grid(embed_dim / 2, ...): omega_k = 1 / 10000^(k / (embed_dim / 4)), in double.
  const int64_t quarter = embed_dim / 4;
  std::vector<double> omega(quarter);
  for (int64_t k = 0; k < quarter; ++k) {
    omega[k] = 1.0 / std::pow(10000.0, static_cast<double>(k) / static_cast<double>(quarter));
  }

  at::Tensor table = at::empty({grid_size * grid_size, embed_dim}, at::kFloat);
  float* out = table.data_ptr<float>();
  for (int64_t row = 0; row < grid_size; ++row) {
    for (int64_t col = 0; col < grid_size; ++col) {
      float* token = out + (row * grid_size + col) * embed_dim;
      for (int64_t k = 0; k < quarter; ++k) {
        const double x = position[col] * omega[k];
        const double y = position[row] * omega[k];
        token[k] = static_cast<float>(std::sin(x));
        token[quarter + k] = static_cast<float>(std::cos(x));
        token[2 * quarter + k] = static_cast<float>(std::sin(y));
        token[3 * quarter + k] = static_cast<float>(std::cos(y));
      }
    }
  }
  return table;
}

at::Tensor CropPosEmbed(const at::Tensor& table, int64_t max_size, int64_t height, int64_t width) {
  TORCH_CHECK(table.dim() == 2 && table.size(0) == max_size * max_size, "position table of shape ", table.sizes(),
              " is not (", max_size, "², D)");
  TORCH_CHECK(height >= 1 && height <= max_size && width >= 1 && width <= max_size, "a ", height, "×", width,
              " patch grid does not fit the ", max_size, "×", max_size, " position embedding (pos_embed_max_size)");
  const int64_t top = (max_size - height) / 2;
  const int64_t left = (max_size - width) / 2;
  return table.view({max_size, max_size, table.size(1)})
      .narrow(0, top, height)
      .narrow(1, left, width)
      .reshape({height * width, table.size(1)});
}

at::Tensor TimestepSinusoid(const at::Tensor& timesteps, int64_t dim) {
  TORCH_CHECK(timesteps.dim() == 1, "timesteps must be one-dimensional (N), got shape ", timesteps.sizes());
  TORCH_CHECK(dim >= 2, "the timestep embedding needs at least 2 channels, got ", dim);
  const int64_t half = dim / 2;
  // The operations and their order are diffusers' get_timestep_embedding, all in float32.
  const at::Tensor exponent = at::arange(0, half, at::TensorOptions().dtype(at::kFloat).device(timesteps.device()))
                                  .mul(-std::log(10000.0))
                                  .div(static_cast<double>(half));
  const at::Tensor frequencies = at::exp(exponent);
  const at::Tensor angles = timesteps.unsqueeze(1).to(at::kFloat).mul(frequencies.unsqueeze(0));
  at::Tensor embedding = at::cat({at::cos(angles), at::sin(angles)}, 1);
  if (dim % 2 == 1) {
    embedding = at::cat({embedding, at::zeros({timesteps.size(0), 1}, embedding.options())}, 1);
  }
  return embedding;
}

}  // namespace tsdsr::model::sd3
