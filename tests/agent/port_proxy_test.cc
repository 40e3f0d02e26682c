// The port proxy over real loopback sockets: backends are small blocking servers on ports the
// kernel picks, clients read under a deadline so a broken proxy fails a test instead of hanging it.

#include "agent/proxy/port_proxy.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "loopback_peers.h"

namespace berth::agent {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr auto kDeadline = std::chrono::seconds(5);

tcp::endpoint loopbackEndpoint(int port) {
  return tcp::endpoint(asio::ip::address_v4::loopback(), static_cast<unsigned short>(port));
}

// A backend on 127.0.0.1:<free port>: each accepted connection is served by `serve` on its own
// thread. Serve functions end a connection with shutdown(), never close(), so the descriptors stay
// valid until the destructor, which wakes blocked threads with shutdown() (closing a socket
// another thread is using would not be safe) and joins them.
class Upstream {
 public:
  using Serve = std::function<void(tcp::socket&)>;

  explicit Upstream(Serve serve) : serve_(std::move(serve)), acceptor_(io_, loopbackEndpoint(0)) {
    port_ = acceptor_.local_endpoint().port();
    accepter_ = std::thread([this] { acceptLoop(); });
  }
  ~Upstream() {
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    accepter_.join();
    for (auto& c : connections_) ::shutdown(c.socket->native_handle(), SHUT_RDWR);
    for (auto& c : connections_) c.thread.join();
  }

  int port() const { return port_; }
  int accepted() const { return accepted_.load(); }

 private:
  struct Connection {
    std::unique_ptr<tcp::socket> socket;
    std::thread thread;
  };

  void acceptLoop() {
    for (;;) {
      auto socket = std::make_unique<tcp::socket>(io_);
      error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec) return;
      ++accepted_;
      tcp::socket* s = socket.get();
      connections_.push_back({std::move(socket), std::thread([this, s] { serve_(*s); })});
    }
  }

  Serve serve_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::vector<Connection> connections_;  // the accept thread's until it is joined
  std::thread accepter_;
};

// Echoes what it reads; at EOF answers "bye" and ends the connection.
void echoThenBye(tcp::socket& s) {
  std::array<char, 4096> buffer;
  error_code ec;
  for (;;) {
    std::size_t n = s.read_some(asio::buffer(buffer), ec);
    if (ec) break;
    asio::write(s, asio::buffer(buffer.data(), n), ec);
    if (ec) return;
  }
  if (ec == asio::error::eof) asio::write(s, asio::buffer(std::string("bye")), ec);
  s.shutdown(tcp::socket::shutdown_both, ec);
}

// Answers with its id and ends the connection.
Upstream::Serve sayId(std::string id) {
  return [id](tcp::socket& s) {
    error_code ec;
    asio::write(s, asio::buffer(id), ec);
    s.shutdown(tcp::socket::shutdown_both, ec);
  };
}

// A port bound but not listening: connects are refused, and nothing else can take it meanwhile.
class DeadPort {
 public:
  DeadPort() : socket_(io_, loopbackEndpoint(0)) {}
  int port() const { return socket_.local_endpoint().port(); }

 private:
  asio::io_context io_;
  tcp::socket socket_;
};

struct Ending {
  std::string data;
  error_code ec;  // eof when the proxy closed the connection cleanly
};

class Client {
 public:
  explicit Client(int port) : socket_(io_) { socket_.connect(loopbackEndpoint(port)); }

  void send(const std::string& data) { asio::write(socket_, asio::buffer(data)); }

  // Exactly n bytes, or fewer if the connection ends or the deadline passes.
  std::string read(std::size_t n) {
    std::string out(n, '\0');
    std::size_t got = 0;
    asio::async_read(socket_, asio::buffer(out),
                     [&](const error_code&, std::size_t k) { got = k; });
    run();
    out.resize(got);
    return out;
  }

  // Sends `data` while reading, shuts the connection for writing once it is sent, and reads
  // until the connection ends.
  Ending finish(const std::string& data) {
    Ending end;
    asio::async_write(socket_, asio::buffer(data), [this](const error_code& ec, std::size_t) {
      error_code ignored;
      if (!ec) socket_.shutdown(tcp::socket::shutdown_send, ignored);
    });
    readToEnd(end);
    return end;
  }

  // Reads until the connection ends, without sending anything.
  Ending readToEnd() {
    Ending end;
    readToEnd(end);
    return end;
  }

 private:
  void readToEnd(Ending& end) {
    asio::async_read(socket_, asio::dynamic_buffer(end.data),
                     [&end](const error_code& ec, std::size_t) { end.ec = ec; });
    run();
  }

  // Runs the pending operations; past the deadline cancels them (they end operation_aborted).
  void run() {
    io_.restart();
    io_.run_for(kDeadline);
    if (!io_.stopped()) {
      error_code ignored;
      socket_.cancel(ignored);
      io_.run();
    }
  }

  asio::io_context io_;
  tcp::socket socket_;
};

// A proxy to the given loopback ports; 0 stands for a backend that is not an address at all.
std::unique_ptr<PortProxy> startProxy(const std::vector<int>& ports) {
  std::vector<Backend> backends;
  for (int port : ports) backends.push_back(port == 0 ? "not-an-address" : loopback::at(port));
  auto proxy = PortProxy::start(0, std::move(backends));
  if (!proxy.isOk()) ADD_FAILURE() << proxy.status().toString();
  return proxy.isOk() ? std::move(proxy).value() : nullptr;
}

// activeConnections() changes on the proxy's thread, after the client has seen its side end.
bool waitForActive(const PortProxy& proxy, std::size_t n) {
  for (auto until = Clock::now() + kDeadline; Clock::now() < until;) {
    if (proxy.activeConnections() == n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return proxy.activeConnections() == n;
}

TEST(PortProxyTest, ForwardsBothWaysAndPassesAHalfCloseThrough) {
  Upstream echo(echoThenBye);
  auto proxy = startProxy({echo.port()});
  ASSERT_TRUE(proxy);
  EXPECT_NE(proxy->listenPort(), 0);
  {
    Client client(proxy->listenPort());
    client.send("hello");
    EXPECT_EQ(client.read(5), "hello");
    EXPECT_EQ(proxy->activeConnections(), 1u);
    // More than the socket buffers and the proxy's own hold, so it only passes if the proxy
    // keeps copying both ways at once; then the client's EOF must reach the backend, and the
    // backend's reply and EOF must come back.
    std::string big(4 << 20, 'x');
    for (std::size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
    Ending end = client.finish(big);
    EXPECT_EQ(end.ec, asio::error::eof) << end.ec.message();
    ASSERT_EQ(end.data.size(), big.size() + 3);
    EXPECT_TRUE(end.data == big + "bye");
  }
  EXPECT_TRUE(waitForActive(*proxy, 0));
}

TEST(PortProxyTest, SpreadsConnectionsRoundRobin) {
  Upstream a(sayId("A")), b(sayId("B"));
  auto proxy = startProxy({a.port(), b.port()});
  ASSERT_TRUE(proxy);
  std::vector<std::string> answers;
  for (int i = 0; i < 4; ++i) answers.push_back(Client(proxy->listenPort()).readToEnd().data);
  EXPECT_EQ(answers, (std::vector<std::string>{"A", "B", "A", "B"}));
}

TEST(PortProxyTest, SkipsABackendThatRefuses) {
  DeadPort dead;
  Upstream a(sayId("A"));
  auto proxy = startProxy({dead.port(), a.port()});
  ASSERT_TRUE(proxy);
  for (int i = 0; i < 3; ++i) {
    Ending end = Client(proxy->listenPort()).readToEnd();
    EXPECT_EQ(end.data, "A");
    EXPECT_EQ(end.ec, asio::error::eof) << end.ec.message();
  }
  EXPECT_EQ(a.accepted(), 3);
}

// A listener whose accept queue is full drops SYNs, as a blackholing firewall would: without a
// connect timeout the client would wait out the kernel's retries.
TEST(PortProxyTest, SkipsABackendThatIsNotAnAddress) {
  Upstream a(sayId("A"));
  auto proxy = startProxy({0, a.port()});
  ASSERT_TRUE(proxy);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(Client(proxy->listenPort()).readToEnd().data, "A");
}

TEST(PortProxyTest, GivesUpOnABackendThatDoesNotAnswerTheConnect) {
  asio::io_context io;
  tcp::acceptor blackhole(io, loopbackEndpoint(0));
  blackhole.listen(0);
  tcp::socket filler(io);
  filler.connect(blackhole.local_endpoint());  // takes the one place in the accept queue
  Upstream a(sayId("A"));
  auto proxy = startProxy({blackhole.local_endpoint().port(), a.port()});
  ASSERT_TRUE(proxy);
  auto started = Clock::now();
  Ending end = Client(proxy->listenPort()).readToEnd();
  auto took = Clock::now() - started;
  EXPECT_EQ(end.data, "A");
  EXPECT_GE(took, std::chrono::milliseconds(1500));
  EXPECT_LT(took, std::chrono::milliseconds(4500));
}

TEST(PortProxyTest, NewBackendsTakeNewConnectionsWhileOpenOnesKeepTheirs) {
  Upstream old_backend(echoThenBye);
  Upstream new_backend(sayId("new"));
  auto proxy = startProxy({old_backend.port()});
  ASSERT_TRUE(proxy);
  Client open(proxy->listenPort());
  open.send("one");
  ASSERT_EQ(open.read(3), "one");

  proxy->setBackends({loopback::at(new_backend.port())});
  EXPECT_EQ(proxy->backends(), std::vector<Backend>{loopback::at(new_backend.port())});
  EXPECT_EQ(Client(proxy->listenPort()).readToEnd().data, "new");

  // The old backend is being drained: it still holds the open connection, and then none.
  EXPECT_EQ(proxy->connectionsTo(loopback::at(old_backend.port())), 1u);
  open.send("two");
  EXPECT_EQ(open.read(3), "two");
  Ending end = open.finish("");
  EXPECT_EQ(end.data, "bye");
  EXPECT_EQ(old_backend.accepted(), 1);
  EXPECT_EQ(new_backend.accepted(), 1);
  const auto deadline = Clock::now() + kDeadline;
  while (proxy->connectionsTo(loopback::at(old_backend.port())) != 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(proxy->connectionsTo(loopback::at(old_backend.port())), 0u);
  EXPECT_EQ(proxy->connectionsTo(loopback::at(new_backend.port())), 0u);
}

TEST(PortProxyTest, APortInUseIsAnErrorNamingThePort) {
  auto first = startProxy({});
  ASSERT_TRUE(first);
  auto second = PortProxy::start(first->listenPort(), {});
  ASSERT_FALSE(second.isOk());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find(std::to_string(first->listenPort())), std::string::npos)
      << second.status().message();
  EXPECT_EQ(PortProxy::start(70000, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(PortProxyTest, ListensOnTheAddressItIsGivenOnly) {
  Upstream a(sayId("A"));
  auto proxy = PortProxy::start(0, {loopback::at(a.port())}, "127.0.0.2");
  ASSERT_TRUE(proxy.isOk()) << proxy.status().toString();
  const int port = (*proxy)->listenPort();
  EXPECT_EQ(loopback::readFrom(port, 0x7f000002), "A");
  EXPECT_EQ(loopback::readFrom(port), "(refused)");
  auto bad = PortProxy::start(0, {}, "localhost");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("'localhost'"), std::string::npos)
      << bad.status().message();
}

TEST(PortProxyTest, WithoutBackendsTheClientIsClosedPromptly) {
  auto proxy = startProxy({});
  ASSERT_TRUE(proxy);
  auto started = Clock::now();
  Ending end = Client(proxy->listenPort()).readToEnd();
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(1));
  EXPECT_EQ(end.data, "");
  EXPECT_EQ(end.ec, asio::error::eof) << end.ec.message();
  EXPECT_TRUE(waitForActive(*proxy, 0));
}

TEST(PortProxyTest, DestroyingTheProxyClosesItsConnections) {
  Upstream echo(echoThenBye);
  auto proxy = startProxy({echo.port()});
  ASSERT_TRUE(proxy);
  Client client(proxy->listenPort());
  client.send("hi");
  ASSERT_EQ(client.read(2), "hi");
  proxy.reset();
  Ending end = client.readToEnd();
  EXPECT_TRUE(end.ec == asio::error::eof || end.ec == asio::error::connection_reset)
      << end.ec.message();
}

}  // namespace
}  // namespace berth::agent
