// berth-agent: the node daemon (`berth-agent --server URL --token-file F`), the per-VM image
// relay QEMU runs for each guest connection to 10.0.2.100:80 (`berth-agent serve-image DIR`), and
// the process that publishes one app port (`berth-agent proxy PORT SOCKET [BACKEND...]`).

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "agent/agent_setup.h"
#include "agent/proxy/port_publisher.h"
#include "common/crypto.h"

namespace {

// One request line "sha256:<64 hex>\n" from the guest, answered with the file's bytes. The
// guest is hostile: the line is bounded and must be exactly a digest, so it names a file in
// DIR and nothing else.
int serveImage(const std::string& dir) {
  std::string line;
  char c;
  while (line.size() <= 72 && ::read(0, &c, 1) == 1 && c != '\n') line.push_back(c);
  if (!berth::isSha256Digest(line)) {
    return 1;
  }
  int fd = ::open((dir + "/" + line.substr(7)).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 1;
  struct stat st{};
  ::fstat(fd, &st);
  off_t offset = 0;
  while (offset < st.st_size) {
    ssize_t n = ::sendfile(1, fd, &offset, static_cast<size_t>(st.st_size - offset));
    if (n <= 0) return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "serve-image") return serveImage(argv[2]);
  if (argc >= 4 && std::string(argv[1]) == "proxy") {
    std::vector<int> backends;
    for (int i = 4; i < argc; ++i) backends.push_back(std::atoi(argv[i]));
    return berth::agent::PortPublisher::runProxy(std::atoi(argv[2]), argv[3], backends);
  }

  CLI::App app{"berth-agent: runs a node's VMs for berthd"};
  berth::agent::AgentFlags flags;
  berth::agent::addAgentFlags(app, flags);
  app.footer("Example:\n  berth-agent --server http://10.0.0.1:7070 --token-file /etc/berth/node.token --name node-1");
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
