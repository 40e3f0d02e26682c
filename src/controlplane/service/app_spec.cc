#include "controlplane/service/app_spec.h"

#include <set>

namespace berth::controlplane {

AppSpec applyPatch(AppSpec spec, const AppSpecPatch& p) {
  if (p.kind) spec.kind = *p.kind;
  if (p.image) spec.image = *p.image;
  if (p.command) spec.command = *p.command;
  if (p.env) spec.env = *p.env;
  if (p.ports) spec.ports = *p.ports;
  if (p.replicas) spec.replicas = *p.replicas;
  if (p.vm) spec.vm = p.vm->empty() ? std::nullopt : p.vm;
  if (p.secrets) spec.secrets = *p.secrets;
  if (p.resources) spec.resources = *p.resources;
  if (p.restart) spec.restart = *p.restart;
  if (p.health) spec.health = *p.health;
  return spec;
}

Status validateAppSpec(const AppSpec& spec) {
  if (spec.command.empty() && spec.image.empty()) {
    return invalidArgument("an app needs a command or an image");
  }
  if (spec.vm && spec.replicas > 1) {
    return invalidArgument("an app pinned to VM '" + *spec.vm + "' runs one replica there; unpin it (\"vm\": \"\") to " +
                           "spread " + std::to_string(spec.replicas) + " replicas over the project's VMs");
  }
  if (spec.kind == "container" && spec.image.empty()) {
    return invalidArgument("a container app needs an image");
  }
  std::set<std::pair<int64_t, std::string>> seen;
  std::set<int64_t> host_ports;
  for (const auto& p : spec.ports) {
    if (!seen.insert({p.port, p.protocol}).second) {
      return invalidArgument("port " + std::to_string(p.port) + "/" + p.protocol + " is listed twice");
    }
    if (p.host_port > 0 && !host_ports.insert(p.host_port).second) {
      return invalidArgument("host_port " + std::to_string(p.host_port) + " is listed twice");
    }
  }
  if ((spec.health.type == "http" || spec.health.type == "tcp") && spec.ports.empty()) {
    return invalidArgument("an " + spec.health.type + " health check probes the app's port, but the app has none");
  }
  if (spec.health.type == "exec" && spec.health.command.empty()) {
    return invalidArgument("an exec health check needs a command");
  }
  std::set<std::string> secret_names;
  for (const auto& s : spec.secrets) {
    if (!secret_names.insert(s.name).second) return invalidArgument("secret '" + s.name + "' is listed twice");
    if (s.as == "env" && spec.env.count(s.name)) {
      return invalidArgument("'" + s.name + "' is both an env variable and a secret; remove one");
    }
  }
  return Status::ok();
}

nlohmann::json appSpecToJson(const AppSpec& spec) {
  nlohmann::json ports = nlohmann::json::array();
  for (const auto& p : spec.ports) {
    nlohmann::json port = {{"port", p.port}, {"protocol", p.protocol}};
    if (p.host_port > 0) port["host_port"] = p.host_port;
    ports.push_back(port);
  }
  nlohmann::json secrets = nlohmann::json::array();
  for (const auto& s : spec.secrets) secrets.push_back({{"name", s.name}, {"as", s.as}, {"version", s.version}});
  nlohmann::json out = {{"kind", spec.kind},
          {"image", spec.image},
          {"command", spec.command},
          {"env", spec.env},
          {"ports", ports},
          {"replicas", spec.replicas},
          {"vm", spec.vm ? nlohmann::json(*spec.vm) : nlohmann::json(nullptr)},
          {"secrets", secrets},
          {"restart", spec.restart},
          {"resources",
           {{"memory_mib", spec.resources.memory_mib},
            {"cpu_millis", spec.resources.cpu_millis},
            {"pids", spec.resources.pids}}}};
  // Written only when set, so that releases made before health checks keep their exact text.
  if (!spec.health.type.empty()) {
    const HealthSpec& h = spec.health;
    out["health"] = {{"type", h.type},         {"interval_ms", h.interval_ms}, {"timeout_ms", h.timeout_ms},
                     {"grace_ms", h.grace_ms}, {"retries", h.retries}};
    if (h.type == "http") out["health"]["path"] = h.path;
    if (h.type == "exec") out["health"]["command"] = h.command;
  }
  return out;
}

namespace {
// The strings of the array `j[key]`, skipping anything else.
std::vector<std::string> stringsAt(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.contains(key) || !j[key].is_array()) return out;
  for (const auto& item : j[key]) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}
}  // namespace

Result<AppSpec> appSpecFromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return internalError("stored app spec is not a JSON object");
  AppSpec spec;
  // Stored specs were validated on the way in; value() with defaults keeps a malformed row from throwing.
  spec.kind = j.value("kind", "process");
  spec.image = j.value("image", "");
  spec.command = stringsAt(j, "command");
  if (j.contains("env") && j["env"].is_object()) {
    for (const auto& [k, v] : j["env"].items()) {
      if (v.is_string()) spec.env[k] = v.get<std::string>();
    }
  }
  if (j.contains("ports") && j["ports"].is_array()) {
    for (const auto& p : j["ports"]) {
      if (p.is_object()) spec.ports.push_back({p.value("port", int64_t{0}), p.value("protocol", "tcp"), p.value("host_port", int64_t{0})});
    }
  }
  spec.replicas = j.value("replicas", int64_t{1});
  if (j.contains("vm") && j["vm"].is_string()) spec.vm = j["vm"].get<std::string>();
  spec.restart = j.value("restart", "always");
  if (j.contains("resources") && j["resources"].is_object()) {
    const auto& r = j["resources"];
    spec.resources = {r.value("memory_mib", int64_t{0}), r.value("cpu_millis", int64_t{0}), r.value("pids", int64_t{0})};
  }
  if (j.contains("health") && j["health"].is_object()) {
    const auto& h = j["health"];
    const HealthSpec defaults;
    spec.health.type = h.value("type", defaults.type);
    spec.health.path = h.value("path", defaults.path);
    spec.health.command = stringsAt(h, "command");
    spec.health.interval_ms = h.value("interval_ms", defaults.interval_ms);
    spec.health.timeout_ms = h.value("timeout_ms", defaults.timeout_ms);
    spec.health.grace_ms = h.value("grace_ms", defaults.grace_ms);
    spec.health.retries = h.value("retries", defaults.retries);
  }
  if (j.contains("secrets") && j["secrets"].is_array()) {
    for (const auto& s : j["secrets"]) {
      if (s.is_object()) spec.secrets.push_back({s.value("name", ""), s.value("as", "env"), s.value("version", int64_t{0})});
    }
  }
  return spec;
}

}  // namespace berth::controlplane
