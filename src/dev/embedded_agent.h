#pragma once
// `berthd --dev`: the one place where a control plane and a node agent meet. The agent still
// talks to berthd only through its REST API, with a node token of its own, exactly as a remote
// berth-agent would; neither library knows the other.

#include <memory>

#include <CLI/CLI.hpp>

#include "agent/agent.h"
#include "agent/agent_setup.h"
#include "controlplane/berthd.h"

namespace berth::dev {

// The embedded agent's flags on berthd's command line: --kernel, --init, --agent-data and
// --app-log-bytes.
void addEmbeddedAgentFlags(CLI::App& app, agent::AgentFlags& flags);

// Starts an agent named flags.name against `berthd` (its address and a node token it keeps),
// with its data in flags.data_dir or else berthd's <data>/agent.
Result<std::unique_ptr<agent::Agent>> startEmbeddedAgent(controlplane::Berthd& berthd, agent::AgentFlags flags);

}  // namespace berth::dev
