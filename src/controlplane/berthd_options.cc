#include "controlplane/berthd_options.h"

#include <unistd.h>

#include <cstdlib>

#include "controlplane/service/host_name.h"

namespace berth::controlplane {

namespace {
std::string defaultDataDir(bool dev) {
  if (dev) return ".berth-dev";
  if (::geteuid() == 0) return "/var/lib/berth";
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg && *xdg) return std::string(xdg) + "/berth";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/share/berth";
}
}  // namespace

Result<BerthdOptions> parseBerthdOptions(int argc, char** argv, int* exit_code,
                                         const std::function<void(CLI::App&)>& more_flags) {
  BerthdOptions o;
  CLI::App app{"berthd: the Berth control plane (REST API, store, scheduler)", "berthd"};
  app.set_config("--config", "", "Read options from this INI/TOML file");
  app.add_option("--data", o.data_dir, "Data directory (database, admin token)")->envname("BERTH_DATA");
  app.add_option("--master-key-file", o.master_key_file,
                 "File with the key that seals secrets (64 hex characters, mode 0600; default: <data>/master.key, "
                 "created on first start)")
      ->envname("BERTH_MASTER_KEY_FILE");
  auto* key_command =
      app.add_option("--master-key-command", o.master_key_command,
                     "Command (run by /bin/sh) that prints the key that seals secrets, 64 hex characters: a KMS or "
                     "vault client; instead of a key file")
          ->envname("BERTH_MASTER_KEY_COMMAND");
  key_command->excludes(app.get_option("--master-key-file"));
  app.add_option("--listen", o.listen, "HOST:PORT to serve the API on (port 0 picks one; see <data>/berthd.addr)")
      ->envname("BERTH_LISTEN")
      ->capture_default_str();
  app.add_flag("--dev", o.dev, "Development mode: data in ./.berth-dev and an embedded node agent running VMs")
      ->envname("BERTH_DEV");
  if (more_flags) more_flags(app);
  app.add_option("--max-body-bytes", o.max_body_bytes, "Largest accepted request body")
      ->envname("BERTH_MAX_BODY_BYTES")
      ->check(CLI::Range(size_t{1024}, size_t{64} << 20))
      ->capture_default_str();
  app.add_option("--shutdown-grace", o.shutdown_grace_seconds, "Seconds in-flight requests get on SIGTERM")
      ->envname("BERTH_SHUTDOWN_GRACE")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  app.add_option("--rate-limit-token", o.api.per_token.per_second, "Requests per second per token (0: off)")
      ->envname("BERTH_RATE_LIMIT_TOKEN")
      ->capture_default_str();
  app.add_option("--rate-limit-address", o.api.per_address.per_second,
                 "Requests per second per source address (0: off)")
      ->envname("BERTH_RATE_LIMIT_ADDRESS")
      ->capture_default_str();
  app.add_option("--auth-failure-burst", o.api.auth_failures.burst,
                 "Failed authentications one address may make before being slowed to one per 5 s")
      ->envname("BERTH_AUTH_FAILURE_BURST")
      ->capture_default_str();
  app.add_option("--project-subnets", o.project_subnets,
                 "IPv4 pool (CIDR) project networks are allocated from; changing it moves no existing project")
      ->envname("BERTH_PROJECT_SUBNETS")
      ->capture_default_str();
  app.add_option("--project-subnet-prefix", o.project_subnet_prefix,
                 "Prefix length of each project's subnet in the pool (/24: 253 VM addresses)")
      ->envname("BERTH_PROJECT_SUBNET_PREFIX")
      ->check(CLI::Range(1, 30))
      ->capture_default_str();
  app.add_option("--host-ports", o.host_ports,
                 "LOW-HIGH: the host ports apps may publish, each held by one app cluster-wide (privileged ports "
                 "only if included, e.g. 80-65535); narrowing it moves no app")
      ->envname("BERTH_HOST_PORTS")
      ->capture_default_str();
  app.add_option("--base-domain", o.base_domain,
                 "DOMAIN under which every app gets a default name, <app>.<project>.DOMAIN, "
                 "routed by the nodes' ingress (point a wildcard DNS record at them); projects "
                 "cannot add names under it")
      ->envname("BERTH_BASE_DOMAIN");
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error")
      ->envname("BERTH_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.footer(
      "EXAMPLES:\n"
      "  berthd --dev                          # laptop: data in ./.berth-dev, API on 127.0.0.1:7070\n"
      "  berthd --data /var/lib/berth --listen 0.0.0.0:7070\n"
      "  BERTH_LISTEN=127.0.0.1:0 berthd --data /tmp/b   # port written to /tmp/b/berthd.addr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    *exit_code = 0;
    return invalidArgument(app.help());
  } catch (const CLI::ParseError& e) {
    *exit_code = 2;
    return invalidArgument(std::string("berthd: ") + e.what() + "\nRun 'berthd --help' for usage.");
  }
  if (auto pool = NetworkPool::create(o.project_subnets, o.project_subnet_prefix); !pool.isOk()) {
    *exit_code = 2;
    return invalidArgument("berthd: --project-subnets: " + pool.status().message());
  }
  if (auto range = HostPortRange::parse(o.host_ports); !range.isOk()) {
    *exit_code = 2;
    return invalidArgument("berthd: --host-ports: " + range.status().message());
  }
  if (!o.base_domain.empty()) {
    auto base = normalizeHostName(o.base_domain, "'" + o.base_domain + "'");
    if (!base.isOk()) {
      *exit_code = 2;
      return invalidArgument("berthd: --base-domain: " + base.status().message());
    }
    o.base_domain = *base;
  }
  // Bursts follow rates so one flag sets a limit.
  o.api.per_token.burst = std::max(1.0, 2 * o.api.per_token.per_second);
  o.api.per_address.burst = std::max(1.0, 2 * o.api.per_address.per_second);
  if (o.data_dir.empty()) o.data_dir = defaultDataDir(o.dev);
  return o;
}

Result<HttpServerOptions> listenOptions(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return invalidArgument("--listen must be HOST:PORT, not '" + listen + "'");
  }
  HttpServerOptions o;
  o.host = listen.substr(0, colon);
  if (o.host.size() > 2 && o.host.front() == '[' && o.host.back() == ']') o.host = o.host.substr(1, o.host.size() - 2);
  try {
    size_t used = 0;
    int port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || port < 0 || port > 65535) throw std::out_of_range("port");
    o.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return invalidArgument("--listen port must be 0..65535 in '" + listen + "'");
  }
  return o;
}

}  // namespace berth::controlplane
