#include "cli/app_flags.h"

#include <charconv>
#include <sstream>

namespace berth::cli {

Result<nlohmann::json> parseEnvFlags(const std::vector<std::string>& flags) {
  nlohmann::json env = nlohmann::json::object();
  for (const auto& f : flags) {
    size_t eq = f.find('=');
    if (eq == std::string::npos || eq == 0) return invalidArgument("--env must be KEY=VALUE, not '" + f + "'");
    env[f.substr(0, eq)] = f.substr(eq + 1);
  }
  return env;
}

Result<nlohmann::json> parsePortFlags(const std::vector<std::string>& flags) {
  nlohmann::json ports = nlohmann::json::array();
  for (const auto& f : flags) {
    size_t slash = f.find('/');
    std::string number = f.substr(0, slash);
    std::string protocol = slash == std::string::npos ? "tcp" : f.substr(slash + 1);
    int port = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), port);
    if (ec != std::errc() || end != number.data() + number.size() || port < 1 || port > 65535 ||
        (protocol != "tcp" && protocol != "udp")) {
      return invalidArgument("--port must be PORT or PORT/tcp or PORT/udp with PORT in 1..65535, not '" + f + "'");
    }
    ports.push_back({{"port", port}, {"protocol", protocol}});
  }
  return ports;
}

std::vector<std::string> splitCommand(const std::string& cmd) {
  std::istringstream in(cmd);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

}  // namespace berth::cli
