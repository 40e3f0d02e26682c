#include "agent/agent.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cstring>
#include <fstream>
#include <optional>
#include <thread>

#include "agent/image/app_bundle.h"
#include "agent/runtime/initramfs.h"
#include "agent/sessions/app_log.h"
#include "common/crypto.h"
#include "common/names.h"
#include "os/file_util.h"

namespace berth::agent {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kGuestTimeout = std::chrono::seconds(30);
// While a guest boots, hello is retried on every pass rather than waited for in one: the loop
// (and with it the node's heartbeat) must keep moving.
constexpr auto kHelloTimeout = std::chrono::seconds(5);
constexpr auto kShutdownGrace = std::chrono::seconds(20);
// A guest boots in seconds, under TCG on a busy host in tens of seconds; one that has not said
// hello in this long never will (a kernel that hung early, an init that died).
constexpr auto kHelloDeadline = std::chrono::seconds(120);
constexpr std::uint64_t kMaxBundleBytes = 1ull << 30;
constexpr std::uint64_t kMaxRootfsBytes = 4ull << 30;

// The image config's User: "uid[:gid]" in numbers, or root. Names would need the image's
// /etc/passwd, read inside the guest: not supported yet, and said so.
Result<std::pair<std::uint64_t, std::uint64_t>> parseImageUser(const std::string& user) {
  if (user.empty() || user == "root" || user == "0") return std::pair<std::uint64_t, std::uint64_t>{0, 0};
  const auto colon = user.find(':');
  const std::string uid = user.substr(0, colon), gid = colon == std::string::npos ? uid : user.substr(colon + 1);
  auto number = [](const std::string& s) -> std::optional<std::uint64_t> {
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::stoull(s);
  };
  auto u = number(uid), g = number(gid);
  if (!u || !g) {
    return invalidArgument("the image's USER '" + user + "' is a name; only numeric uid[:gid] is supported so far");
  }
  return std::make_pair(*u, *g);
}
constexpr const char* kImageSource = "10.0.2.100:80";

std::string key(const std::string& project, const std::string& vm) { return project + "/" + vm; }

// Seconds to wait before the next boot after `failures` failed ones: 1, 2, 4 … 30.
int bootBackoffSeconds(int failures) { return std::min(30, 1 << std::min(failures - 1, 5)); }

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void appendBounded(const std::string& path, const std::string& data, std::uint64_t max_bytes) {
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) + data.size() > max_bytes) {
    ::rename(path.c_str(), (path + ".1").c_str());
  }
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << data;
}

bool waitGone(Runtime& runtime, const Paths::Vm& paths, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  while (runtime.running(paths)) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

}  // namespace

Agent::Agent(AgentOptions options, std::unique_ptr<cli::ApiClient> api, std::unique_ptr<Runtime> runtime)
    : options_(std::move(options)), paths_(options_.data_dir), api_(std::move(api)), runtime_(std::move(runtime)) {}

Agent::~Agent() { stop(); }

Status Agent::start() {
  BERTH_RETURN_IF_ERROR(os::makeDirs(paths_.data(), 0700));
  BERTH_RETURN_IF_ERROR(os::makeDirs(paths_.imagesDir(), 0700));
  if (::access(options_.kernel.c_str(), R_OK) != 0) {
    return failedPrecondition("guest kernel " + options_.kernel +
                              " is missing (run scripts/fetch-guest-kernel, or pass --kernel)");
  }
  InitramfsInputs inputs{options_.init_binary, options_.modules_dir, defaultGuestModules(), options_.busybox};
  BERTH_ASSIGN_OR_RETURN(initramfs_, buildInitramfs(inputs, paths_.cacheDir()));

  const int64_t cpus = options_.vcpus > 0 ? options_.vcpus : std::max<long>(1, ::sysconf(_SC_NPROCESSORS_ONLN));
  const int64_t mem = options_.memory_mib > 0
                          ? options_.memory_mib
                          : static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGE_SIZE) / (1 << 20);
  json registration = {{"name", options_.node_name},
                       {"capacity", {{"vcpus", cpus * 4}, {"memory_mib", mem}, {"disk_gib", options_.disk_gib > 0 ? options_.disk_gib : 100}}}};
  auto registered = api_->post("/v1/nodes", registration);
  if (!registered.isOk()) return registered.status().withContext("cannot register node " + options_.node_name);
  thread_ = std::thread([this] { loop(); });
  sessions_ = std::make_unique<SessionRunner>(
      options_.node_name, *api_, paths_,
      [this](const std::string& project, const std::string& vm) { return liveChannel(project, vm); });
  sessions_->start();
  return Status::ok();
}

void Agent::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  // VMs keep running: a restarted agent adopts them. Only the channels close — first, so that
  // a session waiting on its guest ends.
  for (auto& [k, vm] : vms_) {
    if (vm.channel) vm.channel->close();
  }
  if (sessions_) sessions_->stop();
  {
    std::lock_guard lock(live_mu_);
    live_channels_.clear();
  }
  for (auto& [k, vm] : vms_) vm.channel.reset();
}

void Agent::publishChannels() {
  std::map<std::string, std::shared_ptr<GuestConnection>> live;
  for (const auto& [k, vm] : vms_) {
    if (vm.channel && vm.channel->open()) live[k] = vm.channel;
  }
  std::lock_guard lock(live_mu_);
  live_channels_.swap(live);
}

std::shared_ptr<GuestConnection> Agent::liveChannel(const std::string& project, const std::string& vm) {
  std::lock_guard lock(live_mu_);
  auto it = live_channels_.find(key(project, vm));
  return it == live_channels_.end() ? nullptr : it->second;
}

void Agent::loop() {
  int64_t revision = 0;
  while (!stopping_) {
    auto assignment = api_->get("/v1/nodes/" + options_.node_name + "/assignment?since=" + std::to_string(revision) +
                                "&wait=" + std::to_string(options_.poll_seconds));
    if (!assignment.isOk()) {
      spdlog::warn("agent: cannot read assignment: {}", assignment.status().toString());
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    revision = assignment->body.value("revision", revision);
    Status s = reconcile(assignment->body);
    if (!s.isOk()) spdlog::warn("agent: reconcile: {}", s.toString());
    publishChannels();
    report();
  }
}

Status Agent::reconcile(const json& assignment) {
  std::set<std::string> assigned;
  std::map<std::string, std::vector<json>> apps_by_vm;
  const json assigned_apps = assignment.value("apps", json::array());
  const json assigned_vms = assignment.value("vms", json::array());
  const json secrets = assignment.value("secrets", json::object());
  const json images = assignment.value("images", json::object());
  for (json app : assigned_apps) {
    const json spec = app.value("spec", json::object());
    const std::string project = app.value("project", "");
    // Secrets travel with their app in memory only: the agent never writes them to disk.
    if (auto s = secrets.find(key(project, app.value("name", ""))); s != secrets.end()) app["secrets"] = *s;
    if (auto i = images.find(key(project, app.value("name", ""))); i != images.end()) app["oci_image"] = *i;
    if (spec.contains("vm") && spec["vm"].is_string()) {
      apps_by_vm[key(project, spec["vm"].get<std::string>())].push_back(std::move(app));
    }
  }
  for (const json& vm : assigned_vms) {
    if (stopping_) return Status::ok();
    const std::string k = key(vm.value("project", ""), vm.value("name", ""));
    assigned.insert(k);
    reconcileVm(vm);
    VmState& state = vms_[k];
    if (state.state == "running") reconcileApps(state, apps_by_vm[k]);
  }
  for (auto it = vms_.begin(); it != vms_.end();) {
    if (assigned.count(it->first)) {
      ++it;
      continue;
    }
    const std::string project = it->second.project, name = it->second.name;
    it->second.channel.reset();
    it = vms_.erase(it);
    destroyVm(project, name);
  }
  return Status::ok();
}

void Agent::reconcileVm(const json& vm) {
  const std::string project = vm.value("project", ""), name = vm.value("name", "");
  const std::string k = key(project, name);
  VmState& state = vms_[k];
  state.project = project;
  state.name = name;
  const Paths::Vm paths = paths_.vm(project, name);
  const bool want_running = vm.value("power", "running") == "running";
  const int64_t generation = vm.value("restart_generation", int64_t{0});

  {
    std::lock_guard lock(channel_errors_mu_);
    if (auto it = channel_errors_.find(k); it != channel_errors_.end()) {
      state.channel_error = it->second;
      channel_errors_.erase(it);
    }
  }
  if (!state.channel_error.empty()) {
    // A misbehaving guest: its channel is gone and stays gone until the VM boots again.
    state.channel.reset();
    state.state = "failed";
    state.detail = "guest channel closed: " + state.channel_error;
  }

  auto pid = runtime_->running(paths);
  if (pid && state.pid < 0) {
    // Adoption: a VM left running by a previous agent process.
    state.pid = *pid;
    state.up_since = Clock::now();
    if (auto gen = os::readFile(paths.dir + "/generation"); gen.isOk()) state.booted_generation = std::atoll(gen->c_str());
    if (auto deployed = os::readFile(paths.appsState()); deployed.isOk()) {
      json saved = json::parse(*deployed, nullptr, false);
      if (saved.is_object()) {
        const json deployed_apps = saved.value("deployed", json::object());
        const json forwarded = saved.value("forwarded", json::array());
        for (const auto& item : deployed_apps.items()) state.deployed[item.key()] = item.value().get<int64_t>();
        for (const json& port : forwarded) state.forwarded.insert(port.get<int>());
      }
    }
    spdlog::info("agent: adopted VM {} (QEMU pid {})", k, *pid);
  }
  if (!pid && state.pid > 0) {
    const bool expected = state.state == "stopping" || state.state == "stopped";
    state.channel.reset();
    state.pid = -1;
    state.deployed.clear();
    state.app_reports.clear();
    state.forwarded.clear();
    state.boot_id.clear();
    if (!expected) {
      ++state.failures;
      const int backoff = bootBackoffSeconds(state.failures);
      state.next_boot = Clock::now() + std::chrono::seconds(backoff);
      state.state = "failed";
      state.detail = "QEMU exited unexpectedly; booting again in " + std::to_string(backoff) + "s";
      spdlog::warn("agent: VM {}: {}", k, state.detail);
    }
  }

  if (!want_running) {
    if (state.pid > 0) stopVm(state);
    state.state = "stopped";
    state.detail.clear();
    return;
  }
  if (state.pid > 0 && generation > state.booted_generation && state.booted_generation >= 0) {
    spdlog::info("agent: restarting VM {} (generation {})", k, generation);
    stopVm(state);
  }
  if (state.pid < 0) {
    if (Clock::now() < state.next_boot) return;
    state.state = "starting";
    state.detail.clear();
    report();
    Status booted = bootVm(state, vm);
    if (!booted.isOk()) {
      ++state.failures;
      state.state = "failed";
      state.detail = booted.message();
      state.next_boot = Clock::now() + std::chrono::seconds(bootBackoffSeconds(state.failures + 1));
      return;
    }
    state.booted_generation = generation;
    (void)os::writeFileAtomic(paths.dir + "/generation", std::to_string(generation));
  }
  if (!state.channel && state.channel_error.empty()) {
    Status connected = connectChannel(state);
    if (!connected.isOk() && Clock::now() - state.up_since > kHelloDeadline) {
      ++state.failures;
      const int backoff = bootBackoffSeconds(state.failures);
      (void)runtime_->kill(paths);
      state.channel.reset();
      state.pid = -1;
      state.state = "failed";
      state.detail = "the guest did not say hello within " + std::to_string(kHelloDeadline.count()) +
                     " s of booting (see berth vm console); booting again in " + std::to_string(backoff) + "s";
      state.next_boot = Clock::now() + std::chrono::seconds(backoff);
      spdlog::warn("agent: VM {}: {}", k, state.detail);
      return;
    }
    if (!connected.isOk()) {
      spdlog::info("agent: VM {}: {}", k, connected.message());
      state.state = "starting";
      state.detail = connected.message();
      return;
    }
  }
  if (state.channel && state.channel_error.empty()) {
    state.state = "running";
    state.detail.clear();
    state.failures = 0;
  }
  // Keep the console log bounded: QEMU appends to it, the agent rotates it.
  struct stat st{};
  if (::stat(paths.serialLog().c_str(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) > kSerialLogBytes) {
    (void)os::writeFileAtomic(paths.serialLog() + ".1", os::readFile(paths.serialLog()).value());
    ::truncate(paths.serialLog().c_str(), 0);
  }
}

Status Agent::bootVm(VmState& state, const json& vm) {
  const Paths::Vm paths = paths_.vm(state.project, state.name);
  VmLaunch launch;
  launch.project = state.project;
  launch.name = state.name;
  launch.vcpus = vm.value("vcpus", int64_t{1});
  launch.memory_mib = vm.value("memory_mib", int64_t{512});
  launch.disk_gib = vm.value("disk_gib", int64_t{2});
  launch.machine = vm.value("machine", std::string("microvm"));
  launch.kernel = options_.kernel;
  launch.initramfs = initramfs_;
  launch.image_relay_command = shellQuote(options_.agent_binary) + " serve-image " + shellQuote(paths.imagesDir());
  BERTH_ASSIGN_OR_RETURN(pid_t pid, runtime_->start(launch, paths));
  state.pid = pid;
  state.up_since = Clock::now();
  state.deployed.clear();
  state.app_reports.clear();
  state.forwarded.clear();
  state.channel_error.clear();
  saveDeployed(state);
  spdlog::info("agent: booted VM {}/{} (QEMU pid {})", state.project, state.name, pid);
  return Status::ok();
}

Status Agent::connectChannel(VmState& state) {
  const std::string k = key(state.project, state.name);
  const Paths::Vm paths = paths_.vm(state.project, state.name);
  BERTH_ASSIGN_OR_RETURN(auto channel,
                         GuestConnection::connect(
                             paths.channelSocket(), [this, k](const guest::Message& m) { onNotification(k, m); },
                             [this, k](const std::string& reason) {
                               if (reason.empty()) return;
                               spdlog::warn("agent: VM {}: closed its channel: {}", k, reason);
                               std::lock_guard lock(channel_errors_mu_);
                               channel_errors_[k] = reason;
                             }));
  auto hello = channel->call("hello", {{"version", guest::kProtocolVersion}}, kHelloTimeout);
  if (!hello.isOk()) return hello.status().withContext("waiting for the guest's hello");
  state.boot_id = hello->value("boot_id", std::string());
  spdlog::info("agent: VM {}: guest said hello (boot {})", k, state.boot_id);
  state.channel = std::move(channel);
  publishChannels();
  // What runs in the guest is the truth: an app the guest does not know must be deployed again.
  std::set<std::string> running;
  const json guest_apps = hello->value("apps", json::array());
  for (const json& app : guest_apps) running.insert(app.value("app", std::string()));
  for (auto it = state.deployed.begin(); it != state.deployed.end();) {
    it = running.count(it->first) ? std::next(it) : state.deployed.erase(it);
  }
  return Status::ok();
}

void Agent::stopVm(VmState& state) {
  const Paths::Vm paths = paths_.vm(state.project, state.name);
  state.state = "stopping";
  report();
  bool asked = false;
  if (state.channel && state.channel->open()) {
    asked = state.channel->call("shutdown", {{"grace_ms", 10000}}, std::chrono::seconds(15)).isOk();
  }
  if (!asked) (void)runtime_->powerdown(paths);
  if (!waitGone(*runtime_, paths, kShutdownGrace)) {
    spdlog::warn("agent: VM {}/{} did not power off in time; ending it", state.project, state.name);
    (void)runtime_->kill(paths);
  }
  state.channel.reset();
  state.pid = -1;
  state.deployed.clear();
  state.app_reports.clear();
  state.forwarded.clear();
  state.state = "stopped";
}

void Agent::destroyVm(const std::string& project, const std::string& name) {
  const Paths::Vm paths = paths_.vm(project, name);
  (void)runtime_->kill(paths);
  (void)os::removeAll(paths.dir);
  spdlog::info("agent: removed VM {}/{}", project, name);
}

void Agent::reconcileApps(VmState& state, const std::vector<json>& apps) {
  std::set<std::string> wanted;
  for (const json& app : apps) {
    const std::string name = app.value("name", "");
    wanted.insert(name);
    const int64_t release = app.value("release", int64_t{0});
    auto it = state.deployed.find(name);
    if (it != state.deployed.end() && it->second == release) continue;
    auto& app_report = state.app_reports[name];
    // A failed release is not retried on every pass; a new release (or a VM reboot) retries.
    if (app_report.release == release && app_report.state == "failed") continue;
    app_report = {release, "deploying", ""};
    report();
    Status deployed = deployApp(state, app);
    if (!deployed.isOk()) {
      spdlog::warn("agent: deploy of {} release {} into {}/{} failed: {}", name, release, state.project, state.name,
                   deployed.toString());
      app_report = {release, "failed", deployed.message()};
      continue;
    }
    app_report = {release, "running", ""};
    state.deployed[name] = release;
    saveDeployed(state);
  }
  for (auto it = state.app_reports.begin(); it != state.app_reports.end();) {
    it = wanted.count(it->first) ? std::next(it) : state.app_reports.erase(it);
  }
  for (auto it = state.deployed.begin(); it != state.deployed.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    if (state.channel) (void)state.channel->call("stop_app", {{"app", it->first}}, kGuestTimeout);
    it = state.deployed.erase(it);
    saveDeployed(state);
  }
}

// Env secrets join the app's environment; file secrets become /run/secrets/<app>/<name> (the
// guest's /run is a tmpfs), readable by root only. Both reach the guest over the channel alone.
Status Agent::addSecrets(const json& app, json& request) {
  const std::string name = app.value("name", "");
  for (const json& secret : app.value("secrets", json::array())) {
    const std::string secret_name = secret.value("name", ""), value = secret.value("value", "");
    if (secret_name.empty() || secret_name.find('/') != std::string::npos || secret_name[0] == '.') {
      return invalidArgument("app '" + name + "' names a malformed secret");
    }
    if (secret.value("as", "env") == "file") {
      request["files"].push_back({{"path", "/run/secrets/" + name + "/" + secret_name},
                                  {"mode", 0400},
                                  {"data", json::binary(std::vector<std::uint8_t>(value.begin(), value.end()))}});
    } else {
      request["env"][secret_name] = value;
    }
  }
  return Status::ok();
}

Status Agent::deployApp(VmState& state, const json& app) {
  if (!state.channel) return unavailable("guest channel is not up");
  const json spec = app.value("spec", json::object());
  json request = {{"app", app.value("name", "")}};
  request["argv"] = spec.value("command", json::array());
  request["env"] = spec.value("env", json::object());
  request["restart"] = spec.value("restart", "always");
  BERTH_RETURN_IF_ERROR(addSecrets(app, request));
  const std::string image = spec.value("image", std::string());
  if (spec.value("kind", "process") == "container") {
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
  const json ports = spec.value("ports", json::array());
  for (const json& port : ports) {
    const int guest_port = port.value("port", 0);
    const int host_port = port.value("host_port", 0);
    if (host_port <= 0 || state.forwarded.count(host_port)) continue;
    BERTH_RETURN_IF_ERROR(runtime_->forwardPort(paths_.vm(state.project, state.name), host_port, guest_port));
    state.forwarded.insert(host_port);
  }
  return state.channel->call("run_app", request, std::chrono::seconds(120)).status();
}

// A container app runs its image's root file system (fetched once per node by digest) in its
// own namespaces; the image config fills in what the spec leaves out.
Status Agent::addContainerImage(VmState& state, const json& app, json& request) {
  const json image = app.value("oci_image", json::object());
  const std::string rootfs = image.value("rootfs_digest", "");
  if (!isSha256Digest(rootfs)) {
    return invalidArgument("container app '" + app.value("name", "") + "' came without its image");
  }
  const std::string path = paths_.rootfs(rootfs.substr(7));
  BERTH_RETURN_IF_ERROR(fetchBlob(rootfs, path, kMaxRootfsBytes, 0444));
  BERTH_RETURN_IF_ERROR(offerImage(state, path, rootfs, image.value("rootfs_size", std::uint64_t{0}), request));
  const json config = image.value("config", json::object());
  if (request["argv"].empty()) {
    json argv = config.value("entrypoint", json::array());
    for (const json& arg : config.value("cmd", json::array())) argv.push_back(arg);
    request["argv"] = argv;
  }
  json env = json::object();
  for (const json& kv : config.value("env", json::array())) {
    const std::string s = kv.get<std::string>();
    if (auto eq = s.find('='); eq != std::string::npos && eq > 0) env[s.substr(0, eq)] = s.substr(eq + 1);
  }
  for (const auto& [k, v] : request["env"].items()) env[k] = v;
  request["env"] = env;
  const std::string cwd = config.value("working_dir", "");
  if (!cwd.empty()) request["cwd"] = cwd;
  BERTH_ASSIGN_OR_RETURN(auto ids, parseImageUser(config.value("user", "")));
  request["uid"] = ids.first;
  request["gid"] = ids.second;
  request["container"] = true;
  const json resources = app.value("spec", json::object()).value("resources", json::object());
  if (const int64_t mib = resources.value("memory_mib", int64_t{0}); mib > 0) request["memory_max"] = mib << 20;
  if (const int64_t millis = resources.value("cpu_millis", int64_t{0}); millis > 0) request["cpu_max_millis"] = millis;
  if (const int64_t pids = resources.value("pids", int64_t{0}); pids > 0) request["pids_max"] = pids;
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
  request["image_source"] = kImageSource;
  return Status::ok();
}

void Agent::saveDeployed(const VmState& state) {
  json saved = {{"deployed", state.deployed}, {"forwarded", state.forwarded}};
  (void)os::writeFileAtomic(paths_.vm(state.project, state.name).appsState(), saved.dump());
}

void Agent::onNotification(const std::string& k, const guest::Message& message) {
  if (message.type != "log") return;
  const std::string app = message.body["app"].get<std::string>();
  if (!validateDnsLabel(app, "app").isOk()) return;
  const auto slash = k.find('/');
  const Paths::Vm paths = paths_.vm(k.substr(0, slash), k.substr(slash + 1));
  (void)os::makeDirs(paths.logsDir(), 0700);
  const auto& data = message.body["data"].get_binary();
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  LogRecord record{now.count(), message.body["stream"].get<std::string>(),
                   toText(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()))};
  appendBounded(paths.appLog(app), encodeLogRecord(record), kAppLogBytes);
}

void Agent::report() {
  json vms = json::array();
  json apps = json::array();
  for (const auto& [k, vm] : vms_) {
    vms.push_back({{"project", vm.project}, {"name", vm.name}, {"state", vm.state}, {"detail", vm.detail}});
    for (const auto& [app, r] : vm.app_reports) {
      apps.push_back({{"project", vm.project}, {"name", app}, {"release", r.release}, {"state", r.state},
                      {"detail", r.detail}});
    }
  }
  auto sent = api_->post("/v1/nodes/" + options_.node_name + "/status", {{"vms", vms}, {"apps", apps}});
  if (!sent.isOk()) spdlog::warn("agent: status report failed: {}", sent.status().toString());
}

}  // namespace berth::agent
