#pragma once
// Where sessions relayed to agents (session_broker.h) must run. Exec needs a deployer and a
// running VM and is audited (`app.exec`, with its command); logs need a viewer; the console
// shows everything the guest prints, so it needs a deployer. Each answers with the VM and the
// node to relay to, or why there is none yet.
//
// Thread-safe: all state lives in the Store.

#include <string>
#include <vector>

#include "common/result.h"
#include "controlplane/service/service_context.h"

namespace berth::controlplane {

// Where a session (exec, logs, console) must run: the VM and the node that has it.
struct SessionTarget {
  std::string vm, node;
};

class SessionService {
 public:
  // `context` must outlive this.
  explicit SessionService(const ServiceContext& context) : ctx_(context) {}

  // `instance` names the VM of one of the app's instances; empty: the first of its VMs that runs.
  Result<SessionTarget> execTarget(const Principal& who, const std::string& project, const std::string& app,
                                   const std::vector<std::string>& command, const std::string& instance = "");
  Result<SessionTarget> logsTarget(const Principal& who, const std::string& project, const std::string& app,
                                   const std::string& instance = "");
  Result<SessionTarget> consoleTarget(const Principal& who, const std::string& project, const std::string& vm);

 private:
  const ServiceContext& ctx_;
};

}  // namespace berth::controlplane
