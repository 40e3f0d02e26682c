#pragma once
// berth-agent's reconcile loop. It knows berthd only through the REST API: it registers its
// node, long-polls the node's assignment (VMs and the apps placed in them) and reports what it
// observes; the same code runs embedded in `berthd --dev` and as `berth-agent --server URL`.
//
// Each pass is idempotent: desired running → VM booted and its channel up, apps at their
// current release; desired stopped → clean poweroff; QEMU gone unexpectedly → boot again with
// backoff; a VM no longer assigned → killed and its files removed. On start the agent adopts
// VMs that still run (same QEMU pid, channel reconnected) instead of rebooting them.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent/guest_channel/guest_connection.h"
#include "agent/paths.h"
#include "agent/proxy/port_publisher.h"
#include "agent/network/vm_network.h"
#include "agent/runtime/runtime_registry.h"
#include "agent/sessions/session_runner.h"
#include "client/api_client.h"
#include "model/node_protocol.h"

namespace berth::agent {

struct AgentOptions {
  std::string node_name = "local";
  std::string data_dir;
  std::string kernel;          // vmlinuz
  std::string modules_dir;     // the kernel's lib/modules/<version>
  std::string init_binary;     // berth-init
  std::string busybox = "/bin/busybox";
  std::string agent_binary;    // berth-agent, run by QEMU as the per-VM image relay
  int64_t vcpus = 0;           // capacity offered; 0 = this host's
  int64_t memory_mib = 0;
  int64_t disk_gib = 0;
  int poll_seconds = 2;
  std::uint64_t app_log_bytes = kAppLogBytes;  // per app and VM, before rotation (the ring is twice that)
};

// One run of one release of an app in a VM. `slot` picks its guest port: a start-first
// rollout starts the new instance on the other slot's port beside the old one.
struct AppInstance {
  std::string id;  // "<app>-<release>"; the key init knows it by
  int64_t release = 0;
  std::string spec;  // the release's spec as assigned: equal specs need no new instance
  int slot = 0;
  std::string health;  // "" (no check) | starting | healthy | unhealthy
  std::string health_detail;
};

struct Rollout {
  AppInstance next;
  std::chrono::steady_clock::time_point deadline;
};

// An instance that lost its traffic to a newer one: stopped once the connections the proxy
// already sent it are done (or at the deadline), so no request in flight is cut.
struct Drain {
  AppInstance old;
  std::chrono::steady_clock::time_point deadline;
};

class Agent {
 public:
  Agent(AgentOptions options, std::unique_ptr<client::ApiClient> api, RuntimeRegistry runtimes,
        std::unique_ptr<VmNetwork> network);
  ~Agent();

  // Registers the node, builds the initramfs and starts the loop thread.
  Status start();
  void stop();

 private:
  struct VmState {
    std::string project, name;
    Runtime* runtime = nullptr;  // the driver of the VM's runtime (owned by runtimes_)
    pid_t pid = -1;
    std::string state = "pending";
    std::string detail;
    std::shared_ptr<GuestConnection> channel;
    std::string boot_id;
    int64_t booted_generation = -1;
    std::map<std::string, AppInstance> serving;  // app -> the instance taking its traffic
    std::map<std::string, Rollout> rollouts;      // app -> a new instance waiting to be healthy
    std::map<std::string, Drain> draining;        // app -> the instance it replaced, finishing its requests
    struct AppReport {
      int64_t release = 0;
      std::string state, detail;
      int64_t serving_release = 0;  // after a failed rollout: the release still serving
    };
    std::map<std::string, AppReport> app_reports;  // what report() tells berthd
    std::map<int, int> forwards;                   // guest port -> the node's 127.0.0.1 port (hostfwd)
    // Its guest is gone (powered off, died, booted anew): nothing runs in it any more.
    void forgetApps() {
      serving.clear();
      app_reports.clear();
      forwards.clear();
      rollouts.clear();
      draining.clear();
    }
    int failures = 0;
    std::chrono::steady_clock::time_point next_boot{};
    std::chrono::steady_clock::time_point up_since{};  // booted or adopted; hello is due by a deadline
    std::string channel_error;  // set by the reader thread when a guest misbehaves
  };

  void loop();
  Status reconcile(const model::NodeAssignment& assignment);
  void reconcileVm(const model::VmSpec& vm);
  void reconcileApps(VmState& state, const std::vector<const model::AppAssignment*>& apps);
  Status bootVm(VmState& state, const model::VmSpec& vm);
  Status connectChannel(VmState& state);
  void stopVm(VmState& state);
  void destroyVm(Runtime* runtime, const std::string& project, const std::string& name);
  Status deployApp(VmState& state, const model::AppAssignment& app, const AppInstance& instance, bool replace);
  void startRelease(VmState& state, const model::AppAssignment& app);
  void applyHealthEvents(VmState& state);
  void finishRollout(VmState& state, const std::string& app, bool healthy, const std::string& detail);
  void drainInstances(VmState& state);
  Status ensureForward(VmState& state, int guest_port);
  // The instance's published ports, each with the node port QEMU forwards to its guest port.
  static std::vector<std::pair<int, int>> publishedForwards(const VmState& state, const AppInstance& instance);
  // Points every published host port at the serving instances' forwards (one proxy per port).
  void publishPorts();
  std::string lastLogLines(const VmState& state, const std::string& app, const std::string& instance) const;
  bool rolloutsPending() const;
  static Status addSecrets(const model::AppAssignment& app, nlohmann::json& request);
  Status addContainerImage(VmState& state, const model::AppAssignment& app, nlohmann::json& request);
  Status fetchBlob(const std::string& digest, const std::string& path, std::uint64_t max_bytes, mode_t mode);
  Status offerImage(VmState& state, const std::string& path, const std::string& digest, std::uint64_t size,
                    nlohmann::json& request);
  void saveDeployed(const VmState& state);
  static void loadDeployed(VmState& state, const nlohmann::json& saved);
  void report();
  void onNotification(const std::string& key, const guest::Message& message);
  // Makes the VMs' current channels visible to session threads (exec).
  void publishChannels();
  std::shared_ptr<GuestConnection> liveChannel(const std::string& project, const std::string& vm);

  AgentOptions options_;
  Paths paths_;
  std::unique_ptr<client::ApiClient> api_;
  RuntimeRegistry runtimes_;
  std::unique_ptr<VmNetwork> network_;
  std::string initramfs_;
  std::map<std::string, VmState> vms_;  // "project/vm"
  std::mutex channel_errors_mu_;
  std::map<std::string, std::string> channel_errors_;
  std::mutex live_mu_;
  std::map<std::string, std::shared_ptr<GuestConnection>> live_channels_;
  std::unique_ptr<SessionRunner> sessions_;
  // Health changes from the guests' reader threads, applied by the loop (which they wake).
  struct HealthEvent {
    std::string app, instance, health, detail;
  };
  std::mutex health_mu_;
  std::condition_variable health_cv_;
  std::map<std::string, std::vector<HealthEvent>> health_events_;  // by "project/vm"
  // Traffic: which instances each published port may reach, and which of them are down right
  // now. The loop sets the routes; the channels' reader threads mark instances down (exited,
  // failing their check) and up again as soon as the guest says so, so that a proxy stops
  // sending to a dead instance within a frame's time, not a loop's.
  struct Route {
    std::string instance;  // "project/vm/instance"
    int backend = 0;       // the node port QEMU forwards to the instance's guest port
  };
  void applyRoutesLocked();
  void markInstance(const std::string& vm_key, const std::string& instance, bool up);
  std::mutex traffic_mu_;
  std::map<int, std::vector<Route>> routes_;   // by published host port
  std::set<std::string> down_;                 // "project/vm/instance"
  PortPublisher publisher_;
  std::map<int, std::vector<int>> published_;  // host port -> backends its proxy was last given
  bool swept_ = false;                         // leftover proxies of a previous agent checked
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace berth::agent
