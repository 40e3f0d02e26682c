#include "controlplane/http/http_server.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace berth::controlplane {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxHeaderBytes = 16 * 1024;
// After refusing a request mid-upload, how much more of it to read and discard so the client
// (still sending) gets the error response instead of a connection reset.
constexpr size_t kMaxLingerBytes = 64 << 20;
constexpr int kLingerSeconds = 5;

class BeastServer;

class ChunkWriter final : public StreamWriter {
 public:
  ChunkWriter(tcp::socket& socket, const std::atomic<bool>& stopping) : socket_(socket), stopping_(stopping) {}
  bool write(const std::string& chunk) override {
    if (failed_) return false;
    beast::error_code ec;
    asio::write(socket_, http::make_chunk(asio::buffer(chunk)), ec);
    failed_ = static_cast<bool>(ec);
    return !failed_;
  }
  bool stopping() const override { return stopping_.load(); }
  bool failed() const { return failed_; }

 private:
  tcp::socket& socket_;
  const std::atomic<bool>& stopping_;
  bool failed_ = false;
};

HttpRequest toRequest(const http::request<http::string_body>& req, const std::string& remote) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  std::string target(req.target());
  size_t q = target.find('?');
  out.path = percentDecode(target.substr(0, q), false);
  if (q != std::string::npos) out.query = parseQuery(target.substr(q + 1));
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
  }
  out.body = req.body();
  out.remote_address = remote;
  return out;
}

class BeastServer final : public HttpServer {
 public:
  BeastServer(const HttpServerOptions& options, HttpHandler handler)
      : options_(options), handler_(std::move(handler)), acceptor_(ioc_) {}

  ~BeastServer() override { shutdown(std::chrono::seconds(5)); }

  Status listen() {
    beast::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) return invalidArgument("listen address '" + options_.host + "' is not an IP address");
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return unavailable("cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " +
                         ec.message());
    }
    auto local = acceptor_.local_endpoint();
    bound_ = local.address().to_string() + ":" + std::to_string(local.port());
    accept();
    io_thread_ = std::thread([this] { ioc_.run(); });
    return Status::ok();
  }

  std::string boundAddress() const override { return bound_; }

  size_t openConnections() const override {
    std::lock_guard lock(mu_);
    return connections_.size();
  }

  void shutdown(std::chrono::seconds grace) override {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
      // Idle keep-alive connections are blocked in read: wake them so they close.
      for (auto& [id, conn] : connections_) {
        if (conn.idle) ::shutdown(conn.fd, SHUT_RD);
      }
    }
    asio::post(ioc_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    if (io_thread_.joinable()) io_thread_.join();
    std::unique_lock lock(mu_);
    if (!drained_.wait_for(lock, grace, [this] { return connections_.empty(); })) {
      for (auto& [id, conn] : connections_) ::shutdown(conn.fd, SHUT_RDWR);
      drained_.wait(lock, [this] { return connections_.empty(); });
    }
  }

 private:
  struct Connection {
    int fd;
    bool idle;
  };

  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (!acceptor_.is_open()) return;
      } else {
        admit(std::move(socket));
      }
      accept();
    });
  }

  void admit(tcp::socket socket) {
    uint64_t id;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      if (connections_.size() >= options_.max_connections) {
        rejectBusy(socket);
        return;
      }
      id = next_id_++;
      connections_[id] = Connection{socket.native_handle(), true};
    }
    std::thread([this, id, s = std::move(socket)]() mutable { serve(id, s); }).detach();
  }

  static void rejectBusy(tcp::socket& socket) {
    http::response<http::string_body> res{http::status::service_unavailable, 11};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::retry_after, "1");
    res.body() = jsonError(503, "unavailable", "too many open connections; retry later").body;
    res.keep_alive(false);
    res.prepare_payload();
    beast::error_code ec;
    http::write(socket, res, ec);
  }

  // Marks the connection busy (false) or idle (true); returns false if the server is stopping
  // and an idle connection should close instead of waiting for another request.
  bool setIdle(uint64_t id, bool idle) {
    std::lock_guard lock(mu_);
    connections_[id].idle = idle;
    return !(idle && stopping_);
  }

  static bool isUpload(const http::request<http::string_body>& req) {
    if (req.method() != http::verb::post) return false;
    std::string_view target(req.target().data(), req.target().size());
    target = target.substr(0, target.find('?'));
    constexpr std::string_view kSuffix = "/blobs";
    return target.size() > kSuffix.size() && target.substr(target.size() - kSuffix.size()) == kSuffix;
  }

  void serve(uint64_t id, tcp::socket& socket) {
    std::string remote;
    beast::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string();
    timeval tv{static_cast<time_t>(options_.idle_timeout.count()), 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    beast::flat_buffer buffer;
    while (setIdle(id, true)) {
      http::request_parser<http::string_body> parser;
      size_t body_limit = options_.max_body_bytes;
      parser.body_limit(body_limit);
      parser.header_limit(kMaxHeaderBytes);
      http::read_header(socket, buffer, parser, ec);
      if (!ec) {
        if (isUpload(parser.get())) {
          body_limit = options_.max_upload_bytes;
          parser.body_limit(body_limit);
        }
        http::read(socket, buffer, parser, ec);
      }
      if (ec == http::error::body_limit) {
        writeError(socket, 413, "payload_too_large",
                   "request body exceeds the limit of " + std::to_string(body_limit) + " bytes");
        break;
      }
      if (ec == http::error::header_limit) {
        writeError(socket, 431, "invalid_argument", "request headers exceed 16 KiB");
        break;
      }
      if (ec == http::error::end_of_stream || ec) {
        if (ec != http::error::end_of_stream && ec != asio::error::connection_reset && buffer.size() > 0) {
          writeError(socket, 400, "invalid_argument", "malformed HTTP request: " + ec.message());
        }
        break;
      }
      setIdle(id, false);
      auto& req = parser.get();
      HttpRequest request = toRequest(req, remote);
      request.server_stopping = [this] { return stopping_.load(); };
      HttpResponse response = handler_(request);
      bool keep_alive = req.keep_alive() && !stopping_.load() && !response.stream;
      if (!writeResponse(socket, response, keep_alive, req.version()) || !keep_alive) break;
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
    std::lock_guard lock(mu_);
    connections_.erase(id);
    if (connections_.empty()) drained_.notify_all();
  }

  // Answers, then drains what the client is still sending (bounded in bytes and time) before the
  // connection closes: closing with unread data would make the kernel reset the connection, and
  // a client busy uploading would see the reset instead of the answer.
  void writeError(tcp::socket& socket, int status, const char* code, const std::string& message) {
    writeResponse(socket, jsonError(status, code, message), false, 11);
    beast::error_code ec;
    socket.shutdown(tcp::socket::shutdown_send, ec);
    timeval tv{kLingerSeconds, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char sink[65536];
    for (size_t drained = 0; drained < kMaxLingerBytes;) {
      size_t n = socket.read_some(asio::buffer(sink), ec);
      if (ec) break;
      drained += n;
    }
  }

  bool writeResponse(tcp::socket& socket, const HttpResponse& r, bool keep_alive, unsigned version) {
    beast::error_code ec;
    if (r.stream) {
      http::response<http::empty_body> head{static_cast<http::status>(r.status), version};
      head.set(http::field::content_type, r.content_type);
      head.set(http::field::cache_control, "no-cache");
      for (const auto& [k, v] : r.headers) head.set(k, v);
      head.chunked(true);
      head.keep_alive(false);
      http::response_serializer<http::empty_body> sr{head};
      http::write_header(socket, sr, ec);
      if (ec) return false;
      ChunkWriter writer(socket, stopping_);
      r.stream(writer);
      if (!writer.failed()) asio::write(socket, http::make_chunk_last(), ec);
      return false;
    }
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "berthd");
    if (!r.body.empty() || r.status != 204) res.set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.body() = r.body;
    res.keep_alive(keep_alive);
    res.prepare_payload();
    http::write(socket, res, ec);
    return !ec;
  }

  const HttpServerOptions options_;
  const HttpHandler handler_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread io_thread_;
  std::string bound_;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;
  std::condition_variable drained_;
  std::map<uint64_t, Connection> connections_;
  uint64_t next_id_ = 0;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpServerOptions& options, HttpHandler handler) {
  auto server = std::make_unique<BeastServer>(options, std::move(handler));
  BERTH_RETURN_IF_ERROR(server->listen());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace berth::controlplane
