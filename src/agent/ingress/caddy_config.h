#pragma once
// The whole configuration the agent loads into Caddy (POST /load on its admin socket), as a
// pure function of the node's routes: Caddy's native JSON, so that nothing is adapted or
// guessed. A reload with an unchanged document is skipped by the caller.

#include <nlohmann/json.hpp>
#include <string>

#include "agent/ingress/ingress.h"

namespace berth::agent {

struct IngressSettings {
  std::string listen_address;  // "" : every address of the node
  int http_port = 80;
  int https_port = 443;
  std::string tls =
      "acme";  // acme (Let's Encrypt / ZeroSSL) | internal (Caddy's own CA: dev and tests)
  std::string acme_email;  // for acme; optional
};

struct CaddyFiles {
  std::string admin_socket;  // the admin API's unix socket: the agent's only way to configure Caddy
  std::string storage_dir;   // certificates, keys and the internal CA
};

// The Host header the admin API accepts: it answers only requests naming it (Caddy's origin
// check), so a page in a browser on the node cannot reconfigure the ingress.
inline constexpr const char* kCaddyAdminOrigin = "berth-agent";

// Caddy's config for `domains` (may be empty: then Caddy listens on nothing). `draining` are
// backends no domain routes to any more but whose requests are still counted: a reload drops an
// upstream from Caddy's count while requests to it are under way, so they stay referenced by a
// route no request can match until the agent has seen them idle.
nlohmann::json caddyConfig(const IngressSettings& settings, const CaddyFiles& files,
                           const DomainBackends& domains,
                           const std::vector<Backend>& draining = {});

// Only the admin endpoint, for `caddy run --config`: the routes always come through the API.
nlohmann::json caddyBootstrapConfig(const CaddyFiles& files);

}  // namespace berth::agent
