#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace tsdsr {

bool InitLogging(const std::string& process_name, const std::string& level) {
  auto logger = spdlog::stderr_color_mt(process_name);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%L%$ [%n %P] %v");
  spdlog::set_default_logger(logger);
  bool known = IsLogLevel(level);
  spdlog::set_level(known ? spdlog::level::from_str(level) : spdlog::level::info);
  return known;
}

bool IsLogLevel(const std::string& level) {
  return level == "off" || spdlog::level::from_str(level) != spdlog::level::off;
}

}  // namespace tsdsr
