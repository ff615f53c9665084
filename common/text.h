// Small text helpers shared by the HTTP parsing, the client and error messages. ASCII only: header names,
// media types and tokens are ASCII by their RFCs; nothing here depends on the locale.
#pragma once

#include <string>
#include <string_view>

namespace tsdsr {

// 'A'..'Z' lowered; every other byte unchanged.
inline char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// `text` with 'A'..'Z' lowered.
std::string AsciiLower(std::string_view text);

// True when `a` and `b` are equal but for the case of ASCII letters.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// `text` without leading and trailing spaces and tabs (HTTP's optional whitespace).
std::string_view TrimBlanks(std::string_view text);

// "2, 3, 4": the numbers in order, for messages.
template <typename Numbers>
std::string JoinNumbers(const Numbers& numbers) {
  std::string list;
  for (const auto& n : numbers) list += (list.empty() ? "" : ", ") + std::to_string(n);
  return list;
}

}  // namespace tsdsr
