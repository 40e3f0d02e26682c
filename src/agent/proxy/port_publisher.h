#pragma once
// Published ports outlive the agent: each is a `berth-agent proxy` process of its own (a
// PortProxy behind a control socket), so an agent or berthd that restarts, or is killed, never
// drops an app's traffic. The agent tells a port's process which backends to use; a restarted
// agent finds the processes again by their sockets.
//
// Control protocol, one line per connection on <dir>/<port>.sock:
//   "set B1 B2 ...\n" -> "ok\n"   (new connections go to backends B1, B2, ... ("a.b.c.d:port")
//   round-robin) "count B\n"       -> "ok N\n" (connections open to backend B: draining is over at
//   0) "stop\n"          -> "ok\n"   (the process exits)
// A proxy whose socket is gone (the agent's data directory removed) exits within 5 s.
//
// Not thread-safe: the agent's loop is its only caller.

#include <string>
#include <vector>

#include "agent/proxy/port_proxy.h"
#include "common/result.h"

namespace berth::agent {

class PortPublisher {
 public:
  // `agent_binary` is run as `<agent_binary> proxy ...`; `dir` holds the sockets and logs;
  // ports are published on `address` (berth-agent --publish-address).
  PortPublisher(std::string agent_binary, std::string dir, std::string address = "127.0.0.1");

  // <address>:<port> forwards new connections to `backends` once this returns OK; the port's
  // process is started if none answers. A port taken by something else is an error naming it.
  Status publish(int port, const std::vector<Backend>& backends);
  // Stops the port's process; a port not published is not an error.
  Status unpublish(int port);
  // Connections through `port` still open to `backend`.
  Result<std::size_t> connectionsTo(int port, const Backend& backend) const;
  // Ports whose process has a socket in `dir` (ones a previous agent left included).
  std::vector<int> published() const;

  // The proxy process itself: serves `listen` ("PORT" on 127.0.0.1, or "ADDRESS:PORT") until
  // told to stop. Returns its exit status.
  static int runProxy(const std::string& listen, const std::string& control_socket,
                      const std::vector<Backend>& backends);

 private:
  Result<std::string> request(int port, const std::string& line) const;
  Status spawn(int port, const std::vector<Backend>& backends);
  std::string socketPath(int port) const;
  std::string logPath(int port) const;

  std::string agent_binary_;
  std::string dir_;
  std::string address_;
};

}  // namespace berth::agent
