#pragma once
// A synchronous QMP client (QEMU Machine Protocol: JSON lines over the VM's unix socket).
// Asynchronous events that arrive while waiting for a command's answer are skipped.

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "os/unique_fd.h"

namespace berth::agent {

class QmpClient {
 public:
  // Connects, reads the greeting and negotiates capabilities.
  static Result<std::unique_ptr<QmpClient>> connect(const std::string& socket_path,
                                                    std::chrono::milliseconds timeout);
  // Runs a command; its "return" value, or the QMP error's description.
  Result<nlohmann::json> execute(const std::string& command,
                                 const nlohmann::json& arguments = nlohmann::json::object());
  // An HMP command through human-monitor-command (hostfwd_add has no QMP equivalent); its
  // output, which is empty on success.
  Result<std::string> human(const std::string& command_line);

 private:
  explicit QmpClient(os::UniqueFd fd) : fd_(std::move(fd)) {}
  Result<nlohmann::json> readMessage();
  os::UniqueFd fd_;
  std::string buffer_;
};

}  // namespace berth::agent
