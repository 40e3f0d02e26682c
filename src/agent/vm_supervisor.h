#pragma once
// One VM's supervisor, on a worker thread of its own: it owns what the agent knows of the VM,
// boots it (with backoff after failures), adopts it when its QEMU already runs, connects its
// guest channel, stops it, and brings its apps to their assigned releases (rollout.h decides,
// the supervisor acts). The agent's loop only hands it what the VM must be and run, and a
// guest that never says hello, a slow stop or a stuck run_app delays this VM alone: not the
// others, nor the node's report (it publishes snapshots to the NodeReporter).
//
// Each pass is idempotent: desired running -> VM booted and its channel up, apps at their
// current release; desired stopped -> clean poweroff; QEMU gone unexpectedly -> boot again
// with backoff; booted and silent past the hello deadline -> ended and booted again.
//
// Thread-safety: assign(), retire(), stop(), liveChannel(), settled() and finished() may be
// called from any thread; pass() is the worker's (tests call it directly on a supervisor they
// never start()).

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/guest_channel/guest_channel.h"
#include "agent/guest_channel/guest_connection.h"
#include "agent/image_delivery.h"
#include "agent/image_port.h"
#include "agent/network/vm_network.h"
#include "agent/node_reporter.h"
#include "agent/paths.h"
#include "agent/rollout.h"
#include "agent/runtime/runtime_registry.h"
#include "agent/traffic_router.h"
#include "agent/vm_key.h"
#include "common/clock.h"
#include "model/node_protocol.h"

namespace berth::agent {

// Opens a VM's guest channel: `on_notification` and `on_closed` as GuestConnection::connect
// calls them (from the channel's reader thread).
using ChannelConnector = std::function<Result<std::shared_ptr<GuestChannel>>(
    const std::string& socket_path, GuestConnection::NotificationHandler on_notification,
    GuestConnection::ClosedHandler on_closed)>;
// The real one: GuestConnection::connect.
ChannelConnector guestConnector();

// What every VM boots with.
struct VmBoot {
  std::string kernel;
  std::string initramfs;
};

// What a node's supervisors share. Everything referenced must outlive them, and the channels
// they open (a session may hold one a little longer).
struct SupervisorContext {
  Paths paths;
  const RuntimeRegistry&
      runtimes;        // a VM's driver by its runtime name; called for different VMs at once
  VmNetwork& network;  // the VMs' NICs and port forwards; called for different VMs at once
  TrafficRouter& router;
  NodeReporter& reporter;
  ImageDelivery& images;
  const Clock& clock;
  ChannelConnector connect;
  VmBoot boot;
  std::uint64_t app_log_bytes = kAppLogBytes;
};

class VmSupervisor {
 public:
  VmSupervisor(VmKey key, SupervisorContext& context);
  // stop()s it.
  ~VmSupervisor();
  VmSupervisor(const VmSupervisor&) = delete;
  VmSupervisor& operator=(const VmSupervisor&) = delete;

  const VmKey& key() const { return key_; }

  // Starts the worker: a pass whenever assigned or woken by its guest, and on its own every
  // 250 ms while a rollout waits for health or a drain, else every 2 s. The VM's image port is
  // served from then on, whether the VM runs or not (it reconnects by itself).
  void start();
  // What the VM must be and run (secrets included: kept in memory only). Wakes the worker.
  void assign(model::VmSpec vm, std::vector<model::AppAssignment> apps);
  // The VM is no longer the node's: it leaves the report now, its channel closes, and the
  // worker ends it and removes its files, then exits (finished()). Returns at once.
  void retire();
  // Ends the worker (after the call it is in, which a closed channel cuts short); the VM keeps
  // running. A retired supervisor still finishes its VM first.
  void stop();
  bool finished() const { return finished_; }
  // It has completed a pass (so its routes are set).
  bool settled() const { return settled_; }
  // The guest channel once the guest said hello and while it is open; else null.
  std::shared_ptr<GuestChannel> liveChannel() const;

  // One reconcile pass against the last assignment.
  void pass();

 private:
  // What other threads hand the worker. Shared with the guest channel's callbacks, which may
  // run after this supervisor is gone (while a session still holds the channel).
  struct Mailbox {
    std::mutex mu;
    std::condition_variable cv;
    bool woken = false, stopping = false, retiring = false;
    std::optional<model::VmSpec> vm;
    std::vector<model::AppAssignment> apps;
    std::vector<HealthEvent> health;
    std::string channel_error;  // a guest that broke the protocol
  };

  void run();
  // Ends the VM and removes its files (a retired supervisor's last act).
  void destroy();
  void reconcileVm(const model::VmSpec& vm);
  void reconcileApps(const std::vector<model::AppAssignment>& apps);
  void execute(const RolloutActions& actions, const model::AppAssignment* app = nullptr);
  Status bootVm(const model::VmSpec& vm);
  Status connectChannel();
  void stopVm();
  Status deploy(const model::AppAssignment& app, const Instance& instance, bool replace);
  Result<std::optional<OfferedImage>> offerImage(const model::AppAssignment& app);
  Status ensureForward(int guest_port);
  void stopInstance(const std::string& app, const std::string& instance);
  // The instance's published ports, each with where the node reaches its guest port.
  std::vector<std::pair<int, Backend>> publishedForwards(const Instance& instance) const;
  // Where the ingress reaches the instance (its first port), when its app has domains here;
  // `expose` makes the forward if there is none yet.
  std::optional<Backend> domainBackend(const std::string& app, const Instance& instance,
                                       bool expose);
  void publishRoutes();
  void publishSnapshot();
  void save();
  std::string lastLogLines(const std::string& app, const std::string& instance) const;
  std::shared_ptr<GuestChannel> channel() const;
  void setChannel(std::shared_ptr<GuestChannel> channel);
  // The guest is gone: nothing runs in it any more.
  void forgetApps();
  // Waits up to `d` (less when stopping or retiring); false if cut short.
  bool pause(std::chrono::milliseconds d);
  bool stopping() const;

  const VmKey key_;
  SupervisorContext& context_;
  const Paths::Vm paths_;
  std::shared_ptr<Mailbox> mailbox_ = std::make_shared<Mailbox>();

  // The worker's own.
  Runtime* runtime_ =
      nullptr;  // the driver of the VM's runtime (owned by the registry); null until known
  pid_t pid_ = -1;
  std::string state_ = "pending";
  std::string detail_;
  std::string boot_id_;
  int64_t booted_generation_ = -1;
  std::string channel_error_;
  int failures_ = 0;
  std::chrono::steady_clock::time_point next_boot_{};
  std::chrono::steady_clock::time_point
      up_since_{};                       // booted or adopted; hello is due by a deadline
  model::VmSpec spec_;                   // as the last pass saw it
  std::map<int, std::string> forwards_;  // guest port -> where the node reaches it (exposePort)
  std::map<std::string, std::vector<std::string>>
      domains_;  // app -> its domains, as the last pass saw them
  Rollouts rollouts_;

  mutable std::mutex channel_mu_;
  std::shared_ptr<GuestChannel> channel_;
  std::atomic<bool> settled_{false};
  std::atomic<bool> finished_{false};
  std::unique_ptr<ImagePort> image_port_;  // set by start(); the worker ends it when it retires
  std::thread thread_;
};

}  // namespace berth::agent
