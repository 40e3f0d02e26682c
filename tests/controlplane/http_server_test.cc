// The HTTP server over real loopback sockets: quick requests on the event loop, blocking ones on
// the pool, streams, refusals and graceful shutdown.
#include "controlplane/http/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <future>
#include <thread>

#include "controlplane/http/blocking_pool.h"

namespace berth::controlplane {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// A blocking HTTP/1.1 client on one keep-alive connection.
class Client {
 public:
  explicit Client(const std::string& address) : socket_(ioc_) {
    auto colon = address.rfind(':');
    socket_.connect(tcp::endpoint(asio::ip::make_address(address.substr(0, colon)),
                                  static_cast<uint16_t>(std::stoi(address.substr(colon + 1)))));
  }

  http::response<http::string_body> request(http::verb verb, const std::string& target, std::string body = "") {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "test");
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(socket_, req);
    return read();
  }

  http::response<http::string_body> read() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    http::read(socket_, buffer_, parser);
    return parser.release();
  }

  // True once the server has closed the connection.
  bool closedByServer() {
    beast::error_code ec;
    char c;
    socket_.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

  tcp::socket& socket() { return socket_; }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

HttpResponse text(std::string body) {
  HttpResponse r;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

// Routes of the test server: /quick answers at once; /slow waits until released; /stream sends
// three chunks; everything else echoes the body.
struct TestHandler {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> slow_started{0};

  HttpResponse operator()(const HttpRequest& r) {
    if (r.path == "/quick") return text("quick");
    if (r.path == "/slow") {
      ++slow_started;
      released.wait();
      return text("slow done");
    }
    if (r.path == "/stream") {
      HttpResponse s;
      s.content_type = "text/event-stream";
      s.stream = [](StreamWriter& w) {
        for (int i = 0; i < 3; ++i) w.write("event " + std::to_string(i) + "\n");
      };
      return s;
    }
    return text("echo:" + r.body);
  }
};

std::unique_ptr<HttpServer> startServer(TestHandler& handler, HttpServerOptions options = {}) {
  options.loop_threads = 1;  // one loop: a blocking handler on it would stall every other request
  options.is_quick = [](const HttpRequest& r) { return r.path == "/quick"; };
  auto server = HttpServer::start(options, [&handler](const HttpRequest& r) { return handler(r); });
  EXPECT_TRUE(server.isOk()) << server.status().message();
  return std::move(server).value();
}

TEST(HttpServerTest, KeepAliveConnectionServesManyRequests) {
  TestHandler handler;
  auto server = startServer(handler);
  Client client(server->boundAddress());
  for (int i = 0; i < 50; ++i) {
    auto res = client.request(http::verb::get, "/quick");
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "quick");
    EXPECT_TRUE(res.keep_alive());
  }
  auto echoed = client.request(http::verb::post, "/echo", "payload");
  EXPECT_EQ(echoed.body(), "echo:payload");
  handler.release.set_value();
}

TEST(HttpServerTest, BlockingHandlersDoNotStallQuickOnes) {
  TestHandler handler;
  auto server = startServer(handler);
  std::vector<std::unique_ptr<Client>> slow_clients;
  std::vector<std::future<http::response<http::string_body>>> slow;
  for (int i = 0; i < 4; ++i) {
    slow_clients.push_back(std::make_unique<Client>(server->boundAddress()));
    auto* c = slow_clients.back().get();
    slow.push_back(std::async(std::launch::async, [c] { return c->request(http::verb::get, "/slow"); }));
  }
  while (handler.slow_started.load() < 4) std::this_thread::sleep_for(1ms);
  // Four handlers are blocked, yet the single event loop still answers.
  Client quick(server->boundAddress());
  EXPECT_EQ(quick.request(http::verb::get, "/quick").body(), "quick");
  handler.release.set_value();
  for (auto& f : slow) EXPECT_EQ(f.get().body(), "slow done");
}

TEST(HttpServerTest, StreamsChunksThenCloses) {
  TestHandler handler;
  auto server = startServer(handler);
  Client client(server->boundAddress());
  auto res = client.request(http::verb::get, "/stream");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "event 0\nevent 1\nevent 2\n");
  EXPECT_TRUE(client.closedByServer());
  handler.release.set_value();
}

TEST(HttpServerTest, OversizeBodyGetsJson413) {
  TestHandler handler;
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  auto server = startServer(handler, options);
  Client client(server->boundAddress());
  auto res = client.request(http::verb::post, "/echo", std::string(4096, 'x'));
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_NE(res.body().find("\"payload_too_large\""), std::string::npos) << res.body();
  EXPECT_NE(res.body().find("1024 bytes"), std::string::npos) << res.body();
  handler.release.set_value();
}

TEST(HttpServerTest, UploadsMayBeLargerThanApiBodiesButNotUnbounded) {
  TestHandler handler;
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  options.max_upload_bytes = 8192;
  auto server = startServer(handler, options);
  Client client(server->boundAddress());
  auto res = client.request(http::verb::post, "/v1/projects/p/blobs", std::string(4096, 'u'));
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body().size(), 5u + 4096u);
  Client big(server->boundAddress());
  res = big.request(http::verb::post, "/v1/projects/p/blobs", std::string(10000, 'u'));
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_NE(res.body().find("8192 bytes"), std::string::npos) << res.body();
  handler.release.set_value();
}

TEST(HttpServerTest, MalformedRequestGets400) {
  TestHandler handler;
  auto server = startServer(handler);
  Client client(server->boundAddress());
  asio::write(client.socket(), asio::buffer(std::string("GET / HTTP/1.1\r\nBad Header Line\r\n\r\n")));
  auto res = client.read();
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_NE(res.body().find("malformed HTTP request"), std::string::npos) << res.body();
  handler.release.set_value();
}

TEST(HttpServerTest, ShutdownAnswersInFlightRequestsAndClosesIdleConnections) {
  TestHandler handler;
  auto server = startServer(handler);
  Client idle(server->boundAddress());
  EXPECT_EQ(idle.request(http::verb::get, "/quick").body(), "quick");
  Client busy(server->boundAddress());
  auto in_flight = std::async(std::launch::async, [&] { return busy.request(http::verb::get, "/slow"); });
  while (handler.slow_started.load() < 1) std::this_thread::sleep_for(1ms);

  auto stopped = std::async(std::launch::async, [&] { server->shutdown(10s); });
  EXPECT_TRUE(idle.closedByServer());
  EXPECT_EQ(stopped.wait_for(100ms), std::future_status::timeout) << "shutdown must wait for the request";
  handler.release.set_value();
  auto res = in_flight.get();
  EXPECT_EQ(res.body(), "slow done");
  EXPECT_FALSE(res.keep_alive()) << "a stopping server closes after answering";
  stopped.get();
  EXPECT_EQ(server->openConnections(), 0u);
}

TEST(BlockingPoolTest, RunsTasksConcurrentlyAndJoinsOnDestruction) {
  std::atomic<int> done{0};
  {
    BlockingPool pool;
    std::promise<void> gate;
    std::shared_future<void> open = gate.get_future().share();
    for (int i = 0; i < 8; ++i) {
      pool.run([&, open] {
        open.wait();  // all eight must be running at once for any to finish
        ++done;
      });
    }
    while (pool.threads() < 8) std::this_thread::sleep_for(1ms);
    gate.set_value();
  }
  EXPECT_EQ(done.load(), 8);
}

}  // namespace
}  // namespace berth::controlplane
