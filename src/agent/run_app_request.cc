#include "agent/run_app_request.h"

#include "image/image_user.h"

namespace berth::agent {
namespace {

// Env secrets join the app's environment; file secrets become /run/secrets/<app>/<name> (the
// guest's /run is a tmpfs), readable by root only. Both reach the guest over the channel alone.
Status addSecrets(const model::AppAssignment& app, guest::RunAppRequest& request) {
  const std::string& name = app.name;
  for (const model::SecretValue& secret : app.secrets) {
    const std::string& secret_name = secret.name;
    if (secret_name.empty() || secret_name.find('/') != std::string::npos || secret_name[0] == '.') {
      return invalidArgument("app '" + name + "' names a malformed secret");
    }
    if (secret.as == "file") {
      request.files.push_back({"/run/secrets/" + name + "/" + secret_name, 0400, secret.value});
    } else {
      request.env[secret_name] = secret.value;
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
Status addContainerConfig(const model::AppAssignment& app, guest::RunAppRequest& request) {
  const model::ImageConfig& config = app.image->config;
  if (request.argv.empty()) {
    request.argv = config.entrypoint;
    request.argv.insert(request.argv.end(), config.cmd.begin(), config.cmd.end());
  }
  std::map<std::string, std::string> env;
  for (const std::string& kv : config.env) {
    if (auto eq = kv.find('='); eq != std::string::npos && eq > 0) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : request.env) env[k] = v;
  request.env = std::move(env);
  if (!config.working_dir.empty()) request.cwd = config.working_dir;
  BERTH_ASSIGN_OR_RETURN(image::ImageUser ids, parseImageUser(config.user));
  request.uid = ids.uid;
  request.gid = ids.gid;
  request.container = true;
  const model::Resources& resources = app.spec.resources;
  if (resources.memory_mib > 0) request.limits.memory_max = static_cast<std::uint64_t>(resources.memory_mib) << 20;
  if (resources.cpu_millis > 0) request.limits.cpu_max_millis = static_cast<std::uint64_t>(resources.cpu_millis);
  if (resources.pids > 0) request.limits.pids_max = static_cast<std::uint64_t>(resources.pids);
  return Status::ok();
}

// The spec's health check as init runs it; http and tcp probe `port`.
guest::HealthCheck healthCheck(const model::HealthSpec& health, std::uint16_t port) {
  guest::HealthCheck check;
  check.type = health.type;
  if (health.type == "exec") {
    check.argv = health.command;
  } else {
    check.port = port;
  }
  if (health.type == "http") check.path = health.path;
  check.interval_ms = static_cast<std::uint64_t>(health.interval_ms);
  check.timeout_ms = static_cast<std::uint64_t>(health.timeout_ms);
  check.grace_ms = static_cast<std::uint64_t>(health.grace_ms);
  check.retries = static_cast<int>(health.retries);
  return check;
}

}  // namespace

Result<guest::RunAppRequest> runAppRequest(const model::AppAssignment& app, const Instance& instance, bool replace,
                                           const std::optional<OfferedImage>& image) {
  const model::AppSpec& spec = app.spec;
  guest::RunAppRequest request;
  request.app = app.name;
  request.instance = instance.id;
  request.replace = replace;
  request.argv = spec.command;
  request.env = spec.env;
  request.restart = spec.restart;
  BERTH_RETURN_IF_ERROR(addSecrets(app, request));
  if (image) request.image = guest::RunAppRequest::Image{image->digest, image->size, image->source};
  if (spec.isContainer()) {
    if (!app.image) return invalidArgument("container app '" + app.name + "' came without its image");
    BERTH_RETURN_IF_ERROR(addContainerConfig(app, request));
  }
  if (request.argv.empty()) return invalidArgument("app has no command");
  const std::vector<model::PortSpec>& ports = spec.ports;
  const int port = ports.empty() ? 0 : instancePort(static_cast<int>(ports[0].port), instance.slot);
  if (!ports.empty()) request.env["PORT"] = std::to_string(port);
  if (spec.health.enabled()) {
    if (spec.health.type != "exec" && ports.empty()) return invalidArgument("an http or tcp health check needs a port");
    request.health = healthCheck(spec.health, static_cast<std::uint16_t>(port));
  }
  return request;
}

}  // namespace berth::agent
