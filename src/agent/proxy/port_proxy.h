#pragma once
// Publishes an app's port on the host and moves it between app instances without a gap: a TCP
// proxy (kamal-proxy, one level down). It listens on 127.0.0.1:<listen_port> and forwards each
// accepted connection to one of its backends ("host:port": the node's 127.0.0.1 port QEMU
// forwards in user mode, the guest's own address when bridged), round-robin. A backend that
// refuses, errs or does not answer the connect within 2 s is skipped for that connection and the
// next one is tried; when every backend fails (or there are none) the client's connection is
// closed. A deploy calls setBackends with the new instances: connections already forwarded keep
// their backend until they end, new connections go to the new set.
//
// Bytes are copied as they come, both ways; an EOF from one side becomes a shutdown(SHUT_WR)
// towards the other while the opposite direction keeps flowing, so a client that half-closes
// still reads the reply. Any other error on either side closes both.
//
// Threading: each PortProxy runs its own io_context on its own thread; no callback ever reaches
// the caller. Every method may be called from any thread, concurrently.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace berth::agent {

// Where a proxy sends connections: "a.b.c.d:port".
using Backend = std::string;

class PortProxy {
 public:
  // Binds <address>:<listen_port> (SO_REUSEADDR) before returning, so a port in use is the
  // caller's error: failed_precondition naming the port (permission_denied for a privileged one
  // without the right; invalid_argument outside 0..65535 or for an address that is not IPv4).
  // Port 0 picks a free port: see listenPort(). A backend that is not "a.b.c.d:port" is never
  // reachable and counts as failing.
  static Result<std::unique_ptr<PortProxy>> start(int listen_port, std::vector<Backend> backends,
                                                  const std::string& address = "127.0.0.1");

  // Stops accepting, closes every connection (its client and its backend) and joins the thread.
  // Data still in flight is dropped.
  ~PortProxy();
  PortProxy(const PortProxy&) = delete;
  PortProxy& operator=(const PortProxy&) = delete;

  // Replaces the backends for connections accepted from now on; the order is the round-robin
  // order. An empty list makes new connections close at once.
  void setBackends(std::vector<Backend> backends);
  std::vector<Backend> backends() const;

  // The bound port (the one chosen by the kernel when started with 0).
  int listenPort() const;

  // Client connections accepted and not yet closed, including those still connecting upstream.
  std::size_t activeConnections() const;
  // Connections established to `backend` and not yet closed: a backend taken out of the list
  // is drained once this is 0.
  std::size_t connectionsTo(const Backend& backend) const;

 private:
  struct Impl;
  explicit PortProxy(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::agent
