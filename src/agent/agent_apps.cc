// The agent's app half: releases into instances, health-gated rollouts, published ports.
//
// A release whose spec has a health check is rolled out start-first when it can be: the new
// instance starts beside the serving one, on the other slot's port, and takes the traffic only
// once init reports it healthy; then the old one stops. If it never becomes healthy it is
// stopped, the old one never stopped serving, and the failure goes to berthd with the
// instance's last log lines (berthd then rolls the app back). Without a check, or with more
// than one port, the old instance stops first.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "agent/agent.h"
#include "agent/app_bundle.h"
#include "image/image_user.h"
#include "agent/sessions/app_log.h"
#include "common/crypto.h"
#include "os/file_util.h"
#include "os/unique_fd.h"

namespace berth::agent {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kGuestTimeout = std::chrono::seconds(30);
constexpr std::uint64_t kMaxBundleBytes = 1ull << 30;
constexpr std::uint64_t kMaxRootfsBytes = 4ull << 30;
constexpr std::size_t kFailureLogLines = 10;
// How long a replaced instance may keep finishing the connections it has (Kamal's default).
constexpr auto kDrainLimit = std::chrono::seconds(30);

std::string key(const std::string& project, const std::string& vm) { return project + "/" + vm; }

// Slot 0 listens on the port the spec names, slot 1 on one 10000 away: the app learns which
// from $PORT (or `$(PORT)` in its command).
int instancePort(int port, int slot) {
  if (slot == 0) return port;
  return port + 10000 <= 65535 ? port + 10000 : port - 10000;
}

// How long a new instance may take to become healthy before its release counts as failed:
// the check's own verdict comes first; this catches an instance that never gets one.
std::chrono::milliseconds rolloutLimit(const model::HealthSpec& h) {
  return std::chrono::milliseconds(h.grace_ms + (h.retries + 1) * (h.interval_ms + h.timeout_ms) + 60'000);
}

Result<int> freeLoopbackPort() {
  os::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return internalError(std::string("cannot find a free port on 127.0.0.1: ") + std::strerror(errno));
  }
  return static_cast<int>(ntohs(addr.sin_port));
}

// The image config's User: "uid[:gid]" in numbers (the import resolved names in the image's own
// /etc/passwd and /etc/group), or root.
Result<image::ImageUser> parseImageUser(const std::string& user) {
  if (user == "root") return image::ImageUser{};
  auto numeric = image::numericImageUser(user);
  if (!numeric) return invalidArgument("the image's USER '" + user + "' is not numeric, so it cannot be run");
  return *numeric;
}

json instanceToJson(const AppInstance& i) {
  return {{"id", i.id}, {"release", i.release}, {"spec", i.spec}, {"slot", i.slot}, {"health", i.health}};
}

}  // namespace

bool Agent::rolloutsPending() const {
  return std::any_of(vms_.begin(), vms_.end(),
                     [](const auto& vm) { return !vm.second.rollouts.empty() || !vm.second.draining.empty(); });
}

void Agent::reconcileApps(VmState& state, const std::vector<const model::AppAssignment*>& apps) {
  applyHealthEvents(state);
  drainInstances(state);
  std::set<std::string> wanted;
  for (const model::AppAssignment* app : apps) {
    wanted.insert(app->name);
    startRelease(state, *app);
  }
  for (auto it = state.app_reports.begin(); it != state.app_reports.end();) {
    it = wanted.count(it->first) ? std::next(it) : state.app_reports.erase(it);
  }
  std::set<std::string> gone;
  for (const auto& [name, instance] : state.serving) {
    if (!wanted.count(name)) gone.insert(name);
  }
  for (const auto& [name, rollout] : state.rollouts) {
    if (!wanted.count(name)) gone.insert(name);
  }
  for (const std::string& name : gone) {
    if (state.channel) (void)state.channel->call("stop_app", {{"app", name}}, kGuestTimeout);
    state.serving.erase(name);
    state.rollouts.erase(name);
    state.draining.erase(name);
  }
  if (!gone.empty()) saveDeployed(state);
}

void Agent::startRelease(VmState& state, const model::AppAssignment& app) {
  const std::string& name = app.name;
  const int64_t release = app.release;
  const model::AppSpec& spec = app.spec;
  const std::string spec_text = model::appSpecToJson(spec).dump();
  auto& app_report = state.app_reports[name];
  auto serving = state.serving.find(name);
  if (serving != state.serving.end() && serving->second.release == release) return;
  // What serves already runs this spec (berthd rolled back to it, say): it only takes the number.
  if (serving != state.serving.end() && serving->second.spec == spec_text && !state.rollouts.count(name)) {
    serving->second.release = release;
    const bool sick = serving->second.health == "unhealthy";
    app_report = {release, sick ? "unhealthy" : "running", sick ? serving->second.health_detail : "", 0};
    saveDeployed(state);
    return;
  }
  if (auto trial = state.rollouts.find(name); trial != state.rollouts.end()) {
    if (trial->second.next.release == release) return;
    // A newer release supersedes the one on trial.
    (void)state.channel->call("stop_app", {{"app", name}, {"instance", trial->second.next.id}}, kGuestTimeout);
    state.rollouts.erase(trial);
  }
  // A failed release is not retried on every pass; a new release (or a VM reboot) retries.
  if (app_report.release == release && app_report.state == "failed") return;
  // The instance still draining holds the slot the new one would take: its time is up.
  if (auto drain = state.draining.find(name); drain != state.draining.end()) {
    (void)state.channel->call("stop_app", {{"app", name}, {"instance", drain->second.old.id}}, kGuestTimeout);
    state.draining.erase(drain);
  }

  const bool checked = spec.health.enabled();
  const bool start_first = checked && spec.ports.size() <= 1 && serving != state.serving.end();
  AppInstance next{name + "-" + std::to_string(release), release, spec_text,
                   start_first ? 1 - serving->second.slot : 0, checked ? "starting" : "", ""};
  const int64_t serving_release = start_first ? serving->second.release : 0;
  app_report = {release, "deploying", checked ? "waiting for the health check" : "", 0};
  report();
  Status deployed = deployApp(state, app, next, !start_first);
  if (!deployed.isOk()) {
    spdlog::warn("agent: deploy of {} release {} into {}/{} failed: {}", name, release, state.project, state.name,
                 deployed.toString());
    if (!start_first) state.serving.erase(name);
    app_report = {release, "failed", deployed.message(), serving_release};
    saveDeployed(state);
    return;
  }
  if (checked) {
    state.rollouts[name] = Rollout{next, Clock::now() + rolloutLimit(spec.health)};
  } else {
    app_report = {release, "running", "", 0};
  }
  // Stop-first: the old instance is gone and the new one is all there is to send traffic to.
  if (!start_first) state.serving[name] = next;
  saveDeployed(state);
}

void Agent::applyHealthEvents(VmState& state) {
  std::vector<HealthEvent> events;
  {
    std::lock_guard lock(health_mu_);
    auto it = health_events_.find(key(state.project, state.name));
    if (it != health_events_.end()) {
      events = std::move(it->second);
      health_events_.erase(it);
    }
  }
  for (const HealthEvent& event : events) {
    if (auto trial = state.rollouts.find(event.app);
        trial != state.rollouts.end() && trial->second.next.id == event.instance) {
      if (event.health == "healthy") finishRollout(state, event.app, true, "");
      if (event.health == "unhealthy") finishRollout(state, event.app, false, "health check failed: " + event.detail);
      continue;
    }
    auto serving = state.serving.find(event.app);
    if (serving == state.serving.end() || serving->second.id != event.instance) continue;
    serving->second.health = event.health;
    serving->second.health_detail = event.detail;
    auto& app_report = state.app_reports[event.app];
    if (app_report.release != serving->second.release || app_report.state == "deploying") continue;
    const bool sick = event.health == "unhealthy";
    app_report.state = sick ? "unhealthy" : "running";
    app_report.detail = sick ? "health check failing: " + event.detail : "";
  }
  std::vector<std::string> late;
  for (const auto& [name, trial] : state.rollouts) {
    if (Clock::now() > trial.deadline) late.push_back(name);
  }
  for (const std::string& name : late) finishRollout(state, name, false, "not healthy in time");
}

void Agent::finishRollout(VmState& state, const std::string& app, bool healthy, const std::string& detail) {
  const AppInstance next = state.rollouts[app].next;
  state.rollouts.erase(app);
  auto& app_report = state.app_reports[app];
  auto serving = state.serving.find(app);
  const bool beside_old = serving != state.serving.end() && serving->second.id != next.id;
  if (healthy) {
    const std::optional<AppInstance> old = beside_old ? std::optional(serving->second) : std::nullopt;
    state.serving[app] = next;
    state.serving[app].health = "healthy";
    // The proxy switches first, and the old instance stops only once the connections it was
    // given are done: no connection is refused, none is cut.
    publishPorts();
    if (old) state.draining[app] = Drain{*old, Clock::now() + kDrainLimit};
    app_report = {next.release, "running", "", 0};
    spdlog::info("agent: {} release {} is healthy in {}/{}", app, next.release, state.project, state.name);
  } else {
    const std::string lines = lastLogLines(state, app, next.id);
    (void)state.channel->call("stop_app", {{"app", app}, {"instance", next.id}}, kGuestTimeout);
    if (!beside_old) state.serving.erase(app);
    app_report = {next.release, "failed",
                  "release " + std::to_string(next.release) + " " + detail +
                      (lines.empty() ? "" : "; its last log lines:\n" + lines),
                  beside_old ? serving->second.release : 0};
    spdlog::warn("agent: {} release {} failed in {}/{}: {}", app, next.release, state.project, state.name, detail);
  }
  saveDeployed(state);
}

void Agent::drainInstances(VmState& state) {
  for (auto it = state.draining.begin(); it != state.draining.end();) {
    const Drain& drain = it->second;
    std::size_t open = 0;
    if (Clock::now() < drain.deadline) {
      std::lock_guard lock(traffic_mu_);
      for (const auto& [host_port, backend] : publishedForwards(state, drain.old)) {
        auto count = publisher_.connectionsTo(host_port, backend);
        if (count.isOk()) open += *count;
      }
    }
    if (open > 0) {
      ++it;
      continue;
    }
    if (state.channel) {
      (void)state.channel->call("stop_app", {{"app", it->first}, {"instance", drain.old.id}}, kGuestTimeout);
    }
    it = state.draining.erase(it);
  }
}

std::string Agent::lastLogLines(const VmState& state, const std::string& app, const std::string& instance) const {
  auto text = os::readFile(paths_.vm(state.project, state.name).appLog(app));
  if (!text.isOk()) return "";
  std::string partial;
  std::vector<LogRecord> records = decodeRecords(partial, *text);
  std::erase_if(records, [&](const LogRecord& r) { return r.instance != instance; });
  std::string out;
  for (const LogRecord& record : tailRecords(std::move(records), kFailureLogLines)) out += record.data;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

Status Agent::ensureForward(VmState& state, int guest_port) {
  if (state.forwards.count(guest_port)) return Status::ok();
  BERTH_ASSIGN_OR_RETURN(int host_port, freeLoopbackPort());
  BERTH_RETURN_IF_ERROR(network_->forwardPort(paths_.vm(state.project, state.name), host_port, guest_port));
  state.forwards[guest_port] = host_port;
  return Status::ok();
}

std::vector<std::pair<int, int>> Agent::publishedForwards(const VmState& state, const AppInstance& instance) {
  std::vector<std::pair<int, int>> out;
  const auto spec = model::appSpecFromJson(instance.spec);
  if (!spec.isOk()) return out;
  for (const model::PortSpec& port : spec->ports) {
    const int host_port = static_cast<int>(port.host_port);
    auto forward = state.forwards.find(instancePort(static_cast<int>(port.port), instance.slot));
    if (host_port > 0 && forward != state.forwards.end()) out.emplace_back(host_port, forward->second);
  }
  return out;
}

void Agent::publishPorts() {
  std::map<int, std::vector<Route>> routes;  // published host port -> serving instances
  for (const auto& [k, vm] : vms_) {
    if (vm.state != "running") continue;
    for (const auto& [name, instance] : vm.serving) {
      for (const auto& [host_port, backend] : publishedForwards(vm, instance)) {
        routes[host_port].push_back(Route{k + "/" + instance.id, backend});
      }
    }
  }
  std::lock_guard lock(traffic_mu_);
  // A previous agent's proxies: kept if still wanted (then told their backends), else stopped.
  if (!swept_) {
    for (int port : publisher_.published()) published_.emplace(port, std::vector<int>{-1});
    swept_ = true;
  }
  for (auto it = published_.begin(); it != published_.end();) {
    if (routes.count(it->first)) {
      ++it;
      continue;
    }
    (void)publisher_.unpublish(it->first);
    it = published_.erase(it);
  }
  routes_ = std::move(routes);
  applyRoutesLocked();
}

void Agent::markInstance(const std::string& vm_key, const std::string& instance, bool up) {
  std::lock_guard lock(traffic_mu_);
  const std::string key = vm_key + "/" + instance;
  if (up ? down_.erase(key) == 0 : !down_.insert(key).second) return;
  applyRoutesLocked();
}

// Each port goes to its instances that are up; when none is, to all of them (one may be back
// before the guest has said so, and refusing everything would be worse).
void Agent::applyRoutesLocked() {
  for (const auto& [host_port, routes] : routes_) {
    std::vector<int> up, all;
    for (const Route& route : routes) {
      all.push_back(route.backend);
      if (!down_.count(route.instance)) up.push_back(route.backend);
    }
    const std::vector<int>& backends = up.empty() ? all : up;
    if (auto it = published_.find(host_port); it != published_.end() && it->second == backends) continue;
    Status published = publisher_.publish(host_port, backends);
    if (!published.isOk()) {
      spdlog::warn("agent: cannot publish 127.0.0.1:{}: {}", host_port, published.toString());
      continue;
    }
    published_[host_port] = backends;
  }
}

// Env secrets join the app's environment; file secrets become /run/secrets/<app>/<name> (the
// guest's /run is a tmpfs), readable by root only. Both reach the guest over the channel alone.
Status Agent::addSecrets(const model::AppAssignment& app, json& request) {
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

Status Agent::deployApp(VmState& state, const model::AppAssignment& app, const AppInstance& instance, bool replace) {
  if (!state.channel) return unavailable("guest channel is not up");
  const model::AppSpec& spec = app.spec;
  json request = {{"app", app.name}, {"instance", instance.id}, {"replace", replace}};
  request["argv"] = spec.command;
  request["env"] = spec.env;
  request["restart"] = spec.restart;
  BERTH_RETURN_IF_ERROR(addSecrets(app, request));
  const std::string& image = spec.image;
  if (spec.isContainer()) {
    BERTH_RETURN_IF_ERROR(addContainerImage(state, app, request));
  } else if (!image.empty()) {
    if (!isSha256Digest(image)) {
      return invalidArgument("image '" + image + "' is not an uploaded bundle digest (OCI images come later)");
    }
    const std::string hex = image.substr(7);
    BERTH_RETURN_IF_ERROR(fetchBlob(image, paths_.imageTar(hex), kMaxBundleBytes, 0600));
    BERTH_ASSIGN_OR_RETURN(Ext4Image ext4, ensureExt4Image(paths_, hex));
    BERTH_RETURN_IF_ERROR(offerImage(state, ext4.path, ext4.digest, ext4.size, request));
  }
  if (request["argv"].empty()) return invalidArgument("app has no command");
  const std::vector<model::PortSpec>& ports = spec.ports;
  for (const model::PortSpec& port : ports) {
    const int guest_port = instancePort(static_cast<int>(port.port), instance.slot);
    const int host_port = static_cast<int>(port.host_port);
    if (host_port <= 0) continue;
    // The published port is the agent's own listener: one that is taken fails this deploy now.
    {
      std::lock_guard lock(traffic_mu_);
      if (!published_.count(host_port)) {
        BERTH_RETURN_IF_ERROR(publisher_.publish(host_port, {}));
        published_[host_port] = {};
      }
    }
    BERTH_RETURN_IF_ERROR(ensureForward(state, guest_port));
  }
  if (!ports.empty()) request["env"]["PORT"] = std::to_string(instancePort(static_cast<int>(ports[0].port), instance.slot));
  if (spec.health.enabled()) {
    json health = model::appSpecToJson(spec)["health"];
    if (spec.health.type != "exec") {
      if (ports.empty()) return invalidArgument("an http or tcp health check needs a port");
      health["port"] = instancePort(static_cast<int>(ports[0].port), instance.slot);
    }
    request["health"] = health;
  }
  return state.channel->call("run_app", request, std::chrono::seconds(120)).status();
}

// A container app runs its image's root file system (fetched once per node by digest) in its
// own namespaces; the image config fills in what the spec leaves out.
Status Agent::addContainerImage(VmState& state, const model::AppAssignment& app, json& request) {
  if (!app.image || !isSha256Digest(app.image->rootfs_digest)) {
    return invalidArgument("container app '" + app.name + "' came without its image");
  }
  const std::string& rootfs = app.image->rootfs_digest;
  const std::string path = paths_.rootfs(rootfs.substr(7));
  BERTH_RETURN_IF_ERROR(fetchBlob(rootfs, path, kMaxRootfsBytes, 0444));
  BERTH_RETURN_IF_ERROR(offerImage(state, path, rootfs, static_cast<std::uint64_t>(app.image->rootfs_size), request));
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

// Blobs are content-addressed: a file already at `path` is the blob, and one fetched is kept
// only if its bytes hash to `digest`.
Status Agent::fetchBlob(const std::string& digest, const std::string& path, std::uint64_t max_bytes, mode_t mode) {
  if (::access(path.c_str(), R_OK) == 0) return Status::ok();
  BERTH_ASSIGN_OR_RETURN(std::string bytes, api_->download("/v1/blobs/" + digest, max_bytes));
  if ("sha256:" + sha256Hex(bytes) != digest) return internalError("blob " + digest + " arrived corrupt");
  return os::writeFileAtomic(path, bytes, mode);
}

// The VM's relay serves only what is linked into its images directory, by hex digest.
Status Agent::offerImage(VmState& state, const std::string& path, const std::string& digest, std::uint64_t size,
                         json& request) {
  const std::string link = paths_.vm(state.project, state.name).imagesDir() + "/" + digest.substr(7);
  if (::access(link.c_str(), R_OK) != 0 && ::link(path.c_str(), link.c_str()) != 0) {
    return internalError("cannot offer the image to the VM: " + std::string(std::strerror(errno)));
  }
  request["image_digest"] = digest;
  request["image_size"] = size;
  request["image_source"] = network_->imageRelayAddress();
  return Status::ok();
}

void Agent::saveDeployed(const VmState& state) {
  json serving = json::object(), forwards = json::object();
  for (const auto& [name, instance] : state.serving) serving[name] = instanceToJson(instance);
  for (const auto& [guest, host] : state.forwards) forwards[std::to_string(guest)] = host;
  (void)os::writeFileAtomic(paths_.vm(state.project, state.name).appsState(),
                            json{{"serving", serving}, {"forwards", forwards}}.dump());
}

void Agent::loadDeployed(VmState& state, const json& saved) {
  const json serving = saved.value("serving", json::object()), forwards = saved.value("forwards", json::object());
  for (const auto& [name, i] : serving.items()) {
    if (!i.is_object()) continue;
    state.serving[name] = AppInstance{i.value("id", ""), i.value("release", int64_t{0}), i.value("spec", ""),
                                      i.value("slot", 0), i.value("health", ""), ""};
  }
  for (const auto& [guest, host] : forwards.items()) {
    if (host.is_number_integer()) state.forwards[std::atoi(guest.c_str())] = host.get<int>();
  }
}

}  // namespace berth::agent
