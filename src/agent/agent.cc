#include "agent/agent.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cstring>
#include <fstream>
#include <optional>
#include <thread>

#include "agent/app_bundle.h"
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
// While a rollout waits for a health check, the loop runs this often (woken early by the check).
constexpr auto kRolloutTick = std::chrono::milliseconds(250);

std::string key(const std::string& project, const std::string& vm) { return project + "/" + vm; }

// Seconds to wait before the next boot after `failures` failed ones: 1, 2, 4 … 30.
int bootBackoffSeconds(int failures) { return std::min(30, 1 << std::min(failures - 1, 5)); }

bool waitGone(Runtime& runtime, const Paths::Vm& paths, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  while (runtime.running(paths)) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

}  // namespace

Agent::Agent(AgentOptions options, std::unique_ptr<client::ApiClient> api, RuntimeRegistry runtimes,
             std::unique_ptr<VmNetwork> network)
    : options_(std::move(options)),
      paths_(options_.data_dir),
      api_(std::move(api)),
      runtimes_(std::move(runtimes)),
      network_(std::move(network)),
      publisher_(options_.agent_binary, paths_.proxiesDir()) {}

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
  const model::NodeRegistration registration{
      options_.node_name, "", {cpus * 4, mem, options_.disk_gib > 0 ? options_.disk_gib : 100}};
  auto registered = api_->post("/v1/nodes", model::nodeRegistrationToJson(registration));
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
    // A rollout in flight must see its health check's result at once: no long-poll then.
    const bool busy = rolloutsPending();
    auto assignment = api_->get("/v1/nodes/" + options_.node_name + "/assignment?since=" + std::to_string(revision) +
                                "&wait=" + std::to_string(busy ? 0 : options_.poll_seconds));
    if (!assignment.isOk()) {
      spdlog::warn("agent: cannot read assignment: {}", assignment.status().toString());
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    auto parsed = model::nodeAssignmentFromJson(assignment->body);
    if (!parsed.isOk()) {
      spdlog::warn("agent: berthd sent an assignment this agent cannot read: {}", parsed.status().toString());
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    revision = parsed->revision;
    Status s = reconcile(*parsed);
    if (!s.isOk()) spdlog::warn("agent: reconcile: {}", s.toString());
    publishChannels();
    report();
    if (busy) {
      std::unique_lock lock(health_mu_);
      health_cv_.wait_for(lock, kRolloutTick, [this] { return !health_events_.empty() || stopping_; });
    }
  }
}

Status Agent::reconcile(const model::NodeAssignment& assignment) {
  std::set<std::string> assigned;
  // Secrets travel with their app in memory only: the agent never writes them to disk.
  std::map<std::string, std::vector<const model::AppAssignment*>> apps_by_vm;
  for (const model::AppAssignment& app : assignment.apps) apps_by_vm[key(app.project, app.vm)].push_back(&app);
  for (const model::VmSpec& vm : assignment.vms) {
    if (stopping_) return Status::ok();
    const std::string k = key(vm.project, vm.name);
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
    Runtime* runtime = it->second.runtime;
    it->second.channel.reset();
    it = vms_.erase(it);
    destroyVm(runtime, project, name);
  }
  publishPorts();
  return Status::ok();
}

void Agent::reconcileVm(const model::VmSpec& vm) {
  const std::string& project = vm.project;
  const std::string& name = vm.name;
  const std::string k = key(project, name);
  VmState& state = vms_[k];
  state.project = project;
  state.name = name;
  const Paths::Vm paths = paths_.vm(project, name);
  const bool want_running = vm.power == "running";
  const int64_t generation = vm.restart_generation;

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

  auto runtime = runtimes_.find(vm.runtime);
  if (!runtime.isOk()) {
    state.state = "failed";
    state.detail = runtime.status().message();
    return;
  }
  state.runtime = *runtime;
  auto pid = state.runtime->running(paths);
  if (pid && state.pid < 0) {
    // Adoption: a VM left running by a previous agent process.
    state.pid = *pid;
    state.up_since = Clock::now();
    if (auto gen = os::readFile(paths.dir + "/generation"); gen.isOk()) state.booted_generation = std::atoll(gen->c_str());
    if (auto deployed = os::readFile(paths.appsState()); deployed.isOk()) {
      json saved = json::parse(*deployed, nullptr, false);
      if (saved.is_object()) {
        loadDeployed(state, saved);
      }
    }
    spdlog::info("agent: adopted VM {} (QEMU pid {})", k, *pid);
  }
  if (!pid && state.pid > 0) {
    const bool expected = state.state == "stopping" || state.state == "stopped";
    state.channel.reset();
    state.pid = -1;
    state.forgetApps();
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
      (void)state.runtime->kill(paths);
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

Status Agent::bootVm(VmState& state, const model::VmSpec& vm) {
  const Paths::Vm paths = paths_.vm(state.project, state.name);
  VmLaunch launch;
  launch.project = state.project;
  launch.name = state.name;
  launch.vcpus = vm.vcpus;
  launch.memory_mib = vm.memory_mib;
  launch.disk_gib = vm.disk_gib;
  launch.machine = vm.machine;
  launch.kernel = options_.kernel;
  launch.initramfs = initramfs_;
  launch.nics = network_->nicsFor(paths);
  BERTH_ASSIGN_OR_RETURN(pid_t pid, state.runtime->launch(launch, paths));
  state.pid = pid;
  state.up_since = Clock::now();
  state.forgetApps();
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
                             state.runtime->channelEndpoint(paths),
                             [this, k](const guest::Message& m) { onNotification(k, m); },
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
  // What runs in the guest is the truth: an app the guest does not know must be deployed again,
  // and an instance the agent does not know (a rollout cut short by an agent restart) goes.
  std::map<std::string, std::string> running;  // instance -> its app
  const json guest_apps = hello->value("apps", json::array());
  for (const json& app : guest_apps) {
    const std::string name = app.value("app", std::string());
    running[app.value("instance", name)] = name;
  }
  for (auto it = state.serving.begin(); it != state.serving.end();) {
    it = running.count(it->second.id) ? std::next(it) : state.serving.erase(it);
  }
  for (const auto& [instance, app] : running) {
    const bool known = std::any_of(state.serving.begin(), state.serving.end(),
                                   [&](const auto& s) { return s.second.id == instance; });
    if (!known && !instance.empty()) {
      (void)state.channel->call("stop_app", {{"app", app}, {"instance", instance}}, kGuestTimeout);
    }
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
  if (!asked) (void)state.runtime->stop(paths);
  if (!waitGone(*state.runtime, paths, kShutdownGrace)) {
    spdlog::warn("agent: VM {}/{} did not power off in time; ending it", state.project, state.name);
    (void)state.runtime->kill(paths);
  }
  state.channel.reset();
  state.pid = -1;
  state.forgetApps();
  state.state = "stopped";
}

void Agent::destroyVm(Runtime* runtime, const std::string& project, const std::string& name) {
  const Paths::Vm paths = paths_.vm(project, name);
  if (runtime) (void)runtime->kill(paths);
  (void)os::removeAll(paths.dir);
  spdlog::info("agent: removed VM {}/{}", project, name);
}

void Agent::onNotification(const std::string& k, const guest::Message& message) {
  if (message.type == "app_exited" || message.type == "app_started") {
    markInstance(k, message.body.value("instance", ""), message.type == "app_started");
    return;
  }
  if (message.type == "app_health") {
    markInstance(k, message.body["instance"].get<std::string>(), message.body["health"].get<std::string>() == "healthy");
    {
      std::lock_guard lock(health_mu_);
      health_events_[k].push_back({message.body["app"].get<std::string>(), message.body["instance"].get<std::string>(),
                                   message.body["health"].get<std::string>(), message.body.value("detail", "")});
    }
    health_cv_.notify_all();
    return;
  }
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
                   toText(std::string_view(reinterpret_cast<const char*>(data.data()), data.size())),
                   toText(message.body.value("instance", ""))};
  appendLogRecord(paths.appLog(app), record, options_.app_log_bytes);
}

void Agent::report() {
  model::NodeReport report;
  for (const auto& [k, vm] : vms_) {
    report.vms.push_back({vm.project, vm.name, vm.state, vm.detail});
    for (const auto& [app, r] : vm.app_reports) {
      report.apps.push_back({vm.project, app, r.release, r.state, r.detail, r.serving_release, vm.name});
    }
  }
  auto sent = api_->post("/v1/nodes/" + options_.node_name + "/status", model::nodeReportToJson(report));
  if (!sent.isOk()) spdlog::warn("agent: status report failed: {}", sent.status().toString());
}

}  // namespace berth::agent
