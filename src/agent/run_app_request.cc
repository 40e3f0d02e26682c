#include "agent/run_app_request.h"

#include "image/image_user.h"

namespace berth::agent {
namespace {

using nlohmann::json;

// Where the guest fetches offered images: the VM's own relay (docs/vms.md).

// Env secrets join the app's environment; file secrets become /run/secrets/<app>/<name> (the
// guest's /run is a tmpfs), readable by root only. Both reach the guest over the channel alone.
Status addSecrets(const model::AppAssignment& app, json& request) {
  const std::string& name = app.name;
  for (const model::SecretValue& secret : app.secrets) {
    const std::string& secret_name = secret.name;
    const std::string& value = secret.value;
    if (secret_name.empty() || secret_name.find('/') != std::string::npos || secret_name[0] == '.') {
      return invalidArgument("app '" + name + "' names a malformed secret");
    }
    if (secret.as == "file") {
      request["files"].push_back({{"path", "/run/secrets/" + name + "/" + secret_name},
                                  {"mode", 0400},
                                  {"data", json::binary(std::vector<std::uint8_t>(value.begin(), value.end()))}});
    } else {
      request["env"][secret_name] = value;
    }
  }
  return Status::ok();
}

// The image config's User: "uid[:gid]" in numbers (the import resolved names in the image's own
// /etc/passwd and /etc/group), or root.
Result<image::ImageUser> parseImageUser(const std::string& user) {
  if (user == "root") return image::ImageUser{};
  auto numeric = image::numericImageUser(user);
  if (!numeric) return invalidArgument("the image's USER '" + user + "' is not numeric, so it cannot be run");
  return *numeric;
}

// A container app runs its image's root file system in its own namespaces; the image config
// fills in what the spec leaves out.
Status addContainerConfig(const model::AppAssignment& app, json& request) {
  const model::ImageConfig& config = app.image->config;
  if (request["argv"].empty()) {
    json argv = config.entrypoint;
    for (const std::string& arg : config.cmd) argv.push_back(arg);
    request["argv"] = argv;
  }
  json env = json::object();
  for (const std::string& kv : config.env) {
    if (auto eq = kv.find('='); eq != std::string::npos && eq > 0) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : request["env"].items()) env[k] = v;
  request["env"] = env;
  if (!config.working_dir.empty()) request["cwd"] = config.working_dir;
  BERTH_ASSIGN_OR_RETURN(image::ImageUser ids, parseImageUser(config.user));
  request["uid"] = ids.uid;
  request["gid"] = ids.gid;
  request["container"] = true;
  const model::Resources& resources = app.spec.resources;
  if (resources.memory_mib > 0) request["memory_max"] = resources.memory_mib << 20;
  if (resources.cpu_millis > 0) request["cpu_max_millis"] = resources.cpu_millis;
  if (resources.pids > 0) request["pids_max"] = resources.pids;
  return Status::ok();
}

}  // namespace

Result<json> runAppRequest(const model::AppAssignment& app, const Instance& instance, bool replace,
                           const std::optional<OfferedImage>& image) {
  const model::AppSpec& spec = app.spec;
  json request = {{"app", app.name}, {"instance", instance.id}, {"replace", replace}};
  request["argv"] = spec.command;
  request["env"] = spec.env;
  request["restart"] = spec.restart;
  BERTH_RETURN_IF_ERROR(addSecrets(app, request));
  if (image) {
    request["image_digest"] = image->digest;
    request["image_size"] = image->size;
    request["image_source"] = image->source;
  }
  if (spec.isContainer()) {
    if (!app.image) return invalidArgument("container app '" + app.name + "' came without its image");
    BERTH_RETURN_IF_ERROR(addContainerConfig(app, request));
  }
  if (request["argv"].empty()) return invalidArgument("app has no command");
  const std::vector<model::PortSpec>& ports = spec.ports;
  if (!ports.empty()) request["env"]["PORT"] = std::to_string(instancePort(static_cast<int>(ports[0].port), instance.slot));
  if (spec.health.enabled()) {
    json health = model::appSpecToJson(spec)["health"];
    if (spec.health.type != "exec") {
      if (ports.empty()) return invalidArgument("an http or tcp health check needs a port");
      health["port"] = instancePort(static_cast<int>(ports[0].port), instance.slot);
    }
    request["health"] = health;
  }
  return request;
}

}  // namespace berth::agent
