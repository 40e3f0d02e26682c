#pragma once
// Flags, defaults and start-up shared by the berth-agent binary and `berthd --dev`, which
// embeds an agent talking to its own API.

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "agent/agent.h"

namespace berth::agent {

struct AgentFlags {
  std::string server;      // berthd URL
  std::string token_file;  // node token
  std::string token;       // alternative to token_file (embedded use)
  std::string name = "local";
  std::string data_dir = "/var/lib/berth-agent";
  std::string kernel_dir;  // holds vmlinuz and modules/; default: the setup script's cache
  std::string init_binary;
  std::string busybox = "/bin/busybox";
  std::uint64_t app_log_bytes = kAppLogBytes;
};

void addAgentFlags(CLI::App& app, AgentFlags& flags);
// The one agent flag `berthd --dev` offers too.
void addAppLogFlag(CLI::App& app, AgentFlags& flags, const std::string& name);

// Resolves defaults (kernel cache, berth-init next to this binary), connects to the API and
// starts the agent. `api` overrides the client built from flags.server/token.
Result<std::unique_ptr<Agent>> startAgent(AgentFlags flags, std::unique_ptr<client::ApiClient> api);

}  // namespace berth::agent
