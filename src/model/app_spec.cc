#include "model/app_spec.h"

#include <set>

#include "model/json_reader.h"

namespace berth::model {

using nlohmann::json;

Status validateAppSpec(const AppSpec& spec) {
  if (spec.command.empty() && spec.image.empty()) {
    return invalidArgument("an app needs a command or an image");
  }
  if (spec.vm && spec.replicas > 1) {
    return invalidArgument("an app pinned to VM '" + *spec.vm + "' runs one replica there; unpin it (\"vm\": \"\") to " +
                           "spread " + std::to_string(spec.replicas) + " replicas over the project's VMs");
  }
  if (spec.isContainer() && spec.image.empty()) {
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

json appSpecToJson(const AppSpec& spec) {
  json ports = json::array();
  for (const auto& p : spec.ports) {
    json port = {{"port", p.port}, {"protocol", p.protocol}};
    if (p.host_port > 0) port["host_port"] = p.host_port;
    ports.push_back(port);
  }
  json secrets = json::array();
  for (const auto& s : spec.secrets) secrets.push_back({{"name", s.name}, {"as", s.as}, {"version", s.version}});
  json out = {{"kind", spec.kind},
              {"image", spec.image},
              {"command", spec.command},
              {"env", spec.env},
              {"ports", ports},
              {"replicas", spec.replicas},
              {"vm", spec.vm ? json(*spec.vm) : json(nullptr)},
              {"secrets", secrets},
              {"restart", spec.restart},
              {"resources",
               {{"memory_mib", spec.resources.memory_mib},
                {"cpu_millis", spec.resources.cpu_millis},
                {"pids", spec.resources.pids}}}};
  // Written only when set, so that releases made before health checks keep their exact text.
  if (spec.health.enabled()) {
    const HealthSpec& h = spec.health;
    out["health"] = {{"type", h.type},         {"interval_ms", h.interval_ms}, {"timeout_ms", h.timeout_ms},
                     {"grace_ms", h.grace_ms}, {"retries", h.retries}};
    if (h.type == "http") out["health"]["path"] = h.path;
    if (h.type == "exec") out["health"]["command"] = h.command;
  }
  return out;
}

Result<AppSpec> appSpecFromJson(const json& j) {
  AppSpec spec;
  JsonReader r(j, "spec.");
  r.read("kind", spec.kind).read("image", spec.image).read("command", spec.command).read("env", spec.env);
  r.read("replicas", spec.replicas).read("restart", spec.restart);
  std::string vm;
  r.read("vm", vm);
  if (!vm.empty()) spec.vm = vm;
  r.each("ports", [&](JsonReader& item) {
    PortSpec& port = spec.ports.emplace_back();
    item.read("port", port.port).read("protocol", port.protocol).read("host_port", port.host_port);
  });
  r.each("secrets", [&](JsonReader& item) {
    SecretRef& ref = spec.secrets.emplace_back();
    item.read("name", ref.name).read("as", ref.as).read("version", ref.version);
  });
  if (const json* resources = r.object("resources")) {
    JsonReader rr(*resources, r.at("resources."));
    rr.read("memory_mib", spec.resources.memory_mib).read("cpu_millis", spec.resources.cpu_millis);
    rr.read("pids", spec.resources.pids);
    BERTH_RETURN_IF_ERROR(rr.status());
  }
  if (const json* health = r.object("health")) {
    JsonReader hr(*health, r.at("health."));
    HealthSpec& h = spec.health;
    hr.read("type", h.type).read("path", h.path).read("command", h.command).read("interval_ms", h.interval_ms);
    hr.read("timeout_ms", h.timeout_ms).read("grace_ms", h.grace_ms).read("retries", h.retries);
    BERTH_RETURN_IF_ERROR(hr.status());
  }
  BERTH_RETURN_IF_ERROR(r.status());
  return spec;
}

Result<AppSpec> appSpecFromJson(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return invalidArgument("an app spec is not valid JSON");
  return appSpecFromJson(j);
}

}  // namespace berth::model
