#pragma once
// What berthd and a node's agent say to each other over the node API (docs/api.md "Nodes"):
// the agent registers its node, long-polls its assignment (the VMs it must run and the app
// instances placed in them) and reports what it observes. Each message has one definition and
// one JSON form here, used on both sides.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "model/app_spec.h"

namespace berth::model {

// A VM as its node must run it: the virtual hardware and the desired power state.
struct VmSpec {
  std::string project;
  std::string name;
  int64_t vcpus = 1;
  int64_t memory_mib = 512;
  int64_t disk_gib = 2;
  std::string runtime = "qemu";
  std::string machine = "microvm";  // microvm | q35
  std::string power = "running";    // running | stopped
  int64_t restart_generation = 0;   // a higher one than the VM booted with: reboot it
  std::string
      address;  // "10.64.3.2" in its project's network ("" from a berthd that allocates none)
  bool operator==(const VmSpec&) const = default;
};

// A name in a project's network: "<vm>.<project>.internal" or "<app>.<project>.internal".
struct NetworkHost {
  std::string name;
  std::string address;  // "10.64.3.2"
  bool operator==(const NetworkHost&) const = default;
};

// A VM of the project on another node, as the overlay reaches it: the agent derives its MAC
// from the names, as that VM's own agent does.
struct RemoteVm {
  std::string name;
  std::string address;  // "10.64.3.5"
  bool operator==(const RemoteVm&) const = default;
};

// Another node running VMs of the project, over the underlay (docs/networking.md "Across nodes").
struct NetworkPeer {
  std::string node;
  std::string address;        // the node's underlay IPv4, the VXLAN tunnel's far end
  std::vector<RemoteVm> vms;  // sorted by name
  bool operator==(const NetworkPeer&) const = default;
};

// A project's private network, as every node running one of its VMs provides it.
struct ProjectNetwork {
  std::string project;
  std::string subnet;   // "10.64.3.0/24"
  std::string gateway;  // "10.64.3.1": the node's side of the bridge, the VMs' router and resolver
  std::string egress = "allow";    // allow | deny
  std::vector<NetworkHost> hosts;  // sorted by name; an app name may appear once per VM serving it
  // The overlay joining the project's bridges across nodes: its VXLAN network identifier (0: none)
  // and the other nodes with an underlay address that run its VMs (sorted by node; empty when this
  // node has no underlay address).
  int64_t vni = 0;
  std::vector<NetworkPeer> peers;
  bool operator==(const ProjectNetwork&) const = default;
};

// A secret's value as the agent delivers it to one app: the only place a value leaves berthd.
struct SecretValue {
  std::string name;
  std::string as;  // env | file
  std::string value;
  bool operator==(const SecretValue&) const = default;
};

// The parts of an OCI image config a container runs with (the import resolved USER to numbers).
struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "KEY=value"
  std::string working_dir;
  std::string user;
  std::vector<std::string> exposed_ports;  // "8080/tcp"
  bool operator==(const ImageConfig&) const = default;
};
nlohmann::json imageConfigToJson(const ImageConfig& config);
Result<ImageConfig> imageConfigFromJson(const nlohmann::json& j);

// A container app's imported image: the root file system a node fetches by digest.
struct ContainerImage {
  std::string digest;         // the manifest's
  std::string rootfs_digest;  // "sha256:<hex>" of the read-only ext4
  int64_t rootfs_size = 0;
  ImageConfig config;
  bool operator==(const ContainerImage&) const = default;
};

// One instance of an app that a node must run: in VM `vm`, at release `release`, with its
// secrets opened and (a container app) its image.
struct AppAssignment {
  std::string project;
  std::string name;
  std::string vm;
  int64_t release = 0;
  AppSpec spec;  // spec.vm is `vm`
  std::vector<SecretValue> secrets;
  std::optional<ContainerImage> image;
  // Host names the node's ingress routes to the app's instances on this node (sorted): the
  // project's domains of the app, and its default name under berthd's --base-domain.
  std::vector<std::string> domains;
  bool operator==(const AppAssignment&) const = default;
};

// Everything a node must run. `revision` is the event sequence the snapshot reflects; an agent
// long-polls for a newer one.
struct NodeAssignment {
  int64_t revision = 0;
  std::vector<VmSpec> vms;
  std::vector<AppAssignment> apps;
  std::vector<ProjectNetwork> networks;  // one per project with a VM on the node
  bool operator==(const NodeAssignment&) const = default;
};
nlohmann::json nodeAssignmentToJson(const NodeAssignment& assignment);
// InvalidArgument naming the first member of the wrong type; never throws.
Result<NodeAssignment> nodeAssignmentFromJson(const nlohmann::json& j);

// One VM's state as its agent saw it.
struct VmObservation {
  std::string project, name;
  std::string state;  // pending | starting | running | stopping | stopped | failed
  std::string detail;
  bool operator==(const VmObservation&) const = default;
};

// One app instance as its VM's agent saw it.
struct AppObservation {
  std::string project, name;
  int64_t release = 0;
  std::string state;  // pending | deploying | running | unhealthy | failed
  std::string detail;
  // A failed rollout's: the release still serving (its new instance never took traffic).
  int64_t serving_release = 0;
  std::string
      vm;  // the VM whose instance this is (empty from agents before replicas: the app's first)
  bool operator==(const AppObservation&) const = default;
};

// What an agent reports on every pass; it doubles as the node's heartbeat.
struct NodeReport {
  std::vector<VmObservation> vms;
  std::vector<AppObservation> apps;
  bool operator==(const NodeReport&) const = default;
};
nlohmann::json nodeReportToJson(const NodeReport& report);

// What a node offers to VMs.
struct NodeCapacity {
  int64_t vcpus = 0;
  int64_t memory_mib = 0;
  int64_t disk_gib = 0;
  bool operator==(const NodeCapacity&) const = default;
};

// The node's HTTPS ingress (docs/networking.md "Ingress"), as its agent runs it.
struct NodeIngress {
  int64_t http_port = 0;  // 0: the node runs no ingress
  int64_t https_port = 0;
  // The PEM root certificate the ingress signs with when it is its own CA (dev and tests);
  // empty when certificates come from ACME.
  std::string ca;
  bool operator==(const NodeIngress&) const = default;
};

struct NodeRegistration {
  std::string name;
  // The node's underlay IPv4, where other nodes' VXLAN tunnels reach it; "" for a node that
  // joins no overlay (user-mode networking, or no --underlay-address).
  std::string address;
  NodeCapacity capacity;
  NodeIngress ingress;
  bool operator==(const NodeRegistration&) const = default;
};
nlohmann::json nodeRegistrationToJson(const NodeRegistration& registration);

}  // namespace berth::model
