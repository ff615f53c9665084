// A file compiled into the program (tsdsr_embed_files in cmake/tsdsr.cmake): its path relative to the folder it
// came from, and its bytes, both static for the program's life.
#pragma once

#include <string_view>
#include <vector>

namespace tsdsr {

struct EmbeddedFile {
  std::string_view name;     // e.g. "js/main.js"
  std::string_view content;  // the file, byte for byte
};

// The file named `name` in `files`; null when there is none.
inline const EmbeddedFile* FindEmbedded(const std::vector<EmbeddedFile>& files, std::string_view name) {
  for (const EmbeddedFile& file : files) {
    if (file.name == name) return &file;
  }
  return nullptr;
}

}  // namespace tsdsr
