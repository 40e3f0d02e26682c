#pragma once
// The ingress as a Caddy process (Debian's `caddy`) that the agent starts and then drives only
// through Caddy's admin API on a unix socket in its own directory: every change of routes is one
// POST /load of the whole document (caddy_config.h), which Caddy applies atomically and
// gracefully (requests under way finish). Like a published port's proxy, the process outlives
// the agent: a restarted agent finds it by its socket, and traffic never stops for an agent
// restart.
//
// Caddy starts only when the node first has a domain to serve, so a node (or a test) with no
// domain never binds the ingress ports.

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "agent/ingress/caddy_config.h"
#include "agent/ingress/ingress.h"

namespace berth::agent {

class CaddyIngress : public Ingress {
 public:
  // `caddy` is the binary's path; `dir` (created 0700) holds the admin socket, the certificate
  // storage, the log and the pid file.
  CaddyIngress(IngressSettings settings, std::string dir, std::string caddy);

  Status route(const DomainBackends& domains) override;
  std::size_t requestsTo(const Backend& backend) const override;
  model::NodeIngress describe() const override;

  // "caddy" found in PATH, or NotFound.
  static Result<std::string> findCaddy();

 private:
  // Whether a Caddy answers on the admin socket (this agent's, or one a previous agent started).
  bool answers() const;
  // Starts Caddy and waits until its admin API answers.
  Status startLocked();

  const IngressSettings settings_;
  const std::string dir_;
  const std::string caddy_;
  const CaddyFiles files_;
  mutable std::mutex mu_;
  std::string loaded_;     // the document this agent last loaded ("" : none yet)
  DomainBackends routed_;  // what it routed
  // Backends a reload took out, kept counted until seen idle or their drain time is up.
  mutable std::map<Backend, std::chrono::steady_clock::time_point> draining_;
  mutable std::set<Backend> idle_;  // draining backends requestsTo() found with nothing under way
};

}  // namespace berth::agent
