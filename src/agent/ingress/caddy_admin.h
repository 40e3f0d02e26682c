#pragma once
// One HTTP/1.1 request to Caddy's admin API over its unix socket, bounded in time and in the
// size of the answer (Caddy is ours, but a wedged one must not wedge the agent).

#include <chrono>
#include <string>

#include "common/result.h"

namespace berth::agent {

struct AdminReply {
  int status = 0;
  std::string body;
};

// `method` "GET" or "POST" (a JSON `body`). Unavailable when nothing answers on the socket.
Result<AdminReply> caddyAdminRequest(const std::string& socket_path, const std::string& method,
                                     const std::string& target, const std::string& body,
                                     std::chrono::milliseconds timeout);

}  // namespace berth::agent
