#include "agent/proxy/port_proxy.h"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace berth::agent {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// A backend that blackholes SYNs must not hold the client for the kernel's minutes of retries.
constexpr std::chrono::seconds kConnectTimeout{2};
// accept() failing on EMFILE/ENFILE/ENOBUFS would fail again at once: pause instead of spinning.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
// Per direction, so 64 KiB per connection.
constexpr std::size_t kBufferBytes = 32 * 1024;

// "a.b.c.d:port", or nothing: a backend that is not one counts as a failing one.
std::optional<tcp::endpoint> endpointOf(const std::string& backend) {
  const std::size_t colon = backend.rfind(':');
  if (colon == std::string::npos || colon + 1 == backend.size() || backend.size() - colon > 6)
    return std::nullopt;
  const std::string port_text = backend.substr(colon + 1);
  if (port_text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const int port = std::stoi(port_text);
  error_code ec;
  const auto address = asio::ip::make_address_v4(backend.substr(0, colon), ec);
  if (ec || port < 1 || port > 65535) return std::nullopt;
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

// Connections to each backend, from the moment one is headed for it (chosen, connecting) until
// it closes: what a backend being drained still holds.
class BackendCounts {
 public:
  void add(const Backend& backend) {
    std::lock_guard lock(mu_);
    ++open_[backend];
  }
  void remove(const Backend& backend) {
    std::lock_guard lock(mu_);
    if (auto it = open_.find(backend); it != open_.end() && --it->second == 0) open_.erase(it);
  }
  std::size_t get(const Backend& backend) const {
    std::lock_guard lock(mu_);
    auto it = open_.find(backend);
    return it == open_.end() ? 0 : it->second;
  }

 private:
  mutable std::mutex mu_;
  std::map<Backend, std::size_t> open_;
};

// One client connection: connects upstream, trying the backends in the order given, then copies
// bytes both ways. It lives as long as one of its operations is pending (each holds its
// shared_ptr); all of them run on the proxy's one thread, so it needs no lock.
class Session : public std::enable_shared_from_this<Session> {
 public:
  // `order[0]`, if any, was counted when the order was chosen (Impl::nextOrder).
  Session(tcp::socket client, std::vector<Backend> order, int listen_port,
          std::atomic<std::size_t>& active, BackendCounts& counts)
      : client_(std::move(client)),
        upstream_(client_.get_executor()),
        timer_(client_.get_executor()),
        order_(std::move(order)),
        listen_port_(listen_port),
        active_(active),
        counts_(counts),
        counted_(order_.empty() ? Backend() : order_[0]) {
    ++active_;
  }
  ~Session() {
    --active_;
    if (!order_.empty()) counts_.remove(counted_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start() { connectNext(); }

 private:
  using Buffer = std::array<char, kBufferBytes>;

  void connectNext();
  void onConnected(const error_code& ec, const Backend& backend);
  void pump(tcp::socket& from, tcp::socket& to, Buffer& buffer);
  void closeBoth();

  tcp::socket client_;
  tcp::socket upstream_;
  asio::steady_timer timer_;
  std::vector<Backend> order_;
  std::size_t tried_ = 0;
  // Bumped when a connect attempt ends: a timer that fired just as its attempt completed must
  // not close the socket of the next attempt (or of the established connection).
  unsigned attempt_ = 0;
  const int listen_port_;
  std::atomic<std::size_t>& active_;
  BackendCounts& counts_;
  Backend counted_;  // the backend this connection is counted against: the one it tries or reached
  Buffer to_upstream_;
  Buffer to_client_;
};

void Session::connectNext() {
  if (tried_ == order_.size()) {
    spdlog::warn("port proxy {}: no backend took the connection ({} tried); closing it",
                 listen_port_, tried_);
    return closeBoth();
  }
  const Backend backend = order_[tried_++];
  if (backend != counted_) {
    counts_.remove(counted_);
    counts_.add(backend);
    counted_ = backend;
  }
  const std::optional<tcp::endpoint> endpoint = endpointOf(backend);
  if (!endpoint) return connectNext();
  error_code ignored;
  upstream_.close(
      ignored);  // a failed connect leaves the socket unusable; async_connect reopens it
  timer_.expires_after(kConnectTimeout);
  timer_.async_wait([self = shared_from_this(), attempt = attempt_](const error_code& ec) {
    error_code ignored;
    if (!ec && attempt == self->attempt_)
      self->upstream_.close(ignored);  // the connect ends aborted
  });
  upstream_.async_connect(*endpoint, [self = shared_from_this(), backend](const error_code& ec) {
    self->onConnected(ec, backend);
  });
}

void Session::onConnected(const error_code& ec, const Backend& backend) {
  ++attempt_;
  timer_.cancel();
  if (ec) {
    spdlog::debug(
        "port proxy {}: backend {} failed: {}", listen_port_, backend,
        ec == asio::error::operation_aborted ? std::string("connect timed out") : ec.message());
    return connectNext();
  }
  error_code ignored;
  upstream_.set_option(tcp::no_delay(true), ignored);
  pump(client_, upstream_, to_upstream_);
  pump(upstream_, client_, to_client_);
}

// Copies one direction until `from` ends. An EOF ends only this direction: `to` is shut for
// sending, so its peer sees the EOF, and the other direction keeps running (a client may
// half-close and still read the reply). The session ends when both directions have. Any error
// (reset, write to a closed peer) ends both, as the connection is broken.
void Session::pump(tcp::socket& from, tcp::socket& to, Buffer& buffer) {
  from.async_read_some(asio::buffer(buffer), [self = shared_from_this(), &from, &to, &buffer](
                                                 const error_code& ec, std::size_t n) {
    if (ec == asio::error::eof) {
      error_code ignored;
      to.shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    if (ec) return self->closeBoth();
    asio::async_write(to, asio::buffer(buffer.data(), n),
                      [self, &from, &to, &buffer](const error_code& ec, std::size_t) {
                        if (ec) return self->closeBoth();
                        self->pump(from, to, buffer);
                      });
  });
}

// Pending operations complete with operation_aborted and let go of the session.
void Session::closeBoth() {
  error_code ignored;
  client_.close(ignored);
  upstream_.close(ignored);
  timer_.cancel();
}

Status listenError(const std::string& address, int port, const error_code& ec) {
  std::string message =
      "cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message();
  if (ec == asio::error::address_in_use) return failedPrecondition(std::move(message));
  if (ec == asio::error::access_denied) return permissionDenied(std::move(message));
  return unavailable(std::move(message));
}

}  // namespace

struct PortProxy::Impl {
  // Stopping the loop first means no handler runs while the members go; the io_context then
  // destroys the pending handlers, and with them the sessions and their sockets. Sessions
  // decrement `active` as they go, so it is declared before `io`, and outlives it.
  ~Impl() {
    io.stop();
    if (thread.joinable()) thread.join();
  }

  // The backends in the order this connection tries them: round-robin start, then the rest.
  // The first is counted here, under the lock that setBackends takes: once setBackends returns,
  // every connection headed for an old backend shows in connectionsTo().
  std::vector<Backend> nextOrder() {
    std::lock_guard lock(mu);
    std::vector<Backend> order;
    order.reserve(backends.size());
    for (std::size_t i = 0; i < backends.size(); ++i)
      order.push_back(backends[(next + i) % backends.size()]);
    ++next;
    if (!order.empty()) counts.add(order[0]);
    return order;
  }

  // Always leaves an accept or a retry pending, which keeps io.run() going until stop().
  void accept() {
    acceptor.async_accept([this](const error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        spdlog::warn("port proxy {}: accept failed: {}", port, ec.message());
        retry.expires_after(kAcceptRetryDelay);
        retry.async_wait([this](const error_code& ec) {
          if (!ec) accept();
        });
        return;
      }
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), nextOrder(), port, active, counts)->start();
      accept();
    });
  }

  mutable std::mutex mu;
  std::vector<Backend> backends;  // guarded by mu
  std::size_t next = 0;           // guarded by mu: connections accepted, for the round-robin start
  std::atomic<std::size_t> active{0};
  BackendCounts counts;
  int port = 0;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::steady_timer retry{io};
  std::thread thread;
};

Result<std::unique_ptr<PortProxy>> PortProxy::start(int listen_port, std::vector<Backend> backends,
                                                    const std::string& address) {
  if (listen_port < 0 || listen_port > 65535) {
    return invalidArgument("listen port " + std::to_string(listen_port) + " is outside 0..65535");
  }
  error_code parsed;
  const auto ip = asio::ip::make_address_v4(address, parsed);
  if (parsed) return invalidArgument("cannot publish on '" + address + "': not an IPv4 address");
  auto impl = std::make_unique<Impl>();
  impl->backends = std::move(backends);
  const tcp::endpoint endpoint(ip, static_cast<unsigned short>(listen_port));
  error_code ec;
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return listenError(address, listen_port, ec);
  impl->port = impl->acceptor.local_endpoint(ec).port();
  if (ec) return listenError(address, listen_port, ec);
  impl->accept();
  impl->thread = std::thread([io = &impl->io] { io->run(); });
  return std::unique_ptr<PortProxy>(new PortProxy(std::move(impl)));
}

PortProxy::PortProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PortProxy::~PortProxy() = default;

void PortProxy::setBackends(std::vector<Backend> backends) {
  std::lock_guard lock(impl_->mu);
  impl_->backends = std::move(backends);
}

std::vector<Backend> PortProxy::backends() const {
  std::lock_guard lock(impl_->mu);
  return impl_->backends;
}

int PortProxy::listenPort() const { return impl_->port; }

std::size_t PortProxy::activeConnections() const { return impl_->active.load(); }

std::size_t PortProxy::connectionsTo(const Backend& backend) const {
  return impl_->counts.get(backend);
}

}  // namespace berth::agent
