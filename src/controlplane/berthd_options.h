#pragma once
// berthd's configuration, from flags, a config file (--config, INI/TOML) and BERTH_* environment
// variables, in that order of precedence.

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/result.h"
#include "controlplane/api/api.h"
#include "controlplane/http/http_server.h"
#include "controlplane/service/host_ports.h"
#include "controlplane/service/network_allocator.h"

namespace berth::controlplane {

struct BerthdOptions {
  std::string data_dir;
  std::string listen = "127.0.0.1:7070";
  bool dev = false;  // data in ./.berth-dev; src/dev/ also runs an agent beside berthd
  size_t max_body_bytes = 1 << 20;
  int shutdown_grace_seconds = 20;
  ApiOptions api;
  std::string log_level = "info";
  // The key secrets are sealed under: a file of 64 hex characters, mode 0600. Empty: <data>/master.key,
  // created on first start.
  std::string master_key_file;
  std::string master_key_command;  // run by /bin/sh; prints the key (a KMS or vault client, say)
  // The pool project subnets are allocated from, and their size. Changing it moves no project:
  // each keeps the subnet it was given.
  std::string project_subnets = NetworkPool::kDefaultPool;
  int project_subnet_prefix = NetworkPool::kDefaultSubnetPrefix;
  // The host ports apps may publish, "LOW-HIGH" (HostPortRange). Narrowing it moves no app: each
  // keeps the ports it already holds.
  std::string host_ports = HostPortRange::kDefault;
  // Where every app gets a default name, <app>.<project>.<base_domain> (normalized by parsing);
  // empty: apps have only the domains their projects add.
  std::string base_domain;
};

// Parses argv. On --help or a usage error returns a Status whose message is the text to print;
// `exit_code` says how to exit (0 for --help, 2 for usage errors). `more_flags` adds the flags of
// whatever runs beside the control plane (the embedded agent of --dev).
Result<BerthdOptions> parseBerthdOptions(int argc, char** argv, int* exit_code,
                                         const std::function<void(CLI::App&)>& more_flags = {});

// Splits "HOST:PORT" into the server's options.
Result<HttpServerOptions> listenOptions(const std::string& listen);

}  // namespace berth::controlplane
