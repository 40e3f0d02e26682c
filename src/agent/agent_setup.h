#pragma once
// Flags, defaults and start-up shared by the berth-agent binary and `berthd --dev`, which
// embeds an agent talking to its own API.

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

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
  std::string underlay_address;  // this node's IPv4 for other nodes' tunnels; "": no overlay
  int underlay_mtu = 1500;
  std::string network = "auto";  // auto | bridged | user (docs/networking.md)
  std::vector<std::string>
      deny_egress;  // CIDRs no guest may reach, besides link-local and loopback
  std::string publish_address = "127.0.0.1";  // where published ports listen
  std::string ingress = "auto";               // auto | caddy | none (docs/networking.md "Ingress")
  std::string ingress_address;                // "" : every address
  int ingress_http_port = 80;
  int ingress_https_port = 443;
  std::string ingress_tls = "acme";  // acme | internal
  std::string acme_email;
};

void addAgentFlags(CLI::App& app, AgentFlags& flags);
// The agent flags `berthd --dev` offers too.
void addAppLogFlag(CLI::App& app, AgentFlags& flags, const std::string& name);
void addNetworkFlags(CLI::App& app, AgentFlags& flags);
void addIngressFlags(CLI::App& app, AgentFlags& flags);

// Resolves defaults (kernel cache, berth-init next to this binary), connects to the API and
// starts the agent. `api` overrides the client built from flags.server/token.
Result<std::unique_ptr<Agent>> startAgent(AgentFlags flags, std::unique_ptr<client::ApiClient> api);

}  // namespace berth::agent
