#include "agent/network/bridged_network.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "agent/network/nft_ruleset.h"
#include "agent/network/project_resolver.h"
#include "os/file_util.h"
#include "os/run_command.h"
#include "os/unique_fd.h"

namespace berth::agent {
namespace {

constexpr const char* kLockDir = "/run/berth";

bool hasNetAdmin() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32))) != 0;
}

bool onPath(const std::string& tool) {
  for (const char* dir : {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"}) {
    if (::access((dir + tool).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// The interfaces of this thread's network namespace (/proc/thread-self/net, not /sys, which
// shows the namespace it was mounted in).
std::set<std::string> links() {
  std::set<std::string> out;
  auto dev = os::readFile("/proc/thread-self/net/dev");
  if (!dev.isOk()) return out;
  std::size_t start = 0;
  for (std::size_t end; (end = dev->find('\n', start)) != std::string::npos; start = end + 1) {
    const std::string line = dev->substr(start, end - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::size_t first = line.find_first_not_of(' ');
    const std::string name = line.substr(first, colon - first);
    out.insert(name);
  }
  return out;
}

Status ip(std::vector<std::string> args) {
  args.insert(args.begin(), "ip");
  return os::runCommand(args);
}

// A sysctl of this thread's network namespace (so written in place, not atomically replaced).
Status setSysctl(const std::string& name, const std::string& value) {
  const std::string path = "/proc/sys/" + name;
  os::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    return internalError("cannot set " + path + " to " + value + ": " + os::errnoMessage(errno));
  }
  return Status::ok();
}

// Guests get IPv4 only; an interface with IPv6 would give them the host's link-local address.
// A host without IPv6 has nothing to disable.
void disableIpv6(const std::string& link) {
  (void)setSysctl("net/ipv6/conf/" + link + "/disable_ipv6", "1");
}

// Whether the VXLAN device already present has the plan's VNI, local address, port and MTU.
Result<bool> vxlanMatches(const OverlayPlan& overlay) {
  BERTH_ASSIGN_OR_RETURN(
      const std::string text,
      os::runCommandOutput({"ip", "-d", "-j", "link", "show", "dev", overlay.device}));
  const nlohmann::json links = nlohmann::json::parse(text, nullptr, false);
  if (!links.is_array() || links.empty() || !links[0].is_object()) {
    return internalError("ip -j link show " + overlay.device + " answered no link");
  }
  const nlohmann::json& link = links[0];
  const nlohmann::json info = link.value("linkinfo", nlohmann::json::object());
  const nlohmann::json data = info.value("info_data", nlohmann::json::object());
  return info.value("info_kind", "") == "vxlan" && data.value("id", int64_t{-1}) == overlay.vni &&
         data.value("local", "") == overlay.local && data.value("port", -1) == kVxlanPort &&
         data.value("learning", true) == false && link.value("mtu", -1) == overlay.mtu;
}

// The device's static forwarding entries made what the plan says: `bridge fdb show` lists them as
// "<mac> dst <address> self permanent" (the bridge's own entries, "master", are not ours).
Status syncFdb(const OverlayPlan& overlay) {
  BERTH_ASSIGN_OR_RETURN(const std::string text,
                         os::runCommandOutput({"bridge", "fdb", "show", "dev", overlay.device}));
  std::set<FdbEntry> present;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::vector<std::string> w{std::istream_iterator<std::string>(words), {}};
    auto dst = std::find(w.begin(), w.end(), "dst");
    if (w.empty() || dst == w.end() || dst + 1 == w.end()) continue;
    if (std::find(w.begin(), w.end(), "master") != w.end()) continue;
    present.insert({w[0], *(dst + 1)});
  }
  const std::set<FdbEntry> wanted(overlay.fdb.begin(), overlay.fdb.end());
  for (const FdbEntry& entry : present) {
    if (wanted.count(entry)) continue;
    BERTH_RETURN_IF_ERROR(os::runCommand(
        {"bridge", "fdb", "del", entry.mac, "dev", overlay.device, "dst", entry.dst, "self"}));
  }
  for (const FdbEntry& entry : wanted) {
    if (present.count(entry)) continue;
    // append, not add: the flood address has an entry per peer.
    BERTH_RETURN_IF_ERROR(os::runCommand({"bridge", "fdb", "append", entry.mac, "dev",
                                          overlay.device, "dst", entry.dst, "self", "permanent"}));
  }
  return Status::ok();
}

Status applyRuleset(const std::string& state_dir, const std::string& text) {
  const std::string path = state_dir + "/berth.nft";
  BERTH_RETURN_IF_ERROR(os::writeFileAtomic(path, text, 0600));
  return os::runCommand({"nft", "-f", path})
      .withContext("cannot apply the node's nftables ruleset " + path);
}

}  // namespace

BridgedNetwork::BridgedNetwork(std::string state_dir, std::vector<Ipv4Cidr> denied,
                               Underlay underlay, os::UniqueFd lock)
    : state_dir_(std::move(state_dir)),
      denied_(std::move(denied)),
      underlay_(std::move(underlay)),
      lock_(std::move(lock)) {}

Result<std::unique_ptr<BridgedNetwork>> BridgedNetwork::claim(std::string state_dir,
                                                              std::vector<Ipv4Cidr> denied,
                                                              Underlay underlay) {
  // Named by this thread's network namespace ("net:[4026531840]"): agents in namespaces of their
  // own (one per node in the multi-node tests) each build their own.
  char netns[64] = {};
  if (::readlink("/proc/thread-self/ns/net", netns, sizeof netns - 1) <= 0) {
    return internalError("cannot read this process's network namespace: " +
                         os::errnoMessage(errno));
  }
  std::string id = netns;
  std::erase_if(id, [](char c) { return !std::isdigit(static_cast<unsigned char>(c)); });
  BERTH_RETURN_IF_ERROR(os::makeDirs(kLockDir, 0755));
  const std::string path = std::string(kLockDir) + "/network-" + id + ".lock";
  os::UniqueFd lock(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock) return internalError("cannot open " + path + ": " + os::errnoMessage(errno));
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    return failedPrecondition(
        "another berth-agent manages this host's project networks (it holds " + path + ")");
  }
  return std::unique_ptr<BridgedNetwork>(new BridgedNetwork(std::move(state_dir), std::move(denied),
                                                            std::move(underlay), std::move(lock)));
}

Status BridgedNetwork::usable() {
  if (!hasNetAdmin()) return failedPrecondition("the agent lacks CAP_NET_ADMIN");
  if (::access("/dev/net/tun", R_OK | W_OK) != 0)
    return failedPrecondition("/dev/net/tun is not usable");
  for (const char* tool : {"ip", "bridge", "nft", "dnsmasq"}) {
    if (!onPath(tool)) return failedPrecondition(std::string(tool) + " is not installed");
  }
  return Status::ok();
}

Status BridgedNetwork::apply(const model::NodeAssignment& assignment) {
  BERTH_ASSIGN_OR_RETURN(NodeNetworkPlan plan, planNetworks(assignment, denied_, underlay_));
  std::lock_guard lock(mu_);
  if (applied_once_ && plan == applied_) return Status::ok();
  BERTH_RETURN_IF_ERROR(os::makeDirs(state_dir_, 0700));
  // Routing is what lets a project reach outside; the ruleset decides who may.
  BERTH_RETURN_IF_ERROR(setSysctl("net/ipv4/ip_forward", "1"));
  // The ruleset first (it names devices, so it may precede them): a tunnel is filtered from the
  // moment it is up.
  BERTH_RETURN_IF_ERROR(
      applyRuleset(state_dir_, plan.bridges.empty() ? removeRuleset() : renderRuleset(plan)));
  BERTH_RETURN_IF_ERROR(applyLinks(plan));
  for (const BridgePlan& bridge : plan.bridges)
    BERTH_RETURN_IF_ERROR(ensureResolver(state_dir_, bridge));
  applied_ = std::move(plan);
  applied_once_ = true;
  return Status::ok();
}

Status BridgedNetwork::applyLinks(const NodeNetworkPlan& plan) {
  // Read once: what this pass creates is in the plan, so it is never among what it removes.
  const std::set<std::string> present = links();
  std::set<std::string> bridges, taps, tunnels;
  for (const BridgePlan& bridge : plan.bridges) {
    bridges.insert(bridge.bridge);
    if (!present.count(bridge.bridge))
      BERTH_RETURN_IF_ERROR(ip({"link", "add", bridge.bridge, "type", "bridge"}));
    disableIpv6(bridge.bridge);
    BERTH_RETURN_IF_ERROR(
        ip({"addr", "replace", bridge.gateway + "/" + std::to_string(bridge.subnet.prefix), "dev",
            bridge.bridge}));
    BERTH_RETURN_IF_ERROR(ip({"link", "set", bridge.bridge, "up"}));
    for (const TapPlan& tap : bridge.taps) {
      taps.insert(tap.tap);
      // A persistent tap: QEMU attaches to it by name, and it survives QEMU restarting.
      if (!present.count(tap.tap))
        BERTH_RETURN_IF_ERROR(ip({"tuntap", "add", "dev", tap.tap, "mode", "tap"}));
      disableIpv6(tap.tap);
      BERTH_RETURN_IF_ERROR(ip({"link", "set", tap.tap, "master", bridge.bridge, "up"}));
    }
    if (bridge.overlay) {
      tunnels.insert(bridge.overlay->device);
      BERTH_RETURN_IF_ERROR(applyOverlay(bridge, present.count(bridge.overlay->device) > 0));
    }
  }
  // What no VM of the plan needs any more: its VM was deleted or moved, its project left the node.
  for (const std::string& link : present) {
    if (link.rfind(kTapPrefix, 0) == 0 && !taps.count(link)) (void)ip({"link", "del", link});
    if (link.rfind(kVxlanPrefix, 0) == 0 && !tunnels.count(link)) (void)ip({"link", "del", link});
  }
  for (const std::string& bridge : present) {
    if (bridge.rfind(kBridgePrefix, 0) != 0 || bridges.count(bridge)) continue;
    stopResolver(state_dir_, bridge);
    (void)ip({"link", "del", bridge});
  }
  return Status::ok();
}

Status BridgedNetwork::applyOverlay(const BridgePlan& bridge, bool present) {
  const OverlayPlan& overlay = *bridge.overlay;
  // The identity of a tunnel cannot be changed in place: one that differs is made again.
  if (present) {
    BERTH_ASSIGN_OR_RETURN(const bool same, vxlanMatches(overlay));
    if (!same) {
      BERTH_RETURN_IF_ERROR(ip({"link", "del", overlay.device}));
      present = false;
    }
  }
  if (!present) {
    // nolearning: where each remote MAC lives is told, never learnt from what arrives.
    BERTH_RETURN_IF_ERROR(ip({"link", "add", overlay.device, "mtu", std::to_string(overlay.mtu),
                              "type", "vxlan", "id", std::to_string(overlay.vni), "local",
                              overlay.local, "dstport", std::to_string(kVxlanPort), "nolearning"}));
  }
  disableIpv6(overlay.device);
  BERTH_RETURN_IF_ERROR(ip({"link", "set", overlay.device, "master", bridge.bridge, "up"}));
  return syncFdb(overlay);
}

Result<BridgedNetwork::Placement> BridgedNetwork::placementOf(const model::VmSpec& vm) const {
  for (const BridgePlan& bridge : applied_.bridges) {
    if (bridge.project != vm.project) continue;
    for (const TapPlan& tap : bridge.taps) {
      if (tap.vm == vm.name) return Placement{&bridge, &tap};
    }
  }
  return failedPrecondition("VM " + vm.project + "/" + vm.name +
                            " has no network on this node yet");
}

Result<std::vector<Nic>> BridgedNetwork::nicsFor(const model::VmSpec& vm, const Paths::Vm&) const {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(const Placement placed, placementOf(vm));
  Nic nic;
  nic.mode = Nic::Mode::kTap;
  nic.tap = placed.tap->tap;
  nic.mac = placed.tap->mac;
  nic.guest_cidr = placed.tap->address + "/" + std::to_string(placed.bridge->subnet.prefix);
  nic.gateway = placed.bridge->gateway;
  nic.dns = placed.bridge->gateway;
  nic.mtu = applied_.guest_mtu;
  return std::vector<Nic>{nic};
}

Result<std::string> BridgedNetwork::exposePort(const model::VmSpec& vm, const Paths::Vm&,
                                               int guest_port) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(const Placement placed, placementOf(vm));
  // The host routes to its own bridges: the port's proxy connects to the guest directly.
  return placed.tap->address + ":" + std::to_string(guest_port);
}

}  // namespace berth::agent
