// The safetensors format (huggingface/safetensors), read and written without Python: an 8-byte little-endian
// header length N, N bytes of JSON header {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]},
// "__metadata__": {"<key>": "<string>"}}, then the raw little-endian tensor bytes, offsets relative to the
// end of the header. This is how diffusers stores SD3's transformer/ and vae/ weights and the TSD-SR LoRA files.
//
// Namespace: tsdsr::model::sd3, like everything in worker/model/sd3/ (one sub-namespace per folder).
#pragma once

#include <map>
#include <string>

#include <ATen/core/Tensor.h>

#include "common/status.h"

namespace tsdsr::model::sd3 {

// Tensors by name, ordered by name.
using TensorMap = std::map<std::string, at::Tensor>;
// The header's "__metadata__": free-form string pairs (e.g. {"format": "pt"}).
using SafetensorsMetadata = std::map<std::string, std::string>;

struct SafetensorsContents {
  TensorMap tensors;
  SafetensorsMetadata metadata;
};

// Reads every tensor of the safetensors file at `path` into contiguous CPU tensors of the stored dtype and shape.
// Dtypes: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL (others, e.g. U16 or F8_*, are refused: this LibTorch
// has no such type). The file is memory-mapped and each tensor copied out, so the tensors own their memory and
// nothing refers to the file once this returns. Errors: NotFound when the file cannot be opened; InvalidArgument
// naming the file (and the tensor, where one is at fault) for a truncated file, a header length beyond the file,
// bad JSON, an unknown dtype, a shape/offsets mismatch, overlapping tensors, holes or trailing bytes in the data,
// a BOOL byte other than 0 or 1, a duplicate name; ResourceExhausted when the tensors do not fit in memory.
// Thread-safe (no shared state).
Result<TensorMap> ReadSafetensors(const std::string& path);

// ReadSafetensors, also returning the header's "__metadata__" (empty when absent; InvalidArgument when it is not
// an object of strings).
Result<SafetensorsContents> ReadSafetensorsFile(const std::string& path);

// Writes `tensors` (any device; each copied to CPU and made contiguous) to `path`, replacing it, with data in name
// order and the header padded with spaces to a multiple of 8 bytes so that every tensor's data is 8-byte aligned
// in the file. InvalidArgument (naming the tensor) for an undefined tensor, a dtype the format has no name for,
// or the name "__metadata__"; Internal when the file cannot be written. For tests and tools.
Status WriteSafetensors(const std::string& path, const TensorMap& tensors);
// The same, with a "__metadata__" entry when `metadata` is not empty.
Status WriteSafetensors(const std::string& path, const TensorMap& tensors, const SafetensorsMetadata& metadata);

}  // namespace tsdsr::model::sd3
