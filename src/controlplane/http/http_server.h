#pragma once
// berthd's HTTP/1.1 server. One thread per connection runs blocking reads and writes: handlers
// may block (a durable store write waits for its group commit), and SSE streams are long-lived,
// so a thread each keeps both simple; connections are capped.
//
// Shutdown is graceful: the listener closes, requests already received are answered, idle
// keep-alive connections are closed, streams see stopping() and end.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "controlplane/http/http_types.h"

namespace berth::controlplane {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 picks a free port; see boundAddress()
  size_t max_body_bytes = 1 << 20;
  // Uploads (POST …/blobs: app bundles) may be larger than API bodies.
  size_t max_upload_bytes = 512u << 20;
  size_t max_connections = 1024;
  std::chrono::seconds idle_timeout{120};
};

class HttpServer {
 public:
  // Binds and starts serving `handler` on background threads.
  static Result<std::unique_ptr<HttpServer>> start(const HttpServerOptions& options, HttpHandler handler);
  virtual ~HttpServer() = default;

  // "127.0.0.1:40123": the address actually bound.
  virtual std::string boundAddress() const = 0;
  // Stops accepting and waits up to `grace` for in-flight requests and streams to finish;
  // connections still open then are cut. Idempotent.
  virtual void shutdown(std::chrono::seconds grace) = 0;
  virtual size_t openConnections() const = 0;
};

}  // namespace berth::controlplane
