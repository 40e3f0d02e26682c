#include "controlplane/service/scheduler.h"

#include <algorithm>
#include <map>
#include <optional>

namespace berth::controlplane {

namespace {
struct Free {
  int64_t vcpus, memory_mib, disk_gib;
};

store::Event systemEvent(const Clock& clock, std::string action, std::optional<std::string> project,
                         std::string object, std::string details = "{}") {
  return store::Event{0, clock.wallMillis(), "system", std::move(action), std::move(project), std::move(object),
                      std::move(details)};
}
}  // namespace

Status Scheduler::runOnce() {
  BERTH_RETURN_IF_ERROR(markLostNodes());
  return placePendingVms();
}

Status Scheduler::markLostNodes() {
  int64_t deadline = clock_.wallMillis() - options_.heartbeat_timeout.count();
  return store_.write([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(auto nodes, tx.listNodes());
    for (auto& n : nodes) {
      if (n.state == "lost" || n.heartbeat_at >= deadline) continue;
      n.state = "lost";
      n.updated_at = clock_.wallMillis();
      BERTH_RETURN_IF_ERROR(tx.updateNode(n, n.version));
      BERTH_RETURN_IF_ERROR(tx.appendEvent(systemEvent(clock_, "node.lost", std::nullopt, "nodes/" + n.name)).status());
    }
    return Status::ok();
  });
}

Status Scheduler::placePendingVms() {
  return store_.write([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(auto pending, tx.listVmsOnNode(""));
    if (pending.empty()) return Status::ok();
    // First come, first served: a large VM waiting for room does not jump ahead of older ones.
    std::stable_sort(pending.begin(), pending.end(),
                     [](const store::Vm& a, const store::Vm& b) { return a.created_at < b.created_at; });
    BERTH_ASSIGN_OR_RETURN(auto nodes, tx.listNodes());
    std::map<std::string, Free> free;
    for (const auto& n : nodes) {
      if (n.state != "ready") continue;
      Free f{n.vcpus, n.memory_mib, n.disk_gib};
      BERTH_ASSIGN_OR_RETURN(auto placed, tx.listVmsOnNode(n.name));
      for (const auto& vm : placed) {
        f.vcpus -= vm.vcpus;
        f.memory_mib -= vm.memory_mib;
        f.disk_gib -= vm.disk_gib;
      }
      free[n.name] = f;
    }
    for (auto& vm : pending) {
      std::string best;
      for (const auto& [name, f] : free) {
        bool fits = f.vcpus >= vm.vcpus && f.memory_mib >= vm.memory_mib && f.disk_gib >= vm.disk_gib;
        if (fits && (best.empty() || f.memory_mib > free[best].memory_mib)) best = name;
      }
      std::string object = "projects/" + vm.project + "/vms/" + vm.name;
      if (best.empty()) {
        std::string detail = "no ready node has room for " + std::to_string(vm.vcpus) + " vCPUs, " +
                             std::to_string(vm.memory_mib) + " MiB and " + std::to_string(vm.disk_gib) + " GiB";
        if (vm.state_detail != detail) BERTH_RETURN_IF_ERROR(tx.setVmObserved(vm.project, vm.name, vm.state, detail));
        continue;
      }
      Free& f = free[best];
      f.vcpus -= vm.vcpus;
      f.memory_mib -= vm.memory_mib;
      f.disk_gib -= vm.disk_gib;
      int64_t version = vm.version;
      vm.node = best;
      vm.state_detail.clear();
      vm.updated_at = clock_.wallMillis();
      BERTH_RETURN_IF_ERROR(tx.updateVm(vm, version));
      BERTH_RETURN_IF_ERROR(tx.appendEvent(systemEvent(clock_, "vm.schedule", vm.project, object,
                                                       "{\"node\":\"" + best + "\"}"))
                                .status());
    }
    return Status::ok();
  });
}

}  // namespace berth::controlplane
