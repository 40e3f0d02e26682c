#pragma once
// The resolver of one project network on this node: a dnsmasq bound to the project's bridge
// address only, answering the project's names (`<vm>.<project>.internal`,
// `<app>.<project>.internal`) from a hosts file the agent rewrites, never forwarding `.internal`,
// and forwarding other names to the node's resolvers only when the project may reach outside. Like
// QEMU, it outlives the agent (a restarted agent finds it by its command line), so names keep
// resolving across restarts.
//
// dnsmasq runs as root for now: least privilege for it (a uid of its own) is issue 13's work.
// Files, in the agent's <data>/net/: <bridge>.hosts, <bridge>.pid, <bridge>.log.

#include <string>

#include "agent/network/network_plan.h"
#include "common/status.h"

namespace berth::agent {

// Starts the bridge's resolver, or brings a running one up to date: new names are re-read
// (SIGHUP), a changed egress policy restarts it.
Status ensureResolver(const std::string& state_dir, const BridgePlan& bridge);
// Stops the bridge's resolver and removes its files; one that is not running is not an error.
void stopResolver(const std::string& state_dir, const std::string& bridge);

}  // namespace berth::agent
