#pragma once
// Parsing of app flag values, kept apart so it is unit-tested without a server.

#include <CLI/CLI.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "model/app_spec.h"

namespace berth::cli {

// "KEY=VALUE" pairs into an app's env; the value may contain '='.
Result<std::map<std::string, std::string>> parseEnvFlags(const std::vector<std::string>& flags);
// "8080" or "53/udp" into an app's ports (tcp when no protocol is given).
Result<std::vector<model::PortSpec>> parsePortFlags(const std::vector<std::string>& flags);
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

// The members of `spec` that `members` names, in the model's JSON form (model::appSpecToJson):
// a create or PATCH body names only the members the user set, and berthd keeps the others.
nlohmann::json specMembers(const model::AppSpec& spec, const std::vector<std::string>& members);

// Splits --cmd "busybox httpd -f -p 8080" on whitespace; for arguments with spaces use '-- argv...'.
std::vector<std::string> splitCommand(const std::string& cmd);

}  // namespace berth::cli
