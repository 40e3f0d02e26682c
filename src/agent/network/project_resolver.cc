#include "agent/network/project_resolver.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "os/file_util.h"
#include "os/run_command.h"

namespace berth::agent {
namespace {

struct ResolverFiles {
  std::string hosts, pid, log;
};

ResolverFiles filesOf(const std::string& state_dir, const std::string& bridge) {
  const std::string base = state_dir + "/" + bridge;
  return {base + ".hosts", base + ".pid", base + ".log"};
}

std::vector<std::string> dnsmasqArgv(const ResolverFiles& files, const BridgePlan& bridge) {
  std::vector<std::string> argv = {
      "dnsmasq",
      "--conf-file=/dev/null",
      "--interface=" + bridge.bridge,
      // dnsmasq adds loopback to any --interface unless told not to: the bridge's address only.
      "--except-interface=lo",
      "--bind-interfaces",
      "--listen-address=" + bridge.gateway,
      "--no-hosts",
      "--addn-hosts=" + files.hosts,
      // Names under .internal are the project's alone: never asked of anyone else.
      "--local=/internal/",
      "--domain-needed",
      "--bogus-priv",
      "--no-dhcp-interface=" + bridge.bridge,
      "--pid-file=" + files.pid,
      "--log-facility=" + files.log,
      "--user=root",
      "--cache-size=1000",
  };
  // A project that may not reach outside gets no upstream: its names, and nothing else.
  if (!bridge.egress) argv.push_back("--no-resolv");
  return argv;
}

std::string hostsFile(const BridgePlan& bridge) {
  std::string out;
  for (const model::NetworkHost& host : bridge.hosts) out += host.address + " " + host.name + "\n";
  return out;
}

std::string joined(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& arg : argv) out += arg + "\n";
  return out;
}

std::string netnsOf(const std::string& proc) {
  char target[64] = {};
  const ssize_t n = ::readlink((proc + "/ns/net").c_str(), target, sizeof target - 1);
  return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : std::string();
}

// The dnsmasq serving `bridge` in this thread's network namespace, found by its command line
// rather than a pid file: one a predecessor started from another data directory still holds
// the bridge's address, and must be found to be replaced. (Another agent's, in another network
// namespace, may serve a bridge of the same name: it is not ours.)
pid_t runningPid(const std::string& bridge) {
  const std::string own_netns = netnsOf("/proc/thread-self");
  const std::string marker = std::string("--interface=") + bridge + '\0';
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return 0;
  pid_t found = 0;
  while (dirent* entry = ::readdir(proc)) {
    const std::string name = entry->d_name;
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto cmdline = os::readFile("/proc/" + name + "/cmdline");
    if (!cmdline.isOk() || cmdline->find(marker) == std::string::npos) continue;
    const std::string program = cmdline->substr(0, cmdline->find('\0'));
    if (program.substr(program.rfind('/') + 1) != "dnsmasq" ||
        netnsOf("/proc/" + name) != own_netns)
      continue;
    found = static_cast<pid_t>(std::stol(name));
    break;
  }
  ::closedir(proc);
  return found;
}

// What the running resolver was started with: its command line, one argument per line.
std::string argsOf(pid_t pid) {
  auto cmdline = os::readFile("/proc/" + std::to_string(pid) + "/cmdline");
  if (!cmdline.isOk()) return "";
  std::string out = *cmdline;
  std::replace(out.begin(), out.end(), '\0', '\n');
  return out;
}

void stopPid(pid_t pid) {
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 100 && ::kill(pid, 0) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
}

}  // namespace

Status ensureResolver(const std::string& state_dir, const BridgePlan& bridge) {
  const ResolverFiles files = filesOf(state_dir, bridge.bridge);
  const std::vector<std::string> argv = dnsmasqArgv(files, bridge);
  const std::string hosts = hostsFile(bridge);
  auto old_hosts = os::readFile(files.hosts);
  const bool hosts_changed = !old_hosts.isOk() || *old_hosts != hosts;
  if (hosts_changed) BERTH_RETURN_IF_ERROR(os::writeFileAtomic(files.hosts, hosts, 0600));

  pid_t pid = runningPid(bridge.bridge);
  if (pid > 0 && argsOf(pid) != joined(argv)) {
    stopPid(pid);
    pid = 0;
  }
  if (pid > 0) {
    if (hosts_changed) ::kill(pid, SIGHUP);
    return Status::ok();
  }
  // dnsmasq forks into the background once it listens; its exit status says whether it could.
  return os::runCommand(argv).withContext("cannot start the resolver of project " + bridge.project);
}

void stopResolver(const std::string& state_dir, const std::string& bridge) {
  const ResolverFiles files = filesOf(state_dir, bridge);
  if (pid_t pid = runningPid(bridge); pid > 0) stopPid(pid);
  for (const std::string& path : {files.hosts, files.pid, files.log}) ::unlink(path.c_str());
}

}  // namespace berth::agent
