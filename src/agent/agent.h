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
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent/guest_channel/guest_connection.h"
#include "agent/paths.h"
#include "agent/runtime/runtime.h"
#include "agent/sessions/session_runner.h"
#include "cli/api_client.h"

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
};

class Agent {
 public:
  Agent(AgentOptions options, std::unique_ptr<cli::ApiClient> api, std::unique_ptr<Runtime> runtime);
  ~Agent();

  // Registers the node, builds the initramfs and starts the loop thread.
  Status start();
  void stop();

 private:
  struct VmState {
    std::string project, name;
    pid_t pid = -1;
    std::string state = "pending";
    std::string detail;
    std::shared_ptr<GuestConnection> channel;
    std::string boot_id;
    int64_t booted_generation = -1;
    std::map<std::string, int64_t> deployed;  // app -> release running in the guest
    struct AppReport {
      int64_t release = 0;
      std::string state, detail;
    };
    std::map<std::string, AppReport> app_reports;  // what report() tells berthd
    std::set<int> forwarded;                  // host ports published
    int failures = 0;
    std::chrono::steady_clock::time_point next_boot{};
    std::chrono::steady_clock::time_point up_since{};  // booted or adopted; hello is due by a deadline
    std::string channel_error;  // set by the reader thread when a guest misbehaves
  };

  void loop();
  Status reconcile(const nlohmann::json& assignment);
  void reconcileVm(const nlohmann::json& vm);
  void reconcileApps(VmState& state, const std::vector<nlohmann::json>& apps);
  Status bootVm(VmState& state, const nlohmann::json& vm);
  Status connectChannel(VmState& state);
  void stopVm(VmState& state);
  void destroyVm(const std::string& project, const std::string& name);
  Status deployApp(VmState& state, const nlohmann::json& app);
  static Status addSecrets(const nlohmann::json& app, nlohmann::json& request);
  Status addContainerImage(VmState& state, const nlohmann::json& app, nlohmann::json& request);
  Status fetchBlob(const std::string& digest, const std::string& path, std::uint64_t max_bytes, mode_t mode);
  Status offerImage(VmState& state, const std::string& path, const std::string& digest, std::uint64_t size,
                    nlohmann::json& request);
  void saveDeployed(const VmState& state);
  void report();
  void onNotification(const std::string& key, const guest::Message& message);
  // Makes the VMs' current channels visible to session threads (exec).
  void publishChannels();
  std::shared_ptr<GuestConnection> liveChannel(const std::string& project, const std::string& vm);

  AgentOptions options_;
  Paths paths_;
  std::unique_ptr<cli::ApiClient> api_;
  std::unique_ptr<Runtime> runtime_;
  std::string initramfs_;
  std::map<std::string, VmState> vms_;  // "project/vm"
  std::mutex channel_errors_mu_;
  std::map<std::string, std::string> channel_errors_;
  std::mutex live_mu_;
  std::map<std::string, std::shared_ptr<GuestConnection>> live_channels_;
  std::unique_ptr<SessionRunner> sessions_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace berth::agent
