#pragma once
// Fakes for the agent's seams: a Runtime whose "QEMU processes" are entries in a map, a guest
// whose channel answers from a script, and an ApiClient that records what it is sent.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agent/guest_channel/guest_channel.h"
#include "agent/ingress/ingress.h"
#include "agent/network/vm_network.h"
#include "agent/runtime/runtime.h"
#include "agent/runtime/runtime_registry.h"
#include "agent/vm_supervisor.h"
#include "client/api_client.h"
#include "common/guest_messages.h"
#include "os/file_util.h"

namespace berth::agent {

class FakeRuntime final : public Runtime {
 public:
  const std::string& name() const override { return name_; }
  RuntimeCapabilities capabilities() const override { return {}; }
  std::string channelEndpoint(const Paths::Vm& paths) const override {
    return paths.channelSocket();
  }
  Result<pid_t> launch(const VmLaunch& launch, const Paths::Vm& paths) override {
    std::lock_guard lock(mu_);
    launches_.push_back(launch);
    if (!start_error_.empty()) return internalError(start_error_);
    // As the real one, it makes the VM's directory.
    BERTH_RETURN_IF_ERROR(os::makeDirs(paths.dir, 0700));
    const pid_t pid = next_pid_++;
    running_[paths.dir] = pid;
    return pid;
  }
  std::optional<pid_t> running(const Paths::Vm& paths) override {
    std::lock_guard lock(mu_);
    auto it = running_.find(paths.dir);
    return it == running_.end() ? std::nullopt : std::optional(it->second);
  }
  Status stop(const Paths::Vm& paths) override {
    std::lock_guard lock(mu_);
    ++stops_;
    if (!ignores_stop_) running_.erase(paths.dir);
    return Status::ok();
  }
  Status kill(const Paths::Vm& paths) override {
    std::lock_guard lock(mu_);
    ++kills_;
    running_.erase(paths.dir);
    return Status::ok();
  }
  // A QEMU left running by an earlier agent.
  void leaveRunning(const Paths::Vm& paths, pid_t pid) {
    std::lock_guard lock(mu_);
    running_[paths.dir] = pid;
  }
  // The VM's QEMU ends (crashed, or its guest powered off).
  void exit(const Paths::Vm& paths) {
    std::lock_guard lock(mu_);
    running_.erase(paths.dir);
  }
  void failStarts(std::string error) {
    std::lock_guard lock(mu_);
    start_error_ = std::move(error);
  }
  void ignoreStop() {
    std::lock_guard lock(mu_);
    ignores_stop_ = true;
  }
  VmLaunch lastLaunch() const {
    std::lock_guard lock(mu_);
    return launches_.back();
  }
  std::size_t starts() const {
    std::lock_guard lock(mu_);
    return launches_.size();
  }
  int kills() const {
    std::lock_guard lock(mu_);
    return kills_;
  }
  int stops() const {
    std::lock_guard lock(mu_);
    return stops_;
  }

 private:
  const std::string name_ = "qemu";
  mutable std::mutex mu_;
  std::map<std::string, pid_t> running_;  // by VM directory
  std::vector<VmLaunch> launches_;
  std::string start_error_;
  bool ignores_stop_ = false;
  int kills_ = 0, stops_ = 0;
  pid_t next_pid_ = 1000;
};

// A registry holding `runtime` alone, as node "node-1".
inline RuntimeRegistry registryWith(std::unique_ptr<Runtime> runtime) {
  RuntimeRegistry registry("node-1");
  (void)registry.add(std::move(runtime));
  return registry;
}

// The node's network, recording the ports it was asked to expose: guest port P of the n-th
// exposed is reached at 127.0.0.1:(40000 + n).
// An ingress that records the routes it is given and reports requests set by the test.
class RecordingIngress final : public Ingress {
 public:
  Status route(const DomainBackends& domains) override {
    std::lock_guard lock(mu_);
    routed_.push_back(domains);
    return Status::ok();
  }
  std::size_t requestsTo(const Backend& backend) const override {
    std::lock_guard lock(mu_);
    auto it = requests_.find(backend);
    return it == requests_.end() ? 0 : it->second;
  }
  model::NodeIngress describe() const override { return {7080, 7443, ""}; }
  void setRequests(const Backend& backend, std::size_t n) {
    std::lock_guard lock(mu_);
    requests_[backend] = n;
  }
  // Every set of routes given, oldest first.
  std::vector<DomainBackends> routed() const {
    std::lock_guard lock(mu_);
    return routed_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<DomainBackends> routed_;
  std::map<Backend, std::size_t> requests_;
};

class FakeNetwork final : public VmNetwork {
 public:
  std::string mode() const override { return "fake"; }
  Status apply(const model::NodeAssignment& assignment) override {
    std::lock_guard lock(mu_);
    applied_.push_back(assignment);
    return Status::ok();
  }
  Result<std::vector<Nic>> nicsFor(const model::VmSpec&, const Paths::Vm&) const override {
    return std::vector<Nic>{Nic{}};
  }
  Result<std::string> exposePort(const model::VmSpec&, const Paths::Vm&, int guest_port) override {
    std::lock_guard lock(mu_);
    const std::string backend = "127.0.0.1:" + std::to_string(40000 + forwards_.size());
    forwards_.emplace_back(backend, guest_port);
    return backend;
  }
  // (backend, guest port), in the order exposed.
  std::vector<std::pair<std::string, int>> forwards() const {
    std::lock_guard lock(mu_);
    return forwards_;
  }
  std::vector<model::NodeAssignment> applied() const {
    std::lock_guard lock(mu_);
    return applied_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, int>> forwards_;
  std::vector<model::NodeAssignment> applied_;
};

// One VM's guest: each connect opens a channel to it, which answers by its script. Requests it
// holds never get an answer (until their timeout, or the channel closes), like a stuck guest.
class FakeGuest : public std::enable_shared_from_this<FakeGuest> {
 public:
  struct Call {
    std::string type;
    nlohmann::json body;
  };

  class Channel final : public GuestChannel {
   public:
    // The guest keeps its channels, so a channel only refers back to it (no cycle to leak).
    Channel(std::weak_ptr<FakeGuest> guest, GuestConnection::NotificationHandler on_notification,
            GuestConnection::ClosedHandler on_closed)
        : guest_(std::move(guest)),
          on_notification_(std::move(on_notification)),
          on_closed_(std::move(on_closed)) {}
    Result<nlohmann::json> call(const std::string& type, nlohmann::json body,
                                std::chrono::milliseconds timeout) override {
      auto guest = guest_.lock();
      if (!open_ || !guest) return unavailable("guest channel closed while sending " + type);
      guest->record(type, body);
      if (guest->holds(type)) {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, timeout, [this] { return !open_; });
        return unavailable(open_ ? "guest did not answer " + type + " in time"
                                 : "guest channel closed during " + type);
      }
      return guest->answer(type, body);
    }
    bool open() const override { return open_; }
    void close() override {
      {
        std::lock_guard lock(mu_);
        open_ = false;
      }
      cv_.notify_all();
    }
    // The guest sends a notification (from "its reader thread": the caller's).
    void notify(const std::string& type, nlohmann::json body) {
      on_notification_(guest::Message{type, 0, body});
    }
    // The guest broke the protocol: the channel closes with `reason`, as GuestConnection's does.
    void breakProtocol(const std::string& reason) {
      close();
      on_closed_(reason);
    }

   private:
    std::weak_ptr<FakeGuest> guest_;
    GuestConnection::NotificationHandler on_notification_;
    GuestConnection::ClosedHandler on_closed_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::atomic<bool> open_{true};
  };

  ChannelConnector connector() {
    return [self = shared_from_this()](
               const std::string&, GuestConnection::NotificationHandler on_notification,
               GuestConnection::ClosedHandler on_closed) -> Result<std::shared_ptr<GuestChannel>> {
      auto channel =
          std::make_shared<Channel>(self, std::move(on_notification), std::move(on_closed));
      std::lock_guard lock(self->mu_);
      self->channels_.push_back(channel);
      return std::shared_ptr<GuestChannel>(channel);
    };
  }

  // Requests of `type` get no answer.
  void hold(const std::string& type) {
    std::lock_guard lock(mu_);
    held_.insert(type);
  }
  // Requests of `type` are refused with `error`.
  void refuse(const std::string& type, std::string error) {
    std::lock_guard lock(mu_);
    refused_[type] = std::move(error);
  }
  // What hello says runs in the guest: instance -> app.
  void runs(std::map<std::string, std::string> apps) {
    std::lock_guard lock(mu_);
    apps_ = std::move(apps);
  }
  // Called (before the answer) for each request of `type`.
  void onRequest(const std::string& type, std::function<void()> hook) {
    std::lock_guard lock(mu_);
    hooks_[type] = std::move(hook);
  }

  std::shared_ptr<Channel> channel() const {
    std::lock_guard lock(mu_);
    return channels_.empty() ? nullptr : channels_.back();
  }
  std::vector<Call> calls(const std::string& type) const {
    std::lock_guard lock(mu_);
    std::vector<Call> out;
    for (const Call& c : calls_) {
      if (c.type == type) out.push_back(c);
    }
    return out;
  }

 private:
  void record(const std::string& type, const nlohmann::json& body) {
    std::function<void()> hook;
    {
      std::lock_guard lock(mu_);
      calls_.push_back({type, body});
      if (auto it = hooks_.find(type); it != hooks_.end()) hook = it->second;
    }
    if (hook) hook();
  }
  bool holds(const std::string& type) const {
    std::lock_guard lock(mu_);
    return held_.count(type) > 0;
  }
  static guest::AppState state(const std::string& app, const std::string& instance,
                               const std::string& state) {
    guest::AppState out;
    out.app = app;
    out.instance = instance;
    out.state = state;
    return out;
  }
  // Answers as berth-init does: hello with what runs, run_app and stop_app with the instance's
  // state, anything else with an empty result.
  Result<nlohmann::json> answer(const std::string& type, const nlohmann::json& body) const {
    std::lock_guard lock(mu_);
    if (auto it = refused_.find(type); it != refused_.end()) return failedPrecondition(it->second);
    if (type == "hello") {
      guest::HelloReply hello;
      hello.boot_id = "boot-1";
      for (const auto& [instance, app] : apps_)
        hello.apps.push_back(state(app, instance, "running"));
      return hello.encode();
    }
    if (type == "run_app" || type == "stop_app") {
      return state(body.value("app", ""), body.value("instance", ""),
                   type == "run_app" ? "running" : "stopped")
          .encode();
    }
    return nlohmann::json::object();
  }

  mutable std::mutex mu_;
  std::set<std::string> held_;
  std::map<std::string, std::string> refused_;
  std::map<std::string, std::string> apps_;
  std::map<std::string, std::function<void()>> hooks_;
  std::vector<std::shared_ptr<Channel>> channels_;
  std::vector<Call> calls_;
};

// Records posts; answers every request with 200 and {} (downloads: not found).
class FakeApiClient final : public client::ApiClient {
 public:
  Result<client::ApiResponse> get(const std::string&) override {
    return client::ApiResponse{200, {}};
  }
  Result<client::ApiResponse> post(const std::string& path, const nlohmann::json& body) override {
    {
      std::lock_guard lock(mu_);
      posts_.emplace_back(path, body);
    }
    cv_.notify_all();
    return client::ApiResponse{200, nlohmann::json::object()};
  }
  Result<client::ApiResponse> patch(const std::string&, const nlohmann::json&) override {
    return client::ApiResponse{200, {}};
  }
  Result<client::ApiResponse> del(const std::string&) override {
    return client::ApiResponse{204, {}};
  }
  Result<client::ApiResponse> postBytes(const std::string&, const std::string&,
                                        const std::string&) override {
    return client::ApiResponse{200, {}};
  }
  Result<std::string> download(const std::string& path, std::uint64_t) override {
    return notFound(path + " is not in this fake");
  }
  Status stream(const client::StreamRequest&,
                const std::function<bool(const client::SseEvent&)>&) override {
    return unavailable("no streams in this fake");
  }
  const std::string& url() const override { return url_; }

  std::vector<std::pair<std::string, nlohmann::json>> posts() const {
    std::lock_guard lock(mu_);
    return posts_;
  }
  // Waits (up to `limit`) until `count` posts were made; false if they were not.
  bool waitForPosts(std::size_t count, std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return posts_.size() >= count; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::string, nlohmann::json>> posts_;
  std::string url_ = "http://fake";
};

}  // namespace berth::agent
