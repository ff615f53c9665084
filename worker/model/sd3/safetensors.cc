#include "worker/model/sd3/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <ATen/ops/empty.h>
#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include "worker/model/tiler.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian; so must the host be");

namespace tsdsr::model::sd3 {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the limit of the reference implementation
constexpr char kMetadataKey[] = "__metadata__";

struct DtypeInfo {
  const char* name;
  at::ScalarType type;
  int64_t bytes;
};

constexpr std::array<DtypeInfo, 10> kDtypes = {{
    {"F64", at::kDouble, 8},
    {"F32", at::kFloat, 4},
    {"F16", at::kHalf, 2},
    {"BF16", at::kBFloat16, 2},
    {"I64", at::kLong, 8},
    {"I32", at::kInt, 4},
    {"I16", at::kShort, 2},
    {"I8", at::kChar, 1},
    {"U8", at::kByte, 1},
    {"BOOL", at::kBool, 1},
}};

const DtypeInfo* DtypeByName(const std::string& name) {
  for (const DtypeInfo& d : kDtypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

const DtypeInfo* DtypeByType(at::ScalarType type) {
  for (const DtypeInfo& d : kDtypes) {
    if (type == d.type) return &d;
  }
  return nullptr;
}

// A read-only private mapping of a whole file, unmapped on destruction.
class MappedFile {
 public:
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::NotFound(path + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return Status::InvalidArgument(path + ": not a regular file");
    }
    auto file = std::unique_ptr<MappedFile>(new MappedFile());
    file->size_ = static_cast<uint64_t>(st.st_size);
    if (file->size_ > 0) {
      void* data = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (data == MAP_FAILED) {
        const std::string error = std::strerror(errno);
        ::close(fd);
        return Status::Internal(path + ": cannot map: " + error);
      }
      file->data_ = static_cast<const uint8_t*>(data);
    }
    ::close(fd);  // the mapping stays valid
    return file;
  }
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

// One header entry, checked on its own (not yet against the other entries or the file size).
struct Entry {
  std::string name;
  const DtypeInfo* dtype = nullptr;
  std::vector<int64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

// A non-negative integer that fits int64 (not a float, not a bool).
std::optional<uint64_t> NonNegativeInteger(const json& v) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u <= static_cast<uint64_t>(INT64_MAX)) return u;
    return std::nullopt;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  return std::nullopt;
}

Result<Entry> ParseEntry(const std::string& path, const std::string& name, const json& value) {
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument(path + ": tensor '" + name + "': " + what);
  };
  if (!value.is_object()) return bad("header entry is not an object: " + value.dump().substr(0, 200));
  Entry entry;
  entry.name = name;
  const auto dtype = value.find("dtype");
  if (dtype == value.end() || !dtype->is_string()) return bad("no \"dtype\" string");
  entry.dtype = DtypeByName(dtype->get<std::string>());
  if (entry.dtype == nullptr) {
    return bad("dtype " + dtype->dump() + " is not supported (F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
  }
  const auto shape = value.find("shape");
  if (shape == value.end() || !shape->is_array()) return bad("no \"shape\" array");
  uint64_t elements = 1;
  for (const json& d : *shape) {
    const std::optional<uint64_t> dim = NonNegativeInteger(d);
    if (!dim) return bad("bad shape " + shape->dump());
    if (__builtin_mul_overflow(elements, *dim, &elements)) return bad("shape " + shape->dump() + " overflows");
    entry.shape.push_back(static_cast<int64_t>(*dim));
  }
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(elements, static_cast<uint64_t>(entry.dtype->bytes), &bytes)) {
    return bad("shape " + shape->dump() + " overflows");
  }
  const auto offsets = value.find("data_offsets");
  if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2) {
    return bad("no \"data_offsets\" pair");
  }
  const std::optional<uint64_t> begin = NonNegativeInteger((*offsets)[0]);
  const std::optional<uint64_t> end = NonNegativeInteger((*offsets)[1]);
  if (!begin || !end || *end < *begin) return bad("bad data_offsets " + offsets->dump());
  if (*end - *begin != bytes) {
    return bad("data_offsets " + offsets->dump() + " span " + std::to_string(*end - *begin) + " bytes but shape " +
               shape->dump() + " of " + entry.dtype->name + " needs " + std::to_string(bytes));
  }
  entry.begin = *begin;
  entry.end = *end;
  return entry;
}

// Parses the JSON header, refusing duplicate names (nlohmann would keep the last one silently).
Result<json> ParseHeaderJson(const std::string& path, const char* begin, const char* end) {
  std::set<std::string> names;
  std::string duplicate;
  const json::parser_callback_t on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 1 && event == json::parse_event_t::key && parsed.is_string() &&
        !names.insert(parsed.get<std::string>()).second && duplicate.empty()) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  // nlohmann's lexer takes a NUL byte for the end of input; the format allows only JSON and trailing spaces.
  if (std::memchr(begin, '\0', static_cast<size_t>(end - begin)) != nullptr) {
    return Status::InvalidArgument(path + ": the header is not valid JSON: it holds a NUL byte");
  }
  json header;
  try {
    header = json::parse(begin, end, on_event);
  } catch (const json::exception& e) {
    return Status::InvalidArgument(path + ": the header is not valid JSON: " + e.what());
  }
  if (!duplicate.empty()) return Status::InvalidArgument(path + ": tensor '" + duplicate + "': named twice");
  if (!header.is_object()) return Status::InvalidArgument(path + ": the header is not a JSON object");
  return header;
}

Result<SafetensorsMetadata> ParseMetadata(const std::string& path, const json& value) {
  if (!value.is_object()) return Status::InvalidArgument(path + ": \"__metadata__\" is not an object");
  SafetensorsMetadata metadata;
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) {
      return Status::InvalidArgument(path + ": \"__metadata__\" value of '" + key + "' is not a string");
    }
    metadata[key] = v.get<std::string>();
  }
  return metadata;
}

// The data section must be covered exactly: no overlaps, no holes, nothing after the last tensor.
Status CheckLayout(const std::string& path, std::vector<const Entry*> entries, uint64_t data_bytes) {
  std::sort(entries.begin(), entries.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry* e : entries) {
    const std::string where = path + ": tensor '" + e->name + "': data_offsets [" + std::to_string(e->begin) + ", " +
                              std::to_string(e->end) + "]";
    if (e->end > data_bytes) {
      return Status::InvalidArgument(where + " reach past the end of the data (" + std::to_string(data_bytes) +
                                     " bytes): the file is truncated or the offsets are wrong");
    }
    if (e->begin < covered) return Status::InvalidArgument(where + " overlap tensor '" + previous->name + "'");
    if (e->begin > covered) {
      return Status::InvalidArgument(where + " leave bytes [" + std::to_string(covered) + ", " +
                                     std::to_string(e->begin) + ") of the data unused");
    }
    covered = e->end;
    previous = e;
  }
  if (covered != data_bytes) {
    return Status::InvalidArgument(path + ": " + std::to_string(data_bytes - covered) +
                                   " bytes after the last tensor's data belong to no tensor");
  }
  return Status::Ok();
}

Result<at::Tensor> CopyOut(const std::string& path, const Entry& e, const uint8_t* data) {
  const uint8_t* src = data + e.begin;
  const uint64_t bytes = e.end - e.begin;
  if (e.dtype->type == at::kBool) {
    for (uint64_t i = 0; i < bytes; ++i) {
      if (src[i] > 1) {
        return Status::InvalidArgument(path + ": tensor '" + e.name + "': BOOL byte " + std::to_string(i) + " is " +
                                       std::to_string(src[i]) + ", not 0 or 1");
      }
    }
  }
  at::Tensor t = at::empty(e.shape, at::TensorOptions().dtype(e.dtype->type));
  if (bytes > 0) std::memcpy(t.data_ptr(), src, bytes);
  return t;
}

Result<SafetensorsContents> ReadMapped(const std::string& path, const MappedFile& file) {
  if (file.size() < 8) {
    return Status::InvalidArgument(path + ": truncated: " + std::to_string(file.size()) +
                                   " bytes, too short for the 8-byte header length");
  }
  uint64_t header_bytes = 0;
  std::memcpy(&header_bytes, file.data(), 8);
  if (header_bytes > kMaxHeaderBytes || header_bytes > file.size() - 8) {
    return Status::InvalidArgument(path + ": the header length " + std::to_string(header_bytes) + " is beyond the " +
                                   std::to_string(file.size()) + "-byte file (truncated or not safetensors)");
  }
  const char* header_begin = reinterpret_cast<const char*>(file.data() + 8);
  TSDSR_ASSIGN_OR_RETURN(json header, ParseHeaderJson(path, header_begin, header_begin + header_bytes));

  SafetensorsContents contents;
  std::vector<Entry> entries;
  entries.reserve(header.size());
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey) {
      TSDSR_ASSIGN_OR_RETURN(contents.metadata, ParseMetadata(path, value));
      continue;
    }
    TSDSR_ASSIGN_OR_RETURN(Entry entry, ParseEntry(path, name, value));
    entries.push_back(std::move(entry));
  }
  std::vector<const Entry*> pointers;
  pointers.reserve(entries.size());
  for (const Entry& e : entries) pointers.push_back(&e);
  const uint64_t data_bytes = file.size() - 8 - header_bytes;
  TSDSR_RETURN_IF_ERROR(CheckLayout(path, pointers, data_bytes));

  const uint8_t* data = file.data() + 8 + header_bytes;
  for (const Entry& e : entries) {
    TSDSR_ASSIGN_OR_RETURN(at::Tensor t, CopyOut(path, e, data));
    contents.tensors.emplace(e.name, std::move(t));
  }
  return contents;
}

// The header JSON for `tensors` laid out back to back in name order; fills `cpu` with the tensors to write.
Result<std::string> BuildHeader(const TensorMap& tensors, const SafetensorsMetadata& metadata,
                                std::vector<at::Tensor>& cpu) {
  json header = json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == kMetadataKey) return Status::InvalidArgument("safetensors: a tensor cannot be named __metadata__");
    if (!tensor.defined()) return Status::InvalidArgument("safetensors: tensor '" + name + "' is undefined");
    const DtypeInfo* dtype = DtypeByType(tensor.scalar_type());
    if (dtype == nullptr) {
      return Status::InvalidArgument("safetensors: tensor '" + name + "': dtype " +
                                     std::string(c10::toString(tensor.scalar_type())) + " has no safetensors name");
    }
    cpu.push_back(tensor.to(at::kCPU).contiguous());
    const uint64_t bytes = static_cast<uint64_t>(cpu.back().numel()) * static_cast<uint64_t>(dtype->bytes);
    header[name] = {
        {"dtype", dtype->name}, {"shape", tensor.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');
  return text;
}

}  // namespace

Result<SafetensorsContents> ReadSafetensorsFile(const std::string& path) {
  TSDSR_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, MappedFile::Open(path));
  try {
    return ReadMapped(path, *file);
  } catch (const c10::Error& e) {
    return StatusFromTorchError(e, path + ": reading tensors");
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted(path + ": out of host memory reading tensors");
  }
}

Result<TensorMap> ReadSafetensors(const std::string& path) {
  TSDSR_ASSIGN_OR_RETURN(SafetensorsContents contents, ReadSafetensorsFile(path));
  return std::move(contents.tensors);
}

Status WriteSafetensors(const std::string& path, const TensorMap& tensors) {
  return WriteSafetensors(path, tensors, SafetensorsMetadata());
}

Status WriteSafetensors(const std::string& path, const TensorMap& tensors, const SafetensorsMetadata& metadata) {
  std::vector<at::Tensor> cpu;
  std::string header;
  try {
    TSDSR_ASSIGN_OR_RETURN(header, BuildHeader(tensors, metadata, cpu));
  } catch (const c10::Error& e) {
    return StatusFromTorchError(e, path + ": copying tensors to the host");
  } catch (const json::exception& e) {  // e.g. a name that is not UTF-8
    return Status::InvalidArgument(path + ": cannot write the header: " + e.what());
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const uint64_t header_bytes = header.size();
  out.write(reinterpret_cast<const char*>(&header_bytes), 8);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const at::Tensor& t : cpu) {
    out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
  }
  out.close();
  if (!out) return Status::Internal(path + ": cannot write the file");
  return Status::Ok();
}

}  // namespace tsdsr::model::sd3
