#pragma once
// berth-agent: the node daemon. It knows berthd only through the REST API: it registers its
// node, long-polls the node's assignment (VMs and the apps placed in them) and reports what it
// observes; the same code runs embedded in `berthd --dev` and as `berth-agent --server URL`.
//
// Its loop only dispatches: each VM has a supervisor on a worker thread of its own
// (vm_supervisor.h) that is handed the VM's spec and apps on every pass; a VM newly assigned
// gets one, a VM no longer assigned is retired (killed and its files removed). The node's
// report goes out from the NodeReporter's own thread on every pass and whenever a VM's state
// changes, so no VM's slow guest holds up the heartbeat. On start the supervisors adopt VMs
// that still run (same QEMU pid, channel reconnected) instead of rebooting them.

#include <atomic>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "agent/image_delivery.h"
#include "agent/ingress/ingress.h"
#include "agent/network/vm_network.h"
#include "agent/node_reporter.h"
#include "agent/paths.h"
#include "agent/runtime/runtime_registry.h"
#include "agent/sessions/session_runner.h"
#include "agent/traffic_router.h"
#include "agent/vm_key.h"
#include "agent/vm_supervisor.h"
#include "client/api_client.h"
#include "common/clock.h"
#include "model/node_protocol.h"

namespace berth::agent {

struct AgentOptions {
  std::string node_name = "local";
  std::string data_dir;
  std::string kernel;       // vmlinuz
  std::string modules_dir;  // the kernel's lib/modules/<version>
  std::string init_binary;  // berth-init
  std::string busybox = "/bin/busybox";
  std::string agent_binary;                   // berth-agent: the published ports' proxies
  std::string publish_address = "127.0.0.1";  // where they listen
  int64_t vcpus = 0;                          // capacity offered; 0 = this host's
  int64_t memory_mib = 0;
  int64_t disk_gib = 0;
  int poll_seconds = 2;
  std::uint64_t app_log_bytes =
      kAppLogBytes;  // per app and VM, before rotation (the ring is twice that)
};

class Agent {
 public:
  // `runtimes` holds a driver per runtime name VMs may ask for; `network` networks every VM;
  // `ingress` serves the apps' domains (none: NoIngress). `clock` must outlive the agent.
  Agent(AgentOptions options, std::unique_ptr<client::ApiClient> api, RuntimeRegistry runtimes,
        std::unique_ptr<VmNetwork> network, const Clock& clock = SystemClock::instance(),
        std::unique_ptr<Ingress> ingress = nullptr);
  ~Agent();

  // Registers the node, builds the initramfs and starts the loop thread.
  Status start();
  // Stops the loop, every supervisor (their guest channels close first, so that calls and
  // sessions waiting on a guest end) and the sessions. VMs keep running: a restarted agent
  // adopts them.
  void stop();

 private:
  void loop();
  void dispatch(const model::NodeAssignment& assignment);
  // Registers the node (again when what its ingress offers changed: a CA that now exists).
  Status registerNode();
  std::shared_ptr<GuestConnection> liveChannel(const std::string& project, const std::string& vm);

  AgentOptions options_;
  Paths paths_;
  std::unique_ptr<client::ApiClient> api_;
  RuntimeRegistry runtimes_;
  std::unique_ptr<VmNetwork> network_;
  const Clock& clock_;
  std::unique_ptr<Ingress> ingress_;
  model::NodeCapacity capacity_;  // set by start()
  model::NodeIngress registered_ingress_;
  TrafficRouter router_;
  NodeReporter reporter_;
  ImageDelivery images_;
  std::unique_ptr<SupervisorContext> context_;  // set by start()
  std::unique_ptr<SessionRunner> sessions_;
  std::mutex supervisors_mu_;  // the loop changes the maps; session threads look channels up
  std::map<VmKey, std::unique_ptr<VmSupervisor>> supervisors_;
  std::list<std::unique_ptr<VmSupervisor>> retiring_;  // ending their VM; joined once finished
  bool pruning_ = false;                               // every VM known at start has set its routes
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace berth::agent
