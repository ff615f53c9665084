#include "client/batch_plan.h"

#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "client/options.h"
#include "common/text.h"

#include "common/media_names.h"

namespace tsdsr::client {
namespace {

namespace fs = std::filesystem;

bool IsHidden(const fs::path& path) {
  std::string name = path.filename().string();
  return !name.empty() && name[0] == '.';
}

bool IsExcluded(const fs::path& folder, const std::string& exclude) {
  if (exclude.empty()) return false;
  std::error_code ec;
  return fs::equivalent(folder, exclude, ec);
}

// Walks `dir` (and below when `recursive`), appending matching files relative to `dir`.
Status CollectFiles(const fs::path& dir, const FileFilter& filter, bool recursive, const std::string& exclude,
                    std::vector<std::string>* files) {
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    std::error_code type_ec;
    if (entry.is_directory(type_ec)) {
      if (!recursive || IsHidden(entry.path()) || IsExcluded(entry.path(), exclude)) it.disable_recursion_pending();
      continue;
    }
    if (!entry.is_regular_file(type_ec)) continue;
    if (!MatchesFilter(filter, entry.path().filename().string())) continue;
    files->push_back(entry.path().lexically_relative(dir).generic_string());
  }
  if (ec) return Status::InvalidArgument("cannot list folder '" + dir.string() + "': " + ec.message());
  return Status::Ok();
}

}  // namespace

FileFilter MakeFileFilter(const std::string& pattern_list) {
  FileFilter filter;
  filter.ignore_case = TrimBlanks(pattern_list).empty();
  std::string_view rest = filter.ignore_case ? std::string_view(kDefaultPatterns) : std::string_view(pattern_list);
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view glob = TrimBlanks(rest.substr(0, comma));
    if (!glob.empty()) filter.globs.emplace_back(glob);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return filter;
}

bool MatchesFilter(const FileFilter& filter, std::string_view file_name) {
  if (file_name.empty() || file_name[0] == '.') return false;
  std::string name(file_name);
  int flags = filter.ignore_case ? FNM_CASEFOLD : 0;
  return std::any_of(filter.globs.begin(), filter.globs.end(),
                     [&](const std::string& glob) { return fnmatch(glob.c_str(), name.c_str(), flags) == 0; });
}

Result<std::vector<std::string>> ListMatchingFiles(const std::string& dir, const FileFilter& filter, bool recursive,
                                                   const std::string& exclude) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::InvalidArgument("input folder '" + dir + "' " +
                                   (fs::exists(dir, ec) ? "is not a folder" : "not found"));
  }
  std::vector<std::string> files;
  TSDSR_RETURN_IF_ERROR(CollectFiles(dir, filter, recursive, exclude, &files));
  std::sort(files.begin(), files.end());
  return files;
}

const std::string& OutputExtensions::For(std::string_view name) const { return IsVideoFileName(name) ? video : image; }

std::vector<std::string> AssignOutputNames(const std::vector<std::string>& inputs, const OutputExtensions& extensions) {
  std::vector<bool> full_name(inputs.size(), false);
  auto output_of = [&](std::size_t i) {
    fs::path input(inputs[i]);
    std::string base = full_name[i] ? input.filename().string() : input.stem().string();
    return (input.parent_path() / (base + extensions.For(inputs[i]))).generic_string();
  };
  // Each round moves at least one input to its (unique) full-name form, so this ends within inputs.size()
  // rounds; the fixed point does not depend on the order of `inputs`.
  for (bool changed = true; changed;) {
    changed = false;
    std::map<std::string, std::vector<std::size_t>> users;
    for (std::size_t i = 0; i < inputs.size(); ++i) users[output_of(i)].push_back(i);
    for (const auto& [output, indices] : users) {
      if (indices.size() < 2) continue;
      for (std::size_t i : indices) {
        changed = changed || !full_name[i];
        full_name[i] = true;
      }
    }
  }
  std::vector<std::string> outputs;
  outputs.reserve(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) outputs.push_back(output_of(i));
  return outputs;
}

std::string OutputNameAmong(const std::string& name, const std::vector<std::string>& siblings,
                            const OutputExtensions& extensions) {
  std::set<std::string> unique(siblings.begin(), siblings.end());
  unique.insert(name);
  std::vector<std::string> names(unique.begin(), unique.end());
  std::vector<std::string> outputs = AssignOutputNames(names, extensions);
  auto it = std::find(names.begin(), names.end(), name);
  return outputs[static_cast<std::size_t>(it - names.begin())];
}

Result<std::vector<PlannedFile>> PlanBatch(const std::string& input_dir, const std::string& output_dir,
                                           const FileFilter& filter, bool recursive,
                                           const OutputExtensions& extensions) {
  TSDSR_ASSIGN_OR_RETURN(std::vector<std::string> inputs, ListMatchingFiles(input_dir, filter, recursive, output_dir));
  std::vector<std::string> outputs = AssignOutputNames(inputs, extensions);
  std::vector<PlannedFile> plan;
  plan.reserve(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    plan.push_back({(fs::path(input_dir) / inputs[i]).string(), (fs::path(output_dir) / outputs[i]).string()});
  }
  return plan;
}

}  // namespace tsdsr::client
