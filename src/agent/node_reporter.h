#pragma once
// The node's report to berthd (POST /v1/nodes/{node}/status), which is also its heartbeat. Each
// VM's supervisor publishes a snapshot of what it observes; the reporter's own thread posts the
// node's report whenever a snapshot changed and whenever the agent's loop asks (every pass), so
// that neither waits for the other nor for a supervisor's long call.
//
// Thread-safe.

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/vm_key.h"
#include "client/api_client.h"
#include "model/node_protocol.h"

namespace berth::agent {

// What one VM's supervisor observes.
struct VmSnapshot {
  model::VmObservation vm;
  std::vector<model::AppObservation> apps;
  bool operator==(const VmSnapshot&) const = default;
};

class NodeReporter {
 public:
  // `api` must outlive this and be usable from several threads at once.
  NodeReporter(std::string node, client::ApiClient& api);
  ~NodeReporter();

  void start();
  // Ends the thread; a report being posted is finished first.
  void stop();

  // A report follows if `snapshot` differs from the VM's last one.
  void publish(const VmKey& vm, VmSnapshot snapshot);
  // The VM is no longer the node's: it leaves the report (which follows).
  void remove(const VmKey& vm);
  // Reports now (the heartbeat), changed or not.
  void poke();

  // The report as it stands: VMs and apps in VM order.
  model::NodeReport build() const;

 private:
  void loop();

  std::string node_;
  client::ApiClient& api_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<VmKey, VmSnapshot> snapshots_;
  bool due_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::agent
