// TSD-SR's prompt embeddings: the text-encoder outputs its transformer is conditioned on, computed once from
// the training prompt and shipped as two files saved with torch.save (zip format): prompt_embeds.pt
// (1, 333, 4096) and pool_embeds.pt (1, 2048) for SD3-medium. Read without Python.
#pragma once

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>

#include "common/status.h"

namespace tsdsr::model::sd3 {

struct PromptEmbeddings {
  at::Tensor prompt;  // (1, tokens, joint_attention_dim), float32 on the CPU
  at::Tensor pooled;  // (1, pooled_projection_dim), float32 on the CPU
};

// The one tensor a torch.save file (zip format, PyTorch ≥ 1.6) holds, as a float32 CPU tensor. NotFound naming
// the file when it cannot be read; InvalidArgument naming it when it is not a torch.save of a single tensor
// (a dict or a legacy-format file included) or its tensor was saved from a device this build lacks.
Result<at::Tensor> ReadTorchSavedTensor(const std::string& path);

// Reads DIR/prompt_embeds.pt and DIR/pool_embeds.pt and checks them against the transformer they condition:
// prompt (1, tokens ≥ 1, joint_attention_dim), pooled (1, pooled_projection_dim). Errors as
// ReadTorchSavedTensor; InvalidArgument naming the file and both shapes for a mismatch.
Result<PromptEmbeddings> ReadPromptEmbeddings(const std::string& dir, int64_t joint_attention_dim,
                                              int64_t pooled_projection_dim);

}  // namespace tsdsr::model::sd3
