#include "worker/model/sd3/prompt_embeddings.h"

#include <fstream>
#include <iterator>
#include <vector>

#include <c10/util/Exception.h>
#include <torch/csrc/jit/serialization/pickle.h>

namespace tsdsr::model::sd3 {
namespace {

// The first line of a c10 error: the rest is a C++ stack trace users do not need.
std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string ShapeText(const at::Tensor& tensor) { return c10::str(tensor.sizes()); }

// InvalidArgument unless `tensor` is (1, `rest`...) where a rest of -1 matches any size ≥ 1.
Status CheckShape(const at::Tensor& tensor, const std::vector<int64_t>& want, const std::string& path) {
  bool fits = tensor.dim() == static_cast<int64_t>(want.size());
  for (size_t i = 0; fits && i < want.size(); ++i) {
    fits = want[i] < 0 ? tensor.size(static_cast<int64_t>(i)) >= 1 : tensor.size(static_cast<int64_t>(i)) == want[i];
  }
  if (fits) return Status::Ok();
  std::string wanted = "(";
  for (size_t i = 0; i < want.size(); ++i) wanted += (i ? ", " : "") + (want[i] < 0 ? "N" : std::to_string(want[i]));
  return Status::InvalidArgument(path + " holds a tensor of shape " + ShapeText(tensor) + "; the transformer needs " +
                                 wanted + ")");
}

}  // namespace

Result<at::Tensor> ReadTorchSavedTensor(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    const c10::IValue value = torch::jit::pickle_load(bytes);
    if (!value.isTensor()) {
      return Status::InvalidArgument(path + " holds a " + value.tagKind() + ", not one tensor saved with torch.save");
    }
    return value.toTensor().to(c10::kCPU, c10::kFloat).contiguous();
  } catch (const c10::Error& e) {
    return Status::InvalidArgument(path + " is not a tensor saved with torch.save: " + FirstLine(e.what()));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(path + " is not a tensor saved with torch.save: " + FirstLine(e.what()));
  }
}

Result<PromptEmbeddings> ReadPromptEmbeddings(const std::string& dir, int64_t joint_attention_dim,
                                              int64_t pooled_projection_dim) {
  PromptEmbeddings embeddings;
  const std::string prompt_path = dir + "/prompt_embeds.pt";
  const std::string pooled_path = dir + "/pool_embeds.pt";
  TSDSR_ASSIGN_OR_RETURN(embeddings.prompt, ReadTorchSavedTensor(prompt_path));
  TSDSR_ASSIGN_OR_RETURN(embeddings.pooled, ReadTorchSavedTensor(pooled_path));
  TSDSR_RETURN_IF_ERROR(CheckShape(embeddings.prompt, {1, -1, joint_attention_dim}, prompt_path));
  TSDSR_RETURN_IF_ERROR(CheckShape(embeddings.pooled, {1, pooled_projection_dim}, pooled_path));
  return embeddings;
}

}  // namespace tsdsr::model::sd3
