#pragma once
// berthd's HTTP/1.1 server. A few event-loop threads (one per core) read requests and write
// responses asynchronously; a request the API calls quick (a GET that only reads the store) is
// handled right there, which keeps a busy keep-alive connection free of thread hand-offs. Every
// other request may block (a durable write waits for its group commit, long-polls and SSE
// streams wait for news) and runs on a BlockingPool thread, its response written back by the
// loop (or, for a stream, from that thread). Connections are capped.
//
// Shutdown is graceful: the listener closes, requests already received are answered, idle
// keep-alive connections are closed, streams see stopping() and end.

#include <chrono>
#include <cstdint>
#include <functional>
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
  // Event-loop threads; 0 means one per core (at least two).
  unsigned loop_threads = 0;
  // True for a request whose handler never blocks: it then runs on the event loop. Unset, every
  // request runs on the blocking pool.
  std::function<bool(const HttpRequest&)> is_quick;
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
