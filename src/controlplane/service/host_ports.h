#pragma once
// Published host ports are a resource berthd hands out: each is held by one app of one project
// (store::HostPortClaim), so no tenant can publish another's port and take a share of its
// traffic. Claims are cluster-wide, not per node: an app's instances may be placed on, or moved
// to, any node (replicas, rescheduling), and only a port no other app holds anywhere is sure to
// be free wherever the app lands. The operator bounds the ports apps may claim (berthd
// --host-ports); privileged ports only when the range includes them.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "model/app_spec.h"
#include "store/store.h"

namespace berth::controlplane {

struct HostPortRange {
  static constexpr const char* kDefault = "1024-65535";
  int64_t low = 1024;
  int64_t high = 65535;

  // "LOW-HIGH" with 1 <= LOW <= HIGH <= 65535; InvalidArgument saying so otherwise.
  static Result<HostPortRange> parse(std::string_view text);
  bool contains(int64_t port) const { return port >= low && port <= high; }
  std::string toString() const { return std::to_string(low) + "-" + std::to_string(high); }
};

// InvalidArgument naming `range` for the first port `spec` publishes outside it.
Status checkHostPortsInRange(const HostPortRange& range, const model::AppSpec& spec);

// Makes the app hold exactly the host ports `spec` publishes, in the caller's write transaction
// (the store serializes writers, and the claim table's key backs it up): claims the new ones
// and releases those it stopped publishing. Everything is checked before anything is written:
// a new port outside `range` is InvalidArgument naming the range, one another app holds (of any
// project, this one's included) is Conflict naming neither that app nor its project. A port
// the app already holds stays its own even outside `range`: narrowing the range moves no app.
Status claimHostPorts(store::Tx& tx, const HostPortRange& range, const std::string& project, const std::string& app,
                      const model::AppSpec& spec, int64_t now);

// Unpublishes (host_port 0) each port of `spec` the app does not hold, for a node's assignment:
// where two apps published one port before claims, only the one that kept it gets its traffic.
Status dropUnheldHostPorts(store::Tx& tx, const std::string& project, const std::string& app, model::AppSpec& spec);

// At startup: claims the published ports of every app that has none yet (apps made before
// claims), oldest app first, so where two already collide the oldest keeps the port. Returns
// one line per port left to its older holder, naming both apps, and per app whose stored spec
// cannot be read (skipped), for the operator's log.
Result<std::vector<std::string>> claimPublishedHostPorts(store::Store& store, int64_t now);

}  // namespace berth::controlplane
