#pragma once
// The stored objects of the control plane: desired state plus the observed fields agents report.
// Plain values; JSON rendering belongs to the API layer. Times are wall milliseconds.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace berth::store {

struct Quotas {
  int64_t vcpus = 8;
  int64_t memory_mib = 8192;
  int64_t disk_gib = 100;
  int64_t vms = 10;
};

// What a project's VMs consume, counted against its Quotas.
struct Usage {
  int64_t vcpus = 0;
  int64_t memory_mib = 0;
  int64_t disk_gib = 0;
  int64_t vms = 0;
};

struct Project {
  std::string name;
  Quotas quotas;
  // The project's private network: "10.64.3.0/24", allocated once by berthd and never moved
  // ("" until allocated), and whether its VMs may reach outside it.
  std::string subnet;
  std::string egress = "allow";  // allow | deny
  int64_t version = 0;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct Vm {
  std::string project;
  std::string name;
  int64_t vcpus = 1;
  int64_t memory_mib = 512;
  int64_t disk_gib = 2;
  std::string runtime = "qemu";
  std::string machine = "microvm";
  std::optional<std::string> node;
  std::string power = "running";  // desired: running | stopped
  std::string state = "pending";  // observed: pending | starting | running | stopping | stopped | failed
  // Bumped by each restart request; the agent restarts a VM whose booted generation is older.
  int64_t restart_generation = 0;
  std::string state_detail;  // why the observed state is what it is ("QEMU exited with status 1")
  std::string address;       // in its project's subnet, "10.64.3.2"; unique in the project ("" until allocated)
  int64_t version = 0;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// A host running berth-agent.
struct Node {
  std::string name;
  std::string address;  // the node's underlay IPv4 (its agent's --underlay-address), or ""
  int64_t vcpus = 0;    // capacity offered to VMs
  int64_t memory_mib = 0;
  int64_t disk_gib = 0;
  std::string state = "ready";  // ready | draining | lost
  int64_t heartbeat_at = 0;
  int64_t version = 0;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  // The node's HTTPS ingress as its agent last registered it: ports 0 when it runs none, and the
  // PEM root certificate it signs with when it is its own CA ("" when ACME issues).
  int64_t ingress_http_port = 0;
  int64_t ingress_https_port = 0;
  std::string ingress_ca;
};

// What the agent of one VM reports about the app's instance there (one per VM the app runs in).
struct AppInstance {
  std::string project;
  std::string app;
  std::string vm;
  int64_t release = 0;
  std::string state;  // deploying | running | unhealthy | failed
  std::string detail;
  int64_t updated_at = 0;
};

struct App {
  std::string project;
  std::string name;
  std::string spec_json;  // the current release's spec, as validated by the API layer
  int64_t release = 0;    // number of the current release
  int64_t version = 0;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  // Observed by the agent: the release running in the VM and its state
  // (pending | deploying | running | failed), with why.
  int64_t observed_release = 0;
  std::string state = "pending";
  std::string state_detail;
  // Each instance's own report (filled in where one app is shown, not in lists).
  std::vector<AppInstance> instances;
  // Where the app answers (filled in where apps are shown, not stored): the host names the
  // nodes' ingress routes to it, and the URLs those and its published ports make.
  std::vector<std::string> domains;
  std::vector<std::string> urls;
};

struct Release {
  std::string project;
  std::string app;
  int64_t number = 0;
  std::string spec_json;
  int64_t created_at = 0;
  std::string created_by;  // token id
  // A rollback's release restores this one's spec; with `automatic`, berthd made it because
  // the release before it failed its rollout.
  int64_t rollback_of = 0;
  bool automatic = false;
  // What became of it, once an agent said: "" (not yet), running (it served), or failed (why).
  std::string state;
  std::string detail;
};

// One version of a project's secret. Setting a secret adds a version; releases name the version
// they use, so a rollback restores the value it ran with. Only the sealed form is stored.
struct Secret {
  std::string project;
  std::string name;
  int64_t version = 0;  // 1, 2, ...
  std::string sealed;   // base64 of SecretBox::seal(value, "<project>/<name>/<version>")
  int64_t created_at = 0;
  std::string created_by;  // token id
};

// A published host port and the one app that may publish it. Claims are cluster-wide, not per
// node: an app's instances may be placed on, or moved to, any node (replicas, rescheduling), so
// only a port no other app holds anywhere is sure to be free wherever the app lands.
struct HostPortClaim {
  int64_t port = 0;
  std::string project;
  std::string app;
  int64_t claimed_at = 0;
  bool operator==(const HostPortClaim&) const = default;
};

// A host name the nodes' ingress routes to one app. Names are cluster-wide, not per project:
// one name can reach only one app, so no tenant can take traffic meant for another's.
struct Domain {
  std::string name;  // lowercase, no trailing dot: "shop.example.com"
  std::string project;
  std::string app;
  int64_t created_at = 0;
  std::string created_by;  // token id
  bool operator==(const Domain&) const = default;
};

// An OCI image imported into a project. The root file system is converted once into a
// read-only ext4 kept by berthd (content-addressed, shared by projects that import the same
// image); nodes fetch it by its digest.
struct Image {
  std::string project;
  std::string digest;        // the manifest's, "sha256:<hex>"
  std::string config_json;   // {"entrypoint","cmd","env","working_dir","user","exposed_ports"}
  std::string rootfs_digest;  // "sha256:<hex>" of the ext4
  int64_t rootfs_size = 0;
  std::string source;  // what was imported: "docker://…" or the uploaded archive's digest
  int64_t created_at = 0;
  std::string created_by;
};

struct Token {
  std::string id;    // public identifier, "tok_" + 16 hex
  std::string name;
  std::string hash;  // sha256 of the secret; the secret itself is never stored
  std::string role;  // admin | owner | deployer | viewer
  std::optional<std::string> project;
  int64_t created_at = 0;
  std::string created_by;
};

struct Event {
  int64_t seq = 0;  // assigned by the store, strictly increasing
  int64_t time = 0;
  std::string actor;   // token id, or "system"
  std::string action;  // "project.create", "vm.stop", ...
  std::optional<std::string> project;
  std::string object;        // "projects/demo/vms/web"
  std::string details_json;  // "{}" when there is nothing to add
};

// A page of a list: `next` is the cursor for the following page, empty at the end.
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next;
};

}  // namespace berth::store
