#include "cli/app_flags.h"

#include <charconv>
#include <sstream>

namespace berth::cli {

Result<std::map<std::string, std::string>> parseEnvFlags(const std::vector<std::string>& flags) {
  std::map<std::string, std::string> env;
  for (const auto& f : flags) {
    size_t eq = f.find('=');
    if (eq == std::string::npos || eq == 0) return invalidArgument("--env must be KEY=VALUE, not '" + f + "'");
    env[f.substr(0, eq)] = f.substr(eq + 1);
  }
  return env;
}

Result<std::vector<model::PortSpec>> parsePortFlags(const std::vector<std::string>& flags) {
  std::vector<model::PortSpec> ports;
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
    ports.push_back({.port = port, .protocol = protocol});
  }
  return ports;
}

nlohmann::json specMembers(const model::AppSpec& spec, const std::vector<std::string>& members) {
  const nlohmann::json all = model::appSpecToJson(spec);
  nlohmann::json out = nlohmann::json::object();
  for (const std::string& member : members) out[member] = all.at(member);
  return out;
}

std::vector<std::string> splitCommand(const std::string& cmd) {
  std::istringstream in(cmd);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

Result<int64_t> parseDuration(const std::string& text, const std::string& flag) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string unit = text.substr(digits);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + digits, value);
  const int64_t scale = unit == "ms" ? 1 : (unit == "s" || unit.empty()) ? 1000 : unit == "m" ? 60'000 : 0;
  if (digits == 0 || ec != std::errc() || scale == 0 || value > 86'400'000) {
    return invalidArgument(flag + " must be a duration such as 500ms, 2s or 1m, not '" + text + "'");
  }
  return value * scale;
}

void addHealthFlags(CLI::App* cmd, HealthFlags& f) {
  cmd->add_option("--health-http", f.http_path, "Health check: GET this path on $PORT; 2xx or 3xx is healthy");
  cmd->add_flag("--health-tcp", f.tcp, "Health check: a TCP connect to $PORT");
  cmd->add_option("--health-cmd", f.command, "Health check: run this command in the app's namespaces; exit 0 is healthy");
  cmd->add_flag("--no-health", f.none, "Remove the app's health check");
  cmd->add_option("--health-interval", f.interval, "Time between checks (default 10s)");
  cmd->add_option("--health-timeout", f.timeout, "Time a check may take (default 2s)");
  cmd->add_option("--health-grace", f.grace, "Failures this soon after a start do not count (default 5s)");
  cmd->add_option("--health-retries", f.retries, "Failures in a row that make an instance unhealthy (default 3)");
}

Result<std::optional<nlohmann::json>> healthBody(const HealthFlags& f) {
  const int kinds = (f.http_path.empty() ? 0 : 1) + (f.tcp ? 1 : 0) + (f.command.empty() ? 0 : 1) + (f.none ? 1 : 0);
  const bool tuned = !f.interval.empty() || !f.timeout.empty() || !f.grace.empty() || f.retries.has_value();
  if (kinds > 1) return invalidArgument("give one of --health-http, --health-tcp, --health-cmd and --no-health");
  if (kinds == 0 && tuned) {
    return invalidArgument("--health-interval, --health-timeout, --health-grace and --health-retries need a check: "
                           "--health-http, --health-tcp or --health-cmd");
  }
  if (kinds == 0) return std::optional<nlohmann::json>();
  if (f.none) return std::optional<nlohmann::json>(nlohmann::json{{"type", "none"}});
  nlohmann::json h;
  if (!f.http_path.empty()) h = {{"type", "http"}, {"path", f.http_path}};
  if (f.tcp) h = {{"type", "tcp"}};
  if (!f.command.empty()) h = {{"type", "exec"}, {"command", splitCommand(f.command)}};
  if (!f.interval.empty()) {
    BERTH_ASSIGN_OR_RETURN(h["interval_ms"], parseDuration(f.interval, "--health-interval"));
  }
  if (!f.timeout.empty()) {
    BERTH_ASSIGN_OR_RETURN(h["timeout_ms"], parseDuration(f.timeout, "--health-timeout"));
  }
  if (!f.grace.empty()) {
    BERTH_ASSIGN_OR_RETURN(h["grace_ms"], parseDuration(f.grace, "--health-grace"));
  }
  if (f.retries) h["retries"] = *f.retries;
  return std::optional<nlohmann::json>(h);
}

}  // namespace berth::cli
