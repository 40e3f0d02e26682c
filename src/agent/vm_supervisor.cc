#include "agent/vm_supervisor.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "agent/deployed_state.h"
#include "agent/guest_channel/typed_call.h"
#include "agent/log_relay.h"
#include "agent/run_app_request.h"
#include "agent/sessions/app_log.h"
#include "common/crypto.h"
#include "os/file_util.h"
#include "os/unique_fd.h"

namespace berth::agent {
namespace {

using namespace std::chrono_literals;

// While a guest boots, hello is retried on every pass rather than waited for in one.
constexpr auto kHelloTimeout = 5s;
constexpr auto kShutdownGrace = 20s;
// A guest boots in seconds, under TCG on a busy host in tens of seconds; one that has not said
// hello in this long never will (a kernel that hung early, an init that died).
constexpr auto kHelloDeadline = 120s;
constexpr auto kRunAppTimeout = 120s;
// While a rollout waits for a health check or a drain, the worker passes this often (woken
// early by the check); else this often, besides every assignment.
constexpr auto kRolloutTick = 250ms;
constexpr auto kIdleTick = 2s;
constexpr std::size_t kFailureLogLines = 10;

// Seconds to wait before the next boot after `failures` failed ones: 1, 2, 4 … 30.
int bootBackoffSeconds(int failures) { return std::min(30, 1 << std::min(failures - 1, 5)); }

}  // namespace

ChannelConnector guestConnector() {
  return [](const std::string& socket_path, GuestConnection::NotificationHandler on_notification,
            GuestConnection::ClosedHandler on_closed) -> Result<std::shared_ptr<GuestChannel>> {
    BERTH_ASSIGN_OR_RETURN(
        auto connection,
        GuestConnection::connect(socket_path, std::move(on_notification), std::move(on_closed)));
    return std::shared_ptr<GuestChannel>(std::move(connection));
  };
}

VmSupervisor::VmSupervisor(VmKey key, SupervisorContext& context)
    : key_(std::move(key)),
      context_(context),
      paths_(context.paths.vm(key_.project, key_.name)),
      rollouts_(key_.toString(), context.clock,
                [this](const std::string& app, const std::string& instance) {
                  return lastLogLines(app, instance);
                }) {}

VmSupervisor::~VmSupervisor() { stop(); }

void VmSupervisor::start() {
  image_port_ = std::make_unique<ImagePort>(paths_.imagesSocket(), paths_.imagesDir());
  thread_ = std::thread([this] { run(); });
}

void VmSupervisor::assign(model::VmSpec vm, std::vector<model::AppAssignment> apps) {
  {
    std::lock_guard lock(mailbox_->mu);
    mailbox_->vm = std::move(vm);
    mailbox_->apps = std::move(apps);
    mailbox_->woken = true;
  }
  mailbox_->cv.notify_all();
}

void VmSupervisor::retire() {
  {
    std::lock_guard lock(mailbox_->mu);
    mailbox_->retiring = true;
    // Under the lock: a pass in flight must not publish the VM again.
    context_.reporter.remove(key_);
  }
  mailbox_->cv.notify_all();
  if (auto c = channel()) c->close();
}

void VmSupervisor::stop() {
  {
    std::lock_guard lock(mailbox_->mu);
    mailbox_->stopping = true;
  }
  mailbox_->cv.notify_all();
  if (auto c = channel()) c->close();
  if (thread_.joinable()) thread_.join();
  image_port_.reset();
}

bool VmSupervisor::stopping() const {
  std::lock_guard lock(mailbox_->mu);
  return mailbox_->stopping || mailbox_->retiring;
}

bool VmSupervisor::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mailbox_->mu);
  return !mailbox_->cv.wait_for(lock, d,
                                [this] { return mailbox_->stopping || mailbox_->retiring; });
}

void VmSupervisor::run() {
  for (;;) {
    {
      auto tick = std::chrono::duration_cast<std::chrono::milliseconds>(
          rollouts_.busy() ? kRolloutTick : kIdleTick);
      const auto now = context_.clock.now();
      if (pid_ < 0 && next_boot_ > now) {
        tick = std::min(
            tick, std::chrono::duration_cast<std::chrono::milliseconds>(next_boot_ - now) + 1ms);
      }
      std::unique_lock lock(mailbox_->mu);
      mailbox_->cv.wait_for(lock, tick, [this] {
        return mailbox_->woken || mailbox_->stopping || mailbox_->retiring;
      });
      mailbox_->woken = false;
      if (mailbox_->retiring) break;
      if (mailbox_->stopping) return;
    }
    pass();
  }
  destroy();
  finished_ = true;
}

std::shared_ptr<GuestChannel> VmSupervisor::channel() const {
  std::lock_guard lock(channel_mu_);
  return channel_;
}

void VmSupervisor::setChannel(std::shared_ptr<GuestChannel> channel) {
  std::lock_guard lock(channel_mu_);
  channel_ = std::move(channel);
}

std::shared_ptr<GuestChannel> VmSupervisor::liveChannel() const {
  auto c = channel();
  return c && c->open() ? c : nullptr;
}

void VmSupervisor::pass() {
  std::optional<model::VmSpec> vm;
  std::vector<model::AppAssignment> apps;
  {
    std::lock_guard lock(mailbox_->mu);
    if (mailbox_->stopping || mailbox_->retiring) return;
    vm = mailbox_->vm;
    apps = mailbox_->apps;
  }
  if (!vm) return;
  spec_ = *vm;
  domains_.clear();
  for (const model::AppAssignment& app : apps) {
    if (!app.domains.empty()) domains_[app.name] = app.domains;
  }
  reconcileVm(*vm);
  if (state_ == "running") reconcileApps(apps);
  publishRoutes();
  publishSnapshot();
  settled_ = true;
}

void VmSupervisor::forgetApps() {
  rollouts_.forget();
  forwards_.clear();
}

void VmSupervisor::reconcileVm(const model::VmSpec& vm) {
  const Clock& clock = context_.clock;
  const bool want_running = vm.power == "running";
  const int64_t generation = vm.restart_generation;

  {
    std::lock_guard lock(mailbox_->mu);
    if (!mailbox_->channel_error.empty())
      channel_error_ = std::exchange(mailbox_->channel_error, "");
  }
  if (!channel_error_.empty()) {
    // A misbehaving guest: its channel is gone and stays gone until the VM boots again.
    setChannel(nullptr);
    state_ = "failed";
    detail_ = "guest channel closed: " + channel_error_;
  }

  auto runtime = context_.runtimes.find(vm.runtime);
  if (!runtime.isOk()) {
    state_ = "failed";
    detail_ = runtime.status().message();
    return;
  }
  runtime_ = *runtime;
  auto pid = runtime_->running(paths_);
  if (pid && pid_ < 0) {
    // Adoption: a VM left running by a previous agent process.
    pid_ = *pid;
    up_since_ = clock.now();
    if (auto gen = os::readFile(paths_.dir + "/generation"); gen.isOk())
      booted_generation_ = std::atoll(gen->c_str());
    DeployedState deployed = loadDeployedState(paths_.appsState());
    rollouts_.adopt(std::move(deployed.serving));
    forwards_ = std::move(deployed.forwards);
    spdlog::info("agent: adopted VM {} (QEMU pid {})", key_.toString(), *pid);
  }
  if (!pid && pid_ > 0) {
    const bool expected = state_ == "stopping" || state_ == "stopped";
    setChannel(nullptr);
    pid_ = -1;
    forgetApps();
    boot_id_.clear();
    if (!expected) {
      ++failures_;
      const int backoff = bootBackoffSeconds(failures_);
      next_boot_ = clock.now() + std::chrono::seconds(backoff);
      state_ = "failed";
      detail_ = "QEMU exited unexpectedly; booting again in " + std::to_string(backoff) + "s";
      spdlog::warn("agent: VM {}: {}", key_.toString(), detail_);
    }
  }

  if (!want_running) {
    if (pid_ > 0) stopVm();
    state_ = "stopped";
    detail_.clear();
    return;
  }
  if (pid_ > 0 && generation > booted_generation_ && booted_generation_ >= 0) {
    spdlog::info("agent: restarting VM {} (generation {})", key_.toString(), generation);
    stopVm();
  }
  if (pid_ < 0) {
    if (clock.now() < next_boot_) return;
    state_ = "starting";
    detail_.clear();
    publishSnapshot();
    Status booted = bootVm(vm);
    if (!booted.isOk()) {
      ++failures_;
      state_ = "failed";
      detail_ = booted.message();
      next_boot_ = clock.now() + std::chrono::seconds(bootBackoffSeconds(failures_ + 1));
      return;
    }
    booted_generation_ = generation;
    (void)os::writeFileAtomic(paths_.dir + "/generation", std::to_string(generation));
  }
  if (!channel() && channel_error_.empty()) {
    Status connected = connectChannel();
    if (!connected.isOk() && clock.now() - up_since_ > kHelloDeadline) {
      ++failures_;
      const int backoff = bootBackoffSeconds(failures_);
      (void)runtime_->kill(paths_);
      setChannel(nullptr);
      pid_ = -1;
      state_ = "failed";
      detail_ = "the guest did not say hello within " + std::to_string(kHelloDeadline.count()) +
                " s of booting (see berth vm console); booting again in " +
                std::to_string(backoff) + "s";
      next_boot_ = clock.now() + std::chrono::seconds(backoff);
      spdlog::warn("agent: VM {}: {}", key_.toString(), detail_);
      return;
    }
    if (!connected.isOk()) {
      spdlog::info("agent: VM {}: {}", key_.toString(), connected.message());
      state_ = "starting";
      detail_ = connected.message();
      return;
    }
  }
  if (channel() && channel_error_.empty()) {
    state_ = "running";
    detail_.clear();
    failures_ = 0;
  }
  // Keep the console log bounded: QEMU appends to it, the agent rotates it.
  struct stat st {};
  if (::stat(paths_.serialLog().c_str(), &st) == 0 &&
      static_cast<std::uint64_t>(st.st_size) > kSerialLogBytes) {
    (void)os::writeFileAtomic(paths_.serialLog() + ".1", os::readFile(paths_.serialLog()).value());
    ::truncate(paths_.serialLog().c_str(), 0);
  }
}

Status VmSupervisor::bootVm(const model::VmSpec& vm) {
  VmLaunch launch;
  launch.project = key_.project;
  launch.name = key_.name;
  launch.vcpus = vm.vcpus;
  launch.memory_mib = vm.memory_mib;
  launch.disk_gib = vm.disk_gib;
  launch.machine = vm.machine;
  launch.kernel = context_.boot.kernel;
  launch.initramfs = context_.boot.initramfs;
  BERTH_ASSIGN_OR_RETURN(launch.nics, context_.network.nicsFor(vm, paths_));
  BERTH_ASSIGN_OR_RETURN(pid_t pid, runtime_->launch(launch, paths_));
  pid_ = pid;
  up_since_ = context_.clock.now();
  forgetApps();
  channel_error_.clear();
  save();
  spdlog::info("agent: booted VM {} (QEMU pid {})", key_.toString(), pid);
  return Status::ok();
}

namespace {

// stop_app for one instance of `app`, or for all of them when `instance` is empty.
guest::StopAppRequest stopAppRequest(const std::string& app, const std::string& instance) {
  guest::StopAppRequest stop;
  stop.app = app;
  stop.instance = instance;
  return stop;
}

// The notification's work; an error when it does not decode.
Status handleNotification(const std::function<void(HealthEvent)>& on_health, TrafficRouter& router,
                          const VmKey& key, const Paths::Vm& paths, std::uint64_t log_bytes,
                          const Clock& clock, const guest::Message& message) {
  if (message.type == guest::AppExitedNotification::kType) {
    BERTH_ASSIGN_OR_RETURN(auto exited, guest::fromMessage<guest::AppExitedNotification>(message));
    router.markInstance({key, exited.instance}, false);
  } else if (message.type == guest::AppStartedNotification::kType) {
    BERTH_ASSIGN_OR_RETURN(auto started,
                           guest::fromMessage<guest::AppStartedNotification>(message));
    router.markInstance({key, started.instance}, true);
  } else if (message.type == guest::AppHealthNotification::kType) {
    BERTH_ASSIGN_OR_RETURN(auto health, guest::fromMessage<guest::AppHealthNotification>(message));
    router.markInstance({key, health.instance}, health.health == "healthy");
    on_health({health.app, health.instance, health.health, health.detail});
  } else if (message.type == guest::LogNotification::kType) {
    BERTH_ASSIGN_OR_RETURN(auto log, guest::fromMessage<guest::LogNotification>(message));
    relayLog(paths, log, log_bytes, clock);
  }
  return Status::ok();
}

// Runs on the channel's reader thread. The guest is not trusted: a notification that does not
// decode is dropped, and the channel stays up.
void onNotification(const std::function<void(HealthEvent)>& on_health, TrafficRouter& router,
                    const VmKey& key, const Paths::Vm& paths, std::uint64_t log_bytes,
                    const Clock& clock, const guest::Message& message) {
  const Status handled =
      handleNotification(on_health, router, key, paths, log_bytes, clock, message);
  if (!handled.isOk()) {
    spdlog::warn("agent: VM {}: ignored a '{}' notification: {}", key.toString(), message.type,
                 handled.message());
  }
}

}  // namespace

Status VmSupervisor::connectChannel() {
  std::weak_ptr<Mailbox> mailbox = mailbox_;
  auto on_health = [mailbox](HealthEvent event) {
    auto box = mailbox.lock();
    if (!box) return;
    {
      std::lock_guard lock(box->mu);
      box->health.push_back(std::move(event));
      box->woken = true;
    }
    box->cv.notify_all();
  };
  auto on_notification = [on_health, &router = context_.router, key = key_, paths = paths_,
                          log_bytes = context_.app_log_bytes,
                          &clock = context_.clock](const guest::Message& m) {
    onNotification(on_health, router, key, paths, log_bytes, clock, m);
  };
  auto on_closed = [mailbox, key = key_](const std::string& reason) {
    if (reason.empty()) return;
    spdlog::warn("agent: VM {}: closed its channel: {}", key.toString(), reason);
    auto box = mailbox.lock();
    if (!box) return;
    {
      std::lock_guard lock(box->mu);
      box->channel_error = reason;
      box->woken = true;
    }
    box->cv.notify_all();
  };
  BERTH_ASSIGN_OR_RETURN(auto channel, context_.connect(runtime_->channelEndpoint(paths_),
                                                        on_notification, on_closed));
  auto hello = callGuest<guest::HelloReply>(*channel, guest::HelloRequest{}, kHelloTimeout);
  if (!hello.isOk()) return hello.status().withContext("waiting for the guest's hello");
  boot_id_ = hello->boot_id;
  spdlog::info("agent: VM {}: guest said hello (boot {})", key_.toString(), boot_id_);
  setChannel(std::move(channel));
  // What runs in the guest is the truth: an app the guest does not know must be deployed again,
  // and an instance the agent does not know (a rollout cut short by an agent restart) goes.
  std::map<std::string, std::string> running;  // instance -> its app
  for (const guest::AppState& app : hello->apps)
    running[app.instance.empty() ? app.app : app.instance] = app.app;
  execute(rollouts_.guestRuns(running));
  return Status::ok();
}

void VmSupervisor::stopVm() {
  state_ = "stopping";
  publishSnapshot();
  bool asked = false;
  if (auto c = channel(); c && c->open()) {
    // Its reply's result is empty: only whether the guest agreed matters.
    asked =
        c->call(std::string(guest::ShutdownRequest::kType), guest::ShutdownRequest{}.encode(), 15s)
            .isOk();
  }
  if (!asked) (void)runtime_->stop(paths_);
  const auto deadline = context_.clock.now() + kShutdownGrace;
  bool gone = true;
  while (runtime_->running(paths_)) {
    if (context_.clock.now() > deadline || !pause(100ms)) {
      gone = false;
      break;
    }
  }
  if (!gone && !stopping()) {
    spdlog::warn("agent: VM {} did not power off in time; ending it", key_.toString());
    (void)runtime_->kill(paths_);
  }
  setChannel(nullptr);
  pid_ = -1;
  forgetApps();
  state_ = "stopped";
}

void VmSupervisor::destroy() {
  image_port_.reset();
  if (auto c = channel()) c->close();
  setChannel(nullptr);
  context_.router.setRoutes(key_, {});
  if (!runtime_) {
    // Retired before a pass: its driver is the one its last assignment named, if any.
    std::optional<model::VmSpec> vm;
    {
      std::lock_guard lock(mailbox_->mu);
      vm = mailbox_->vm;
    }
    if (vm) {
      if (auto found = context_.runtimes.find(vm->runtime); found.isOk()) runtime_ = *found;
    }
  }
  // Without a known driver the VM never ran under this agent's runtimes: only its files go.
  if (runtime_) (void)runtime_->kill(paths_);
  (void)os::removeAll(paths_.dir);
  spdlog::info("agent: removed VM {}", key_.toString());
}

void VmSupervisor::reconcileApps(const std::vector<model::AppAssignment>& apps) {
  std::vector<HealthEvent> events;
  {
    std::lock_guard lock(mailbox_->mu);
    events = std::exchange(mailbox_->health, {});
  }
  for (const HealthEvent& event : events) execute(rollouts_.health(event));
  execute(rollouts_.expire());
  execute(rollouts_.drain([this](const std::string& app, const Instance& old) {
    std::size_t open = 0;
    for (const auto& [host_port, backend] : publishedForwards(old)) {
      open += context_.router.connectionsTo(host_port, backend);
    }
    if (auto backend = domainBackend(app, old, false))
      open += context_.router.ingressRequestsTo(*backend);
    return open;
  }));
  std::set<std::string> wanted;
  for (const model::AppAssignment& app : apps) {
    if (stopping()) return;
    wanted.insert(app.name);
    execute(rollouts_.release(releaseOf(app)), &app);
  }
  execute(rollouts_.keepOnly(wanted));
}

void VmSupervisor::execute(const RolloutActions& actions, const model::AppAssignment* app) {
  using Kind = RolloutAction::Kind;
  for (const RolloutAction& action : actions) {
    switch (action.kind) {
      case Kind::kStartInstance:
        execute(rollouts_.started(action.app, deploy(*app, action.instance, action.replace)));
        break;
      case Kind::kStopInstance:
        stopInstance(action.app, action.instance.id);
        break;
      case Kind::kStopApp:
        if (auto c = channel())
          (void)callGuest<guest::AppState>(*c, stopAppRequest(action.app, ""), kGuestTimeout);
        break;
      case Kind::kSwitchTraffic:
        publishRoutes();
        break;
      case Kind::kSave:
        save();
        break;
      case Kind::kReport:
        publishSnapshot();
        break;
    }
  }
}

void VmSupervisor::stopInstance(const std::string& app, const std::string& instance) {
  if (auto c = channel()) {
    (void)callGuest<guest::AppState>(*c, stopAppRequest(app, instance), kGuestTimeout);
  }
}

Result<std::optional<OfferedImage>> VmSupervisor::offerImage(const model::AppAssignment& app) {
  if (app.spec.isContainer()) {
    // A container app runs its image's root file system, fetched once per node by digest.
    if (!app.image || !isSha256Digest(app.image->rootfs_digest)) {
      return invalidArgument("container app '" + app.name + "' came without its image");
    }
    BERTH_ASSIGN_OR_RETURN(OfferedImage image, context_.images.offerRootfs(key_, *app.image));
    return std::optional(image);
  }
  if (app.spec.image.empty()) return std::optional<OfferedImage>();
  BERTH_ASSIGN_OR_RETURN(OfferedImage image, context_.images.offerBundle(key_, app.spec.image));
  return std::optional(image);
}

Status VmSupervisor::deploy(const model::AppAssignment& app, const Instance& instance,
                            bool replace) {
  auto c = channel();
  if (!c) return unavailable("guest channel is not up");
  BERTH_ASSIGN_OR_RETURN(std::optional<OfferedImage> image, offerImage(app));
  BERTH_ASSIGN_OR_RETURN(guest::RunAppRequest request,
                         runAppRequest(app, instance, replace, image));
  for (const model::PortSpec& port : app.spec.ports) {
    const int host_port = static_cast<int>(port.host_port);
    if (host_port <= 0) continue;
    // The published port is the agent's own listener: one that is taken fails this deploy now.
    BERTH_RETURN_IF_ERROR(context_.router.reserve(key_, host_port));
    BERTH_RETURN_IF_ERROR(ensureForward(instancePort(static_cast<int>(port.port), instance.slot)));
  }
  return callGuest<guest::AppState>(*c, request, kRunAppTimeout).status();
}

Status VmSupervisor::ensureForward(int guest_port) {
  if (forwards_.count(guest_port)) return Status::ok();
  BERTH_ASSIGN_OR_RETURN(forwards_[guest_port],
                         context_.network.exposePort(spec_, paths_, guest_port));
  return Status::ok();
}

std::vector<std::pair<int, Backend>> VmSupervisor::publishedForwards(
    const Instance& instance) const {
  std::vector<std::pair<int, Backend>> out;
  const auto spec = model::appSpecFromJson(instance.spec);
  if (!spec.isOk()) return out;
  for (const model::PortSpec& port : spec->ports) {
    const int host_port = static_cast<int>(port.host_port);
    auto forward = forwards_.find(instancePort(static_cast<int>(port.port), instance.slot));
    if (host_port > 0 && forward != forwards_.end()) out.emplace_back(host_port, forward->second);
  }
  return out;
}

std::optional<Backend> VmSupervisor::domainBackend(const std::string& app, const Instance& instance,
                                                   bool expose) {
  if (!domains_.count(app)) return std::nullopt;
  const auto spec = model::appSpecFromJson(instance.spec);
  if (!spec.isOk() || spec->ports.empty()) return std::nullopt;
  const int guest_port = instancePort(static_cast<int>(spec->ports.front().port), instance.slot);
  if (expose) {
    if (Status exposed = ensureForward(guest_port); !exposed.isOk()) {
      spdlog::warn("agent: VM {}: the ingress cannot reach app {}: {}", key_.toString(), app,
                   exposed.toString());
      return std::nullopt;
    }
  }
  auto forward = forwards_.find(guest_port);
  if (forward == forwards_.end()) return std::nullopt;
  return forward->second;
}

void VmSupervisor::publishRoutes() {
  PortRoutes routes;
  DomainRoutes domains;
  if (state_ == "running") {
    for (const auto& [name, instance] : rollouts_.serving()) {
      for (const auto& [host_port, backend] : publishedForwards(instance)) {
        routes[host_port].push_back(Route{{key_, instance.id}, backend});
      }
      if (auto backend = domainBackend(name, instance, true)) {
        for (const std::string& host : domains_[name])
          domains[host].push_back(Route{{key_, instance.id}, *backend});
      }
    }
  }
  context_.router.setRoutes(key_, std::move(routes), std::move(domains));
}

void VmSupervisor::publishSnapshot() {
  VmSnapshot snapshot{{key_.project, key_.name, state_, detail_}, {}};
  for (const auto& [app, r] : rollouts_.reports()) {
    snapshot.apps.push_back(
        {key_.project, app, r.release, r.state, r.detail, r.serving_release, key_.name});
  }
  std::lock_guard lock(mailbox_->mu);
  if (mailbox_->retiring) return;
  context_.reporter.publish(key_, std::move(snapshot));
}

void VmSupervisor::save() {
  // A supervisor cut short by the agent's stop leaves the record as the guest last confirmed it.
  if (stopping()) return;
  (void)saveDeployedState(paths_.appsState(), DeployedState{rollouts_.serving(), forwards_});
}

std::string VmSupervisor::lastLogLines(const std::string& app, const std::string& instance) const {
  auto text = os::readFile(paths_.appLog(app));
  if (!text.isOk()) return "";
  std::string partial;
  std::vector<LogRecord> records = decodeRecords(partial, *text);
  std::erase_if(records, [&](const LogRecord& r) { return r.instance != instance; });
  std::string out;
  for (const LogRecord& record : tailRecords(std::move(records), kFailureLogLines))
    out += record.data;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace berth::agent
