#include "controlplane/http/http_server.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "controlplane/http/blocking_pool.h"

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
// An upload of up to 512 MiB may take longer than the idle timeout of one request.
constexpr std::chrono::minutes kUploadTimeout{30};

// Streams run on a pool thread with the socket to themselves, so plain blocking writes.
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

HttpRequest toRequest(http::request<http::string_body>& req, const std::string& remote) {
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
  out.body = std::move(req.body());
  out.remote_address = remote;
  return out;
}

// Reads and discards up to kMaxLingerBytes for up to kLingerSeconds. The fd may be in the
// non-blocking mode Asio gives sockets, so the deadline is kept with poll.
void drainBriefly(int fd) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kLingerSeconds);
  char sink[65536];
  for (size_t drained = 0; drained < kMaxLingerBytes;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
    ssize_t n = ::recv(fd, sink, sizeof sink, MSG_DONTWAIT);
    if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR))) return;
    if (n > 0) drained += static_cast<size_t>(n);
  }
}

bool isUpload(const http::request<http::string_body>& req) {
  if (req.method() != http::verb::post) return false;
  std::string_view target(req.target().data(), req.target().size());
  target = target.substr(0, target.find('?'));
  constexpr std::string_view kSuffix = "/blobs";
  return target.size() > kSuffix.size() && target.substr(target.size() - kSuffix.size()) == kSuffix;
}

std::shared_ptr<http::response<http::string_body>> toResponse(HttpResponse r, bool keep_alive, unsigned version) {
  auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version);
  res->set(http::field::server, "berthd");
  if (!r.body.empty() || r.status != 204) res->set(http::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) res->set(k, v);
  res->body() = std::move(r.body);
  res->keep_alive(keep_alive);
  res->prepare_payload();
  return res;
}

class AsioServer;

// One accepted connection. At most one operation is pending on it at any time (a read, a
// handler, a write), so its completion handlers never race and need no strand. It lives as
// long as some operation holds its shared_ptr.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(AsioServer& server, uint64_t id, tcp::socket socket);
  void start() { readRequest(); }

 private:
  // Declared first so it is destroyed last: the server counts the connection as open until
  // the socket and its timer are gone.
  struct Slot {
    AsioServer& server;
    uint64_t id;
    ~Slot();
  };

  void readRequest();
  void onHeader(beast::error_code ec);
  void onBody(beast::error_code ec);
  void handle(HttpRequest request, bool keep_alive, unsigned version);
  void write(HttpResponse response, bool keep_alive, unsigned version);
  void stream(const HttpResponse& response, unsigned version);
  void refuse(int status, const char* code, const std::string& message);
  void close();

  Slot slot_;
  AsioServer& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
  std::string remote_;
  size_t body_limit_ = 0;
};

class AsioServer final : public HttpServer {
 public:
  AsioServer(const HttpServerOptions& options, HttpHandler handler)
      : options_(options),
        handler_(std::move(handler)),
        acceptor_(acceptor_ioc_) {
    unsigned n = options.loop_threads ? options.loop_threads : std::max(2u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n; ++i) loops_.push_back(std::make_unique<Loop>());
  }

  ~AsioServer() override { shutdown(std::chrono::seconds(5)); }

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
    acceptor_thread_ = std::thread([this] { acceptor_ioc_.run(); });
    for (auto& loop : loops_) loop->thread = std::thread([&ioc = loop->ioc] { ioc.run(); });
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
      // Idle keep-alive connections wait in a read: end it so they close.
      for (auto& [id, conn] : connections_) {
        if (conn.idle) ::shutdown(conn.fd, SHUT_RD);
      }
    }
    asio::post(acceptor_ioc_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    if (acceptor_thread_.joinable()) acceptor_thread_.join();
    {
      std::unique_lock lock(mu_);
      if (!drained_.wait_for(lock, grace, [this] { return connections_.empty(); })) {
        for (auto& [id, conn] : connections_) ::shutdown(conn.fd, SHUT_RDWR);
        drained_.wait(lock, [this] { return connections_.empty(); });
      }
    }
    for (auto& loop : loops_) {
      loop->work.reset();
      if (loop->thread.joinable()) loop->thread.join();
    }
  }

  // Called by connections.
  const HttpServerOptions& options() const { return options_; }
  const HttpHandler& handler() const { return handler_; }
  BlockingPool& pool() { return pool_; }
  const std::atomic<bool>& stopping() const { return stopping_; }

  // Marks the connection idle (waiting for a request) or busy; false if the server is stopping
  // and an idle connection should close instead.
  bool setIdle(uint64_t id, bool idle) {
    std::lock_guard lock(mu_);
    connections_[id].idle = idle;
    return !(idle && stopping_);
  }

  void forget(uint64_t id) {
    std::lock_guard lock(mu_);
    connections_.erase(id);
    if (connections_.empty()) drained_.notify_all();
  }

 private:
  // One io_context per thread: a connection stays on its loop, so completions never cross
  // threads and the loops share no scheduler lock.
  struct Loop {
    asio::io_context ioc{1};
    asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(ioc);
    std::thread thread;
  };

  struct Tracked {
    int fd = -1;
    bool idle = true;
  };

  void accept() {
    auto& loop = *loops_[next_loop_++ % loops_.size()];
    acceptor_.async_accept(loop.ioc, [this](beast::error_code ec, tcp::socket socket) {
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
      connections_[id] = Tracked{socket.native_handle(), true};
    }
    beast::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    auto executor = socket.get_executor();
    asio::post(executor, [conn = std::make_shared<Connection>(*this, id, std::move(socket))] { conn->start(); });
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

  const HttpServerOptions options_;
  const HttpHandler handler_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::condition_variable drained_;
  std::map<uint64_t, Tracked> connections_;
  uint64_t next_id_ = 0;
  std::string bound_;
  asio::io_context acceptor_ioc_{1};
  tcp::acceptor acceptor_;
  std::thread acceptor_thread_;
  std::vector<std::unique_ptr<Loop>> loops_;
  size_t next_loop_ = 0;
  // Destroyed before the loops: its threads may still be releasing a connection.
  BlockingPool pool_;
};

Connection::Slot::~Slot() { server.forget(id); }

Connection::Connection(AsioServer& server, uint64_t id, tcp::socket socket)
    : slot_{server, id}, server_(server), stream_(std::move(socket)) {
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string();
}

void Connection::readRequest() {
  if (!server_.setIdle(slot_.id, true)) return close();
  parser_.emplace();
  // Beast checks a Content-Length against the limit while parsing the header, before we know
  // whether this is an upload: start from the larger limit and lower it once the target is known.
  body_limit_ = std::max(server_.options().max_body_bytes, server_.options().max_upload_bytes);
  parser_->body_limit(body_limit_);
  parser_->header_limit(kMaxHeaderBytes);
  stream_.expires_after(server_.options().idle_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) { self->onHeader(ec); });
}

void Connection::onHeader(beast::error_code ec) {
  if (!ec) {
    server_.setIdle(slot_.id, false);
    if (isUpload(parser_->get())) {
      body_limit_ = server_.options().max_upload_bytes;
      stream_.expires_after(kUploadTimeout);
    } else {
      body_limit_ = server_.options().max_body_bytes;
    }
    parser_->body_limit(body_limit_);
    if (parser_->content_length().value_or(0) > body_limit_) {
      ec = http::error::body_limit;
    } else if (!parser_->is_done()) {
      http::async_read(stream_, buffer_, *parser_,
                       [self = shared_from_this()](beast::error_code ec, size_t) { self->onBody(ec); });
      return;
    }
  }
  onBody(ec);
}

void Connection::onBody(beast::error_code ec) {
  if (ec == http::error::body_limit) {
    return refuse(413, "payload_too_large", "request body exceeds the limit of " + std::to_string(body_limit_) + " bytes");
  }
  if (ec == http::error::header_limit) return refuse(431, "invalid_argument", "request headers exceed 16 KiB");
  if (ec) {
    if (ec != http::error::end_of_stream && ec != asio::error::connection_reset && ec != beast::error::timeout &&
        ec != asio::error::eof && buffer_.size() > 0) {
      return refuse(400, "invalid_argument", "malformed HTTP request: " + ec.message());
    }
    return close();
  }
  stream_.expires_never();
  auto& req = parser_->get();
  HttpRequest request = toRequest(req, remote_);
  const auto& stopping = server_.stopping();
  request.server_stopping = [&stopping] { return stopping.load(); };
  const bool keep_alive = req.keep_alive();
  const unsigned version = req.version();
  parser_.reset();
  const auto& is_quick = server_.options().is_quick;
  if (is_quick && is_quick(request)) return handle(std::move(request), keep_alive, version);
  server_.pool().run([self = shared_from_this(), request = std::move(request), keep_alive, version]() mutable {
    self->handle(std::move(request), keep_alive, version);
  });
}

// Runs on the event loop for quick requests, on a pool thread otherwise.
void Connection::handle(HttpRequest request, bool keep_alive, unsigned version) {
  HttpResponse response = server_.handler()(request);
  if (!response.stream) return write(std::move(response), keep_alive, version);
  server_.pool().run([self = shared_from_this(), response = std::move(response), version] {
    self->stream(response, version);
  });
}

void Connection::write(HttpResponse response, bool keep_alive, unsigned version) {
  keep_alive = keep_alive && !server_.stopping().load();
  response_ = toResponse(std::move(response), keep_alive, version);
  // From a pool thread the write is handed to the loop; on the loop this runs it directly.
  asio::dispatch(stream_.get_executor(), [self = shared_from_this(), keep_alive] {
    self->stream_.expires_after(self->server_.options().idle_timeout);
    http::async_write(self->stream_, *self->response_, [self, keep_alive](beast::error_code ec, size_t) {
      self->response_.reset();
      if (ec || !keep_alive) return self->close();
      self->readRequest();
    });
  });
}

void Connection::stream(const HttpResponse& r, unsigned version) {
  auto& socket = stream_.socket();
  http::response<http::empty_body> head{static_cast<http::status>(r.status), version};
  head.set(http::field::content_type, r.content_type);
  head.set(http::field::cache_control, "no-cache");
  for (const auto& [k, v] : r.headers) head.set(k, v);
  head.chunked(true);
  head.keep_alive(false);
  http::response_serializer<http::empty_body> sr{head};
  beast::error_code ec;
  http::write_header(socket, sr, ec);
  if (!ec) {
    ChunkWriter writer(socket, server_.stopping());
    r.stream(writer);
    if (!writer.failed()) asio::write(socket, http::make_chunk_last(), ec);
  }
  close();
}

// Answers, then drains what the client is still sending (bounded in bytes and time) before the
// connection closes: closing with unread data would make the kernel reset the connection, and
// a client busy uploading would see the reset instead of the answer. Blocking, so on the pool.
void Connection::refuse(int status, const char* code, const std::string& message) {
  stream_.expires_never();
  server_.pool().run([self = shared_from_this(), status, code, message] {
    auto& socket = self->stream_.socket();
    auto res = toResponse(jsonError(status, code, message), false, 11);
    beast::error_code ec;
    http::write(socket, *res, ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
    drainBriefly(socket.native_handle());
    self->close();
  });
}

void Connection::close() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpServerOptions& options, HttpHandler handler) {
  auto server = std::make_unique<AsioServer>(options, std::move(handler));
  BERTH_RETURN_IF_ERROR(server->listen());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace berth::controlplane
