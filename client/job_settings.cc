#include "client/job_settings.h"

#include "client/http_client.h"

namespace tsdsr::client {

JobSettings JobSettingsFrom(const ClientOptions& options, const ClientTuning& tuning, JobStateFile* state) {
  JobSettings settings;
  settings.upscale = options.upscale;
  settings.process_size = options.process_size;
  settings.format = CanonicalFormat(options.format);
  settings.async_jobs = options.async_jobs;
  settings.overwrite = options.overwrite;
  settings.tuning = tuning;
  settings.tuning.retry.max_retries = options.retries;
  settings.state = state;
  settings.codec = options.codec;
  settings.crf = options.crf;
  settings.preset = options.preset;
  settings.encoder = options.encoder;
  settings.container = options.container;
  return settings;
}

std::string UpscaleQuery(const JobSettings& settings) {
  std::string query =
      "?upscale=" + std::to_string(settings.upscale) + "&process_size=" + std::to_string(settings.process_size);
  if (!settings.format.empty()) query += "&format=" + QueryEscape(settings.format);
  return query;
}

std::string VideoQuery(const JobSettings& settings) {
  std::string query = "?upscale=" + std::to_string(settings.upscale) +
                      "&process_size=" + std::to_string(settings.process_size) + "&codec=" +
                      QueryEscape(settings.codec) + "&container=" + QueryEscape(settings.container) +
                      "&encoder=" + QueryEscape(settings.encoder);
  if (settings.crf >= 0) query += "&crf=" + std::to_string(settings.crf);
  if (!settings.preset.empty()) query += "&preset=" + QueryEscape(settings.preset);
  return query;
}

}  // namespace tsdsr::client
