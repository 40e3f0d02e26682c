// berthd: the control plane, and under --dev an agent beside it in the same process.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "controlplane/berthd.h"
#include "dev/embedded_agent.h"

int main(int argc, char** argv) {
  int exit_code = 0;
  berth::agent::AgentFlags agent_flags;
  agent_flags.data_dir.clear();  // default: berthd's <data>/agent
  // A laptop's ports and no public name: the ingress beside the API's 7070 on loopback, with
  // its own CA.
  agent_flags.ingress_http_port = 7080;
  agent_flags.ingress_https_port = 7443;
  agent_flags.ingress_tls = "internal";
  agent_flags.ingress_address = "127.0.0.1";
  auto options = berth::controlplane::parseBerthdOptions(
      argc, argv, &exit_code,
      [&](CLI::App& app) { berth::dev::addEmbeddedAgentFlags(app, agent_flags); });
  if (!options.isOk()) {
    std::fprintf(exit_code == 0 ? stdout : stderr, "%s\n", options.status().message().c_str());
    return exit_code;
  }
  spdlog::set_level(spdlog::level::from_str(options->log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  // Block the stop signals before any thread starts so only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto berthd = berth::controlplane::Berthd::start(*options);
  if (!berthd.isOk()) {
    std::fprintf(stderr, "berthd: %s\n", berthd.status().message().c_str());
    return 1;
  }
  std::unique_ptr<berth::agent::Agent> agent;
  if (options->dev) {
    auto started = berth::dev::startEmbeddedAgent(**berthd, agent_flags);
    if (!started.isOk()) {
      std::fprintf(stderr, "berthd: %s\n", started.status().message().c_str());
      (*berthd)->stop();
      return 1;
    }
    agent = std::move(started).value();
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("berthd: received {}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  // The agent stops first: its VMs keep running and are adopted on the next start.
  if (agent) agent->stop();
  (*berthd)->stop();
  return 0;
}
