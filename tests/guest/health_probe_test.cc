#include "guest/health_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "os/unique_fd.h"

namespace berth::guest {
namespace {

// A listener on 127.0.0.1 with a port the kernel picked.
struct Listener {
  os::UniqueFd fd;
  std::uint16_t port = 0;
};

Listener listenLoopback() {
  Listener l;
  l.fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(l.fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::listen(l.fd.get(), 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(l.fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  l.port = ntohs(addr.sin_port);
  return l;
}

// Answers one connection with `answer` after reading the request head.
std::thread serveOnce(int listen_fd, std::string answer) {
  return std::thread([listen_fd, answer] {
    os::UniqueFd conn(::accept(listen_fd, nullptr, nullptr));
    char buffer[1024];
    std::string request;
    while (request.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(conn.get(), buffer, sizeof buffer, 0);
      if (n <= 0) return;
      request.append(buffer, static_cast<std::size_t>(n));
    }
    (void)!::send(conn.get(), answer.data(), answer.size(), MSG_NOSIGNAL);
  });
}

std::uint16_t closedPort() {
  Listener l = listenLoopback();
  return l.port;  // closed when `l` goes
}

TEST(HealthProbeTest, TcpIsHealthyWhenAConnectionIsAccepted) {
  Listener l = listenLoopback();
  EXPECT_TRUE(probeTcp(l.port, 1000).isOk());
}

TEST(HealthProbeTest, TcpNamesTheRefusal) {
  const std::uint16_t port = closedPort();
  Status s = probeTcp(port, 1000);
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("Connection refused on port " + std::to_string(port)), std::string::npos) << s.message();
}

TEST(HealthProbeTest, HttpAcceptsTwoAndThreeHundreds) {
  Listener l = listenLoopback();
  std::thread server = serveOnce(l.fd.get(), "HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_TRUE(probeHttp(l.port, "/healthz", 1000).isOk());
  server.join();
  server = serveOnce(l.fd.get(), "HTTP/1.0 302 Found\r\nLocation: /\r\n\r\n");
  EXPECT_TRUE(probeHttp(l.port, "/", 1000).isOk());
  server.join();
}

TEST(HealthProbeTest, HttpErrorStatusIsNamed) {
  Listener l = listenLoopback();
  std::thread server = serveOnce(l.fd.get(), "HTTP/1.1 503 Service Unavailable\r\n\r\n");
  Status s = probeHttp(l.port, "/healthz", 1000);
  server.join();
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("GET /healthz on port " + std::to_string(l.port) + " answered HTTP 503"),
            std::string::npos)
      << s.message();
}

TEST(HealthProbeTest, HttpThatIsNotHttpIsNamed) {
  Listener l = listenLoopback();
  std::thread server = serveOnce(l.fd.get(), "SSH-2.0-OpenSSH\r\n");
  Status s = probeHttp(l.port, "/", 1000);
  server.join();
  EXPECT_NE(s.message().find("did not answer with HTTP"), std::string::npos) << s.message();
}

TEST(HealthProbeTest, ASilentServerTimesOut) {
  Listener l = listenLoopback();  // accepts (backlog) but never answers
  Status s = probeHttp(l.port, "/", 200);
  EXPECT_NE(s.message().find("no answer within 200 ms"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace berth::guest
