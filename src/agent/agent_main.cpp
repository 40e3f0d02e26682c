// berth-agent: the node daemon (`berth-agent --server URL --token-file F`), and the process that
// publishes one app port (`berth-agent proxy [ADDRESS:]PORT SOCKET [BACKEND...]`).

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "agent/agent_setup.h"
#include "agent/proxy/port_publisher.h"

int main(int argc, char** argv) {
  if (argc >= 4 && std::string(argv[1]) == "proxy") {
    std::vector<berth::agent::Backend> backends(argv + 4, argv + argc);
    return berth::agent::PortPublisher::runProxy(argv[2], argv[3], backends);
  }

  CLI::App app{"berth-agent: runs a node's VMs for berthd"};
  berth::agent::AgentFlags flags;
  berth::agent::addAgentFlags(app, flags);
  app.footer(
      "Example:\n  berth-agent --server http://10.0.0.1:7070 --token-file /etc/berth/node.token "
      "--name node-1");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  // Blocked before any thread starts, so only sigwait below sees them.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  auto agent = berth::agent::startAgent(flags, nullptr);
  if (!agent.isOk()) {
    std::fprintf(stderr, "berth-agent: %s\n", agent.status().message().c_str());
    return 1;
  }
  int sig = 0;
  sigwait(&mask, &sig);
  spdlog::info("berth-agent: stopping (VMs keep running)");
  (*agent)->stop();
  return 0;
}
