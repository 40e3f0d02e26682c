#pragma once
// Parsing of app flag values, kept apart so it is unit-tested without a server.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace berth::cli {

// "KEY=VALUE" pairs into an object; the value may contain '='.
Result<nlohmann::json> parseEnvFlags(const std::vector<std::string>& flags);
// "8080" or "53/udp" into [{"port":8080,"protocol":"tcp"}, ...].
Result<nlohmann::json> parsePortFlags(const std::vector<std::string>& flags);
// Splits --cmd "busybox httpd -f -p 8080" on whitespace; for arguments with spaces use '-- argv...'.
std::vector<std::string> splitCommand(const std::string& cmd);

}  // namespace berth::cli
