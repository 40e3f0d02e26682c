#pragma once
// Parsing of app flag values, kept apart so it is unit-tested without a server.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace berth::cli {

// "KEY=VALUE" pairs into an object; the value may contain '='.
Result<nlohmann::json> parseEnvFlags(const std::vector<std::string>& flags);
// "8080" or "53/udp" into [{"port":8080,"protocol":"tcp"}, ...].
Result<nlohmann::json> parsePortFlags(const std::vector<std::string>& flags);
// "500ms", "2s", "1m" or a bare number of seconds, in milliseconds.
Result<int64_t> parseDuration(const std::string& text, const std::string& flag);

// The health check flags shared by `app create/set` and `deploy`.
struct HealthFlags {
  std::string http_path, command, interval, timeout, grace;
  bool tcp = false, none = false;
  std::optional<int64_t> retries;
};
void addHealthFlags(CLI::App* cmd, HealthFlags& flags);
// The spec's "health" object, or nullopt when no health flag was given.
Result<std::optional<nlohmann::json>> healthBody(const HealthFlags& flags);

// Splits --cmd "busybox httpd -f -p 8080" on whitespace; for arguments with spaces use '-- argv...'.
std::vector<std::string> splitCommand(const std::string& cmd);

}  // namespace berth::cli
