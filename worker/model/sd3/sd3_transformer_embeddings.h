// The fixed (weightless) embeddings of the SD3 transformer, computed as diffusers 0.29.2 computes them: the 2-D
// sin-cos position table of PatchEmbed (get_2d_sincos_pos_embed) with SD3's centre crop, and the sinusoidal
// timestep projection of CombinedTimestepTextProjEmbeddings (Timesteps with flip_sin_to_cos=True,
// downscale_freq_shift=0). Pure functions; they throw c10::Error for invalid arguments.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace tsdsr::model::sd3 {

// The (grid_size², embed_dim) float32 CPU table for a grid_size × grid_size patch grid, row-major over (row, col).
// Position p of index i is i / (grid_size / base_size) / interpolation_scale (in float32, as numpy does); with
// F = embed_dim / 4 and ω_k = 10000^(−k/F), token (r, c) is
// [sin(p_c·ω), cos(p_c·ω), sin(p_r·ω), cos(p_r·ω)] (each F wide: the column comes first), evaluated in double.
// embed_dim must be a positive multiple of 4; grid_size, base_size and interpolation_scale positive.
at::Tensor SincosPosEmbed2d(int64_t embed_dim, int64_t grid_size, int64_t base_size, double interpolation_scale = 1.0);

// The centre height × width crop of a (max_size², D) table made by SincosPosEmbed2d(D, max_size, ...): rows
// top = (max_size − height) / 2 .. top + height, same for columns; returns (height·width, D), row-major.
// 1 ≤ height, width ≤ max_size.
at::Tensor CropPosEmbed(const at::Tensor& table, int64_t max_size, int64_t height, int64_t width);

// The sinusoidal projection of `timesteps` (N; any real dtype, any device) into `dim` channels: (N, dim) float32
// on the same device. With h = dim / 2 and f_j = exp(−ln(10000)·j / h), row n is
// [cos(t_n·f_0..h−1), sin(t_n·f_0..h−1)], plus a zero column when dim is odd; computed in float32 with the same
// operations as diffusers, so it matches bit for bit on the same LibTorch. dim ≥ 2.
at::Tensor TimestepSinusoid(const at::Tensor& timesteps, int64_t dim);

}  // namespace tsdsr::model::sd3
