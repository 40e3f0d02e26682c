#include "dev/embedded_agent.h"

#include <spdlog/spdlog.h>

namespace berth::dev {

void addEmbeddedAgentFlags(CLI::App& app, agent::AgentFlags& flags) {
  app.add_option("--kernel", flags.kernel_dir,
                 "--dev: directory with the guest vmlinuz and modules/ (default: .cache/kernel)")
      ->envname("BERTH_KERNEL_DIR");
  app.add_option("--init", flags.init_binary,
                 "--dev: the static PID 1 put in every guest's initramfs (default: berth-init next "
                 "to berthd)")
      ->envname("BERTH_INIT");
  app.add_option("--agent-data", flags.data_dir,
                 "--dev: the embedded agent's data directory (default: <data>/agent)")
      ->envname("BERTH_AGENT_DATA");
  agent::addAppLogFlag(app, flags, "--app-log-bytes");
  agent::addNetworkFlags(app, flags);
  agent::addIngressFlags(app, flags);
}

Result<std::unique_ptr<agent::Agent>> startEmbeddedAgent(controlplane::Berthd& berthd,
                                                         agent::AgentFlags flags) {
  BERTH_ASSIGN_OR_RETURN(flags.token, berthd.localNodeToken(flags.name));
  flags.server = "http://" + berthd.address();
  if (flags.data_dir.empty()) flags.data_dir = berthd.paths().agentData();
  auto started = agent::startAgent(flags, nullptr);
  if (!started.isOk()) return started.status().withContext("cannot start the embedded agent");
  spdlog::info("berthd: embedded agent '{}' running VMs from {}", flags.name, flags.data_dir);
  return started;
}

}  // namespace berth::dev
