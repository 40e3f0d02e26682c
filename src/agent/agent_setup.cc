#include "agent/agent_setup.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>

#include "agent/ingress/caddy_ingress.h"
#include "agent/network/bridged_network.h"
#include "agent/network/user_mode_network.h"
#include "agent/runtime/qemu_runtime.h"
#include "common/ipv4.h"
#include "os/file_util.h"

namespace berth::agent {
namespace {

namespace fs = std::filesystem;

fs::path selfDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

// The first existing path among candidates, or the first candidate (for the error message).
std::string firstExisting(const std::vector<fs::path>& candidates) {
  for (const auto& c : candidates) {
    if (fs::exists(c)) return fs::weakly_canonical(c).string();
  }
  return candidates.front().string();
}

// The setup script's kernel cache: <repo>/.cache/kernel, found above the working directory or
// above this binary (a build tree lives inside the repository).
std::string defaultKernelDir() {
  if (const char* env = std::getenv("BERTH_KERNEL_DIR"); env && *env) return env;
  for (fs::path start : {fs::current_path(), selfDir()}) {
    for (fs::path dir = start; !dir.empty(); dir = dir.parent_path()) {
      if (fs::exists(dir / ".cache/kernel/vmlinuz")) return (dir / ".cache/kernel").string();
      if (dir == dir.root_path()) break;
    }
  }
  return "/var/cache/berth/kernel";
}

Result<std::unique_ptr<VmNetwork>> chooseNetwork(const AgentFlags& flags,
                                                 const std::string& net_dir) {
  std::vector<Ipv4Cidr> denied;
  for (const std::string& text : flags.deny_egress) {
    auto cidr = parseIpv4Cidr(text, "--deny-egress");
    if (!cidr.isOk()) return cidr.status();
    denied.push_back(*cidr);
  }
  Underlay underlay{"", flags.underlay_mtu};
  if (!flags.underlay_address.empty()) {
    auto address = parseIpv4(flags.underlay_address);
    if (!address.isOk()) {
      return invalidArgument("--underlay-address '" + flags.underlay_address +
                             "' is not an IPv4 address");
    }
    underlay.address = formatIpv4(*address);
  }
  if (flags.network != "user") {
    Status usable = BridgedNetwork::usable();
    if (usable.isOk()) {
      auto bridged = BridgedNetwork::claim(net_dir, std::move(denied), underlay);
      if (bridged.isOk()) {
        spdlog::info(
            "agent: bridged project networks (a bridge per project, nftables table 'berth'){}",
            underlay.address.empty() ? ", on this node only (no --underlay-address)"
                                     : ", joined to other nodes by VXLAN from " + underlay.address);
        return std::unique_ptr<VmNetwork>(std::move(*bridged));
      }
      usable = bridged.status();
    }
    if (flags.network == "bridged") return usable.withContext("--network bridged");
    spdlog::warn(
        "agent: {}, so VMs get QEMU's restricted user-mode network: no VM reaches another VM, the "
        "host or "
        "the outside, and projects have no private network (docs/networking.md)",
        usable.message());
  }
  if (!underlay.address.empty()) {
    spdlog::warn("agent: --underlay-address is ignored: user-mode VMs join no overlay");
  }
  return std::unique_ptr<VmNetwork>(std::make_unique<UserModeNetwork>());
}

Result<std::unique_ptr<Ingress>> chooseIngress(const AgentFlags& flags, const std::string& dir) {
  if (flags.ingress == "none") return std::unique_ptr<Ingress>(std::make_unique<NoIngress>());
  auto caddy = CaddyIngress::findCaddy();
  if (!caddy.isOk()) {
    if (flags.ingress == "caddy") return caddy.status().withContext("--ingress caddy");
    spdlog::warn("agent: {}, so this node serves no domains (docs/networking.md)",
                 caddy.status().message());
    return std::unique_ptr<Ingress>(std::make_unique<NoIngress>());
  }
  IngressSettings settings{flags.ingress_address, flags.ingress_http_port, flags.ingress_https_port,
                           flags.ingress_tls, flags.acme_email};
  spdlog::info(
      "agent: ingress: Caddy on :{} and :{} (certificates: {}), started with the first domain",
      settings.http_port, settings.https_port, settings.tls == "internal" ? "its own CA" : "ACME");
  return std::unique_ptr<Ingress>(std::make_unique<CaddyIngress>(settings, dir, *caddy));
}

const CLI::Validator ipv4Address(
    [](const std::string& text) {
      return text.empty() || parseIpv4(text).isOk() ? "" : "not an IPv4 address: " + text;
    },
    "IPV4");

}  // namespace

void addAgentFlags(CLI::App& app, AgentFlags& flags) {
  app.add_option("--server", flags.server, "berthd URL, e.g. http://10.0.0.1:7070")
      ->envname("BERTH_SERVER");
  app.add_option("--token-file", flags.token_file, "File holding this node's token")
      ->envname("BERTH_NODE_TOKEN_FILE");
  app.add_option("--name", flags.name, "Node name (a DNS label)")
      ->capture_default_str()
      ->envname("BERTH_NODE_NAME");
  app.add_option("--data", flags.data_dir, "Agent data directory")
      ->capture_default_str()
      ->envname("BERTH_AGENT_DATA");
  app.add_option("--kernel", flags.kernel_dir,
                 "Directory with the guest vmlinuz and modules/ (default: .cache/kernel)")
      ->envname("BERTH_KERNEL_DIR");
  app.add_option("--init", flags.init_binary, "berth-init binary (default: next to this binary)");
  app.add_option("--busybox", flags.busybox, "Static busybox for the guest toolbox")
      ->capture_default_str();
  addAppLogFlag(app, flags, "--app-log-bytes");
  addNetworkFlags(app, flags);
  addIngressFlags(app, flags);
}

void addIngressFlags(CLI::App& app, AgentFlags& flags) {
  app.add_option(
         "--ingress", flags.ingress,
         "The HTTPS ingress for the apps' domains: caddy, none, or auto (caddy when installed)")
      ->check(CLI::IsMember({"auto", "caddy", "none"}))
      ->envname("BERTH_INGRESS")
      ->capture_default_str();
  app.add_option("--ingress-address", flags.ingress_address,
                 "IPv4 address the ingress listens on (default: every address of the node)")
      ->check(ipv4Address)
      ->capture_default_str();
  app.add_option("--ingress-http-port", flags.ingress_http_port,
                 "Port of the ingress's HTTP-to-HTTPS redirect")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  app.add_option("--ingress-https-port", flags.ingress_https_port,
                 "Port the ingress serves HTTPS on")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  app.add_option("--ingress-tls", flags.ingress_tls,
                 "Where the ingress's certificates come from: acme (Let's Encrypt; the domains "
                 "must reach this "
                 "node on ports 80/443) or internal (its own CA, for development and tests: berth "
                 "domain ca)")
      ->check(CLI::IsMember({"acme", "internal"}))
      ->capture_default_str();
  app.add_option("--acme-email", flags.acme_email, "Contact address given to the ACME CA");
}

void addNetworkFlags(CLI::App& app, AgentFlags& flags) {
  app.add_option("--publish-address", flags.publish_address,
                 "IPv4 address the apps' published ports listen on (0.0.0.0: every address)")
      ->check(ipv4Address)
      ->envname("BERTH_PUBLISH_ADDRESS")
      ->capture_default_str();
  app.add_option(
         "--network", flags.network,
         "How VMs are networked: bridged (a bridge per project, nftables; needs CAP_NET_ADMIN), "
         "user "
         "(QEMU user mode, restricted: no VM reaches another), or auto (bridged when possible)")
      ->check(CLI::IsMember({"auto", "bridged", "user"}))
      ->envname("BERTH_NETWORK")
      ->capture_default_str();
  app.add_option("--deny-egress", flags.deny_egress,
                 "An IPv4 range no guest may reach whatever its project's egress (repeatable; "
                 "link-local and "
                 "loopback always are)")
      ->envname("BERTH_DENY_EGRESS");
  app.add_option("--underlay-address", flags.underlay_address,
                 "This node's IPv4 address that other nodes reach, over which a project's network "
                 "spans nodes (VXLAN, UDP 4789); none: project networks stay on this node")
      ->envname("BERTH_UNDERLAY_ADDRESS");
  app.add_option("--underlay-mtu", flags.underlay_mtu,
                 "MTU of the link carrying --underlay-address; guests get 50 bytes less, so a "
                 "frame crosses a tunnel whole")
      ->check(CLI::Range(1280, 65535))
      ->capture_default_str();
}

void addAppLogFlag(CLI::App& app, AgentFlags& flags, const std::string& name) {
  app.add_option(name, flags.app_log_bytes,
                 "App output kept on the node, per app and VM: a log of up to this many bytes and "
                 "its rotated "
                 "predecessor (it survives app restarts)")
      ->envname("BERTH_APP_LOG_BYTES")
      ->check(CLI::Range(std::uint64_t{64} << 10, std::uint64_t{1} << 30))
      ->capture_default_str();
}

Result<std::unique_ptr<Agent>> startAgent(AgentFlags flags,
                                          std::unique_ptr<client::ApiClient> api) {
  if (!api) {
    if (flags.server.empty()) return invalidArgument("--server is required");
    std::string token = flags.token;
    if (token.empty()) {
      if (flags.token_file.empty()) return invalidArgument("--token-file is required");
      auto text = os::readFile(flags.token_file);
      if (!text.isOk()) return invalidArgument("cannot read token file " + flags.token_file);
      token = *text;
      while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
    }
    BERTH_ASSIGN_OR_RETURN(api, client::ApiClient::create(flags.server, token));
  }
  const std::string kernel_dir = flags.kernel_dir.empty() ? defaultKernelDir() : flags.kernel_dir;
  const fs::path self = selfDir();
  AgentOptions options;
  options.node_name = flags.name;
  options.data_dir = fs::absolute(flags.data_dir).string();
  options.kernel = kernel_dir + "/vmlinuz";
  options.modules_dir = kernel_dir + "/modules";
  options.init_binary = flags.init_binary.empty()
                            ? firstExisting({self / "berth-init", self / "../guest/berth-init",
                                             self / "../lib/berth/berth-init"})
                            : flags.init_binary;
  options.busybox = flags.busybox;
  options.app_log_bytes = flags.app_log_bytes;
  options.publish_address = flags.publish_address;
  options.agent_binary = firstExisting({self / "berth-agent", self / "../agent/berth-agent"});
  BERTH_ASSIGN_OR_RETURN(std::unique_ptr<VmNetwork> network,
                         chooseNetwork(flags, Paths(options.data_dir).netDir()));
  RuntimeRegistry runtimes(options.node_name);
  BERTH_RETURN_IF_ERROR(runtimes.add(std::make_unique<QemuRuntime>(probeQemuHost())));
  BERTH_ASSIGN_OR_RETURN(std::unique_ptr<Ingress> ingress,
                         chooseIngress(flags, Paths(options.data_dir).ingressDir()));
  auto agent =
      std::make_unique<Agent>(options, std::move(api), std::move(runtimes), std::move(network),
                              SystemClock::instance(), std::move(ingress));
  BERTH_RETURN_IF_ERROR(agent->start());
  return agent;
}

}  // namespace berth::agent
