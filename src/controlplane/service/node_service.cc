#include "controlplane/service/node_service.h"

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>

#include "controlplane/service/domain_service.h"
#include "controlplane/service/host_ports.h"
#include "controlplane/service/network_allocator.h"
#include "controlplane/service/placement.h"
#include "controlplane/service/project_apps.h"
#include "controlplane/service/project_overlay.h"
#include "controlplane/service/releases.h"

namespace berth::controlplane {

namespace {
const std::set<std::string> kObservedStates = {"pending", "starting", "running", "stopping", "stopped", "failed"};
const std::set<std::string> kObservedAppStates = {"pending", "deploying", "running", "unhealthy", "failed"};

model::VmSpec vmSpec(const store::Vm& vm) {
  return {vm.project, vm.name,  vm.vcpus,              vm.memory_mib, vm.disk_gib,
          vm.runtime, vm.machine, vm.power, vm.restart_generation, vm.address};
}

model::NetworkHost host(const std::string& name, const std::string& project, const std::string& address) {
  return {name + "." + project + ".internal", address};
}

// The project's network as every node running one of its VMs serves it: a name for each of its
// VMs, wherever placed, so names resolve across nodes. Its app names are added by the caller.
Result<model::ProjectNetwork> projectNetwork(store::Tx& tx, const store::Project& project) {
  model::ProjectNetwork network{project.name, project.subnet, "", project.egress, {}, 0, {}};
  BERTH_ASSIGN_OR_RETURN(network.gateway, subnetGateway(project.subnet));
  BERTH_ASSIGN_OR_RETURN(auto vms, tx.listVmsByAge(project.name));
  for (const auto& vm : vms) {
    if (!vm.address.empty()) network.hosts.push_back(host(vm.name, project.name, vm.address));
  }
  return network;
}

constexpr int64_t kMaxPort = 65535;
constexpr size_t kMaxCaBytes = 16 * 1024;
constexpr std::string_view kPemCertificate = "-----BEGIN CERTIFICATE-----";

// What an agent says of its ingress, checked before anything is stored.
Status checkIngress(const store::Node& node) {
  for (auto [field, port] : {std::pair{"ingress.http_port", node.ingress_http_port},
                             std::pair{"ingress.https_port", node.ingress_https_port}}) {
    if (port < 0 || port > kMaxPort) {
      return invalidArgument(std::string(field) + " must be 0..65535, not " + std::to_string(port));
    }
  }
  if (node.ingress_https_port > 0 && node.ingress_http_port == 0) {
    return invalidArgument(
        "ingress.http_port is required with ingress.https_port (HTTP redirects to HTTPS)");
  }
  if (node.ingress_ca.size() > kMaxCaBytes) {
    return invalidArgument("ingress.ca may be at most 16 KiB, not " +
                           std::to_string(node.ingress_ca.size()) + " bytes");
  }
  if (!node.ingress_ca.empty() && !node.ingress_ca.starts_with(kPemCertificate)) {
    return invalidArgument("ingress.ca must be a PEM certificate, starting with " +
                           std::string(kPemCertificate));
  }
  return Status::ok();
}

Result<model::ContainerImage> containerImage(const store::Image& image) {
  auto config = model::imageConfigFromJson(nlohmann::json::parse(image.config_json, nullptr, false));
  if (!config.isOk()) return internalError("the stored config of image " + image.digest + " is damaged: " +
                                           config.status().message());
  return model::ContainerImage{image.digest, image.rootfs_digest, image.rootfs_size, std::move(config).value()};
}

}  // namespace

Result<store::Node> NodeService::registerNode(const Principal& who, store::Node node) {
  BERTH_RETURN_IF_ERROR(authorizeNode(who, node.name));
  BERTH_RETURN_IF_ERROR(checkIngress(node));
  int64_t now = ctx_.clock.wallMillis();
  node.heartbeat_at = now;
  store::Node stored;
  BERTH_RETURN_IF_ERROR(ctx_.store.write([&](store::Tx& tx) {
    auto existing = tx.getNode(node.name);
    node.state = "ready";
    node.version = 1;
    node.created_at = node.updated_at = now;
    BERTH_RETURN_IF_ERROR(tx.upsertNode(node));
    BERTH_ASSIGN_OR_RETURN(stored, tx.getNode(node.name));
    // A node that was lost and came back is ready again; a draining one stays draining.
    if (stored.state == "lost") {
      stored.state = "ready";
      BERTH_RETURN_IF_ERROR(tx.updateNode(stored, stored.version));
      stored.version += 1;
    }
    return tx.appendEvent(ctx_.event(who, existing.isOk() ? "node.reregister" : "node.register", std::nullopt,
                                     "nodes/" + node.name,
                                     {{"vcpus", node.vcpus},
                                      {"memory_mib", node.memory_mib},
                                      {"disk_gib", node.disk_gib}}))
        .status();
  }));
  return stored;
}

// Any token: a CA certificate is public, it is what clients are to trust.
Result<std::string> NodeService::ingressCa(const Principal& /*who*/) {
  std::string out;
  BERTH_RETURN_IF_ERROR(ctx_.store.read([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(auto nodes, tx.listNodes());
    std::set<std::string> seen;
    for (const auto& n : nodes) {
      if (n.ingress_ca.empty() || !seen.insert(n.ingress_ca).second) continue;
      out += n.ingress_ca;
      if (out.back() != '\n') out += '\n';
    }
    return Status::ok();
  }));
  if (out.empty()) {
    return notFound(
        "no node's ingress has a CA of its own (its certificates come from ACME, or no node runs "
        "an ingress); trust the public CAs instead");
  }
  return out;
}

Result<std::vector<store::Node>> NodeService::list(const Principal& who) {
  if (who.role != Role::kAdmin) return permissionDenied("the fleet is visible to admin tokens only");
  std::vector<store::Node> nodes;
  BERTH_RETURN_IF_ERROR(ctx_.store.read([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(nodes, tx.listNodes());
    return Status::ok();
  }));
  return nodes;
}

Result<store::Node> NodeService::drain(const Principal& who, const std::string& name) {
  if (who.role != Role::kAdmin) return permissionDenied("draining a node needs an admin token");
  store::Node node;
  BERTH_RETURN_IF_ERROR(ctx_.store.write([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(node, tx.getNode(name));
    if (node.state == "draining") return Status::ok();
    node.state = "draining";
    node.updated_at = ctx_.clock.wallMillis();
    BERTH_RETURN_IF_ERROR(tx.updateNode(node, node.version));
    node.version += 1;
    return tx.appendEvent(ctx_.event(who, "node.drain", std::nullopt, "nodes/" + name)).status();
  }));
  return node;
}

Result<model::NodeAssignment> NodeService::assignment(const Principal& who, const std::string& node) {
  BERTH_RETURN_IF_ERROR(authorizeNode(who, node));
  model::NodeAssignment out;
  out.revision = ctx_.store.lastEventSeq();
  BERTH_RETURN_IF_ERROR(ctx_.store.read([&](store::Tx& tx) {
    BERTH_RETURN_IF_ERROR(tx.getNode(node).status());
    BERTH_ASSIGN_OR_RETURN(auto vms, tx.listVmsOnNode(node));
    std::set<std::string> projects;
    for (const auto& vm : vms) {
      projects.insert(vm.project);
      out.vms.push_back(vmSpec(vm));
    }
    for (const auto& project : projects) {
      BERTH_ASSIGN_OR_RETURN(store::Project stored, tx.getProject(project));
      // A project the full pool could not serve yet has no network to provide.
      std::optional<model::ProjectNetwork> network;
      if (!stored.subnet.empty()) {
        BERTH_ASSIGN_OR_RETURN(network, projectNetwork(tx, stored));
        network->vni = overlayVni(stored.subnet);
        if (network->vni != 0) {
          BERTH_ASSIGN_OR_RETURN(network->peers, overlayPeers(tx, project, node));
        }
      }
      BERTH_ASSIGN_OR_RETURN(auto apps, allApps(tx, project));
      for (auto& app : apps) {
        BERTH_ASSIGN_OR_RETURN(model::AppSpec spec, model::appSpecFromJson(app.spec_json));
        BERTH_ASSIGN_OR_RETURN(auto placement, appPlacement(tx, project, spec));
        // The app's name resolves to every VM it is placed in, not only those reported healthy:
        // during a rollout an instance reports its new release ("deploying") while the old one
        // still serves, so observed state would drop the name on every deploy. Traffic to an
        // instance that is not up is the app's own health to handle.
        for (const auto& vm : placement) {
          if (network && !vm.address.empty()) network->hosts.push_back(host(app.name, project, vm.address));
        }
        bool here = false;
        for (const auto& vm : placement) here = here || vm.node == node;
        if (!here) continue;
        BERTH_RETURN_IF_ERROR(dropUnheldHostPorts(tx, project, app.name, spec));
        BERTH_ASSIGN_OR_RETURN(auto secrets, secrets_.open(tx, project, spec));
        BERTH_ASSIGN_OR_RETURN(auto domains, appDomains(tx, ctx_.base_domain, project, app.name));
        std::optional<model::ContainerImage> image;
        if (spec.isContainer()) {
          BERTH_ASSIGN_OR_RETURN(store::Image stored, tx.getImage(project, spec.image));
          BERTH_ASSIGN_OR_RETURN(image, containerImage(stored));
        }
        // One entry per instance on this node, each naming its VM.
        for (const auto& vm : placement) {
          if (vm.node != node) continue;
          model::AppAssignment instance{project, app.name, vm.name, app.release,
                                        spec,    secrets,  image,   domains};
          instance.spec.vm = vm.name;
          out.apps.push_back(std::move(instance));
        }
      }
      if (network) {
        // Sorted so that an unchanged network compares equal in the agent's assignments.
        std::sort(network->hosts.begin(), network->hosts.end(), [](const auto& a, const auto& b) {
          return std::tie(a.name, a.address) < std::tie(b.name, b.address);
        });
        out.networks.push_back(std::move(*network));
      }
    }
    return Status::ok();
  }));
  return out;
}

Status NodeService::report(const Principal& who, const std::string& node, const std::vector<model::VmObservation>& vms,
                          const std::vector<model::AppObservation>& apps) {
  BERTH_RETURN_IF_ERROR(authorizeNode(who, node));
  for (const auto& o : vms) {
    if (!kObservedStates.count(o.state)) {
      return invalidArgument("vms[].state must be one of pending, starting, running, stopping, stopped, failed, not '" +
                             o.state + "'");
    }
  }
  for (const auto& o : apps) {
    if (!kObservedAppStates.count(o.state)) {
      return invalidArgument("apps[].state must be one of pending, deploying, running, unhealthy, failed, not '" +
                             o.state + "'");
    }
  }
  return ctx_.store.write([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(store::Node n, tx.getNode(node));
    n.heartbeat_at = ctx_.clock.wallMillis();
    n.updated_at = n.heartbeat_at;
    // A node marked lost that reports again is back (a draining one stays draining).
    if (n.state == "lost") {
      // A state change: updateNode (the heartbeat-only upsert below keeps the stored state).
      n.state = "ready";
      BERTH_RETURN_IF_ERROR(tx.updateNode(n, n.version));
      BERTH_RETURN_IF_ERROR(tx.appendEvent(ctx_.event(who, "node.ready", std::nullopt, "nodes/" + node)).status());
    } else {
      BERTH_RETURN_IF_ERROR(tx.upsertNode(n));
    }
    for (const auto& o : vms) {
      auto vm = tx.getVm(o.project, o.name);
      // A VM deleted or moved since the agent looked: its report is stale, not an error.
      if (!vm.isOk() || vm->node != node) continue;
      if (vm->state == o.state && vm->state_detail == o.detail) continue;
      BERTH_RETURN_IF_ERROR(tx.setVmObserved(o.project, o.name, o.state, o.detail));
      BERTH_RETURN_IF_ERROR(tx.appendEvent(ctx_.event(who, "vm.state", o.project,
                                                      "projects/" + o.project + "/vms/" + o.name,
                                                      {{"from", vm->state}, {"to", o.state}, {"detail", o.detail}}))
                                .status());
    }
    for (const auto& o : apps) {
      BERTH_RETURN_IF_ERROR(recordInstance(tx, who, node, o));
    }
    return Status::ok();
  });
}

// One instance's report: stored, then summed up with the app's other instances into the app's
// status (the agent of each VM speaks only for the instance in it).
Status NodeService::recordInstance(store::Tx& tx, const Principal& who, const std::string& node,
                                   const model::AppObservation& o) {
  auto app = tx.getApp(o.project, o.name);
  if (!app.isOk()) return Status::ok();  // deleted since the agent looked
  BERTH_ASSIGN_OR_RETURN(model::AppSpec spec, model::appSpecFromJson(app->spec_json));
  BERTH_ASSIGN_OR_RETURN(auto placement, appPlacement(tx, o.project, spec));
  // An agent from before replicas names no VM: its app ran in the app's first.
  const std::string vm = o.vm.empty() && !placement.empty() ? placement[0].name : o.vm;
  auto placed = std::find_if(placement.begin(), placement.end(), [&](const store::Vm& v) { return v.name == vm; });
  if (placed == placement.end() || placed->node != node) return Status::ok();  // stale: moved or removed

  BERTH_ASSIGN_OR_RETURN(auto instances, tx.listAppInstances(o.project, o.name));
  auto mine = std::find_if(instances.begin(), instances.end(), [&](const auto& i) { return i.vm == vm; });
  if (mine == instances.end() || mine->release != o.release || mine->state != o.state || mine->detail != o.detail) {
    store::AppInstance updated{o.project, o.name, vm, o.release, o.state, o.detail, ctx_.clock.wallMillis()};
    BERTH_RETURN_IF_ERROR(tx.upsertAppInstance(updated));
    if (mine == instances.end()) {
      instances.push_back(updated);
    } else {
      *mine = updated;
    }
  }
  for (const auto& i : instances) {
    const bool placed_here = std::any_of(placement.begin(), placement.end(), [&](const auto& v) { return v.name == i.vm; });
    if (!placed_here) BERTH_RETURN_IF_ERROR(tx.deleteAppInstance(o.project, o.name, i.vm));
  }

  const AppStatusSummary sum = summarizeInstances(placement, instances);
  if (app->observed_release == sum.release && app->state == sum.state && app->state_detail == sum.detail) {
    return Status::ok();
  }
  BERTH_RETURN_IF_ERROR(tx.setAppObserved(o.project, o.name, sum.release, sum.state, sum.detail));
  BERTH_RETURN_IF_ERROR(tx.appendEvent(ctx_.event(who, "app.state", o.project,
                                                  "projects/" + o.project + "/apps/" + o.name,
                                                  {{"release", sum.release}, {"from", app->state}, {"to", sum.state},
                                                   {"detail", sum.detail}, {"vm", vm}}))
                            .status());
  model::AppObservation summed{o.project, o.name, sum.release, sum.state, sum.detail, o.serving_release, vm};
  return recordRolloutOutcome(ctx_, tx, who, *app, summed);
}

}  // namespace berth::controlplane
