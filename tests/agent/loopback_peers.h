#pragma once
// Loopback peers for the tests of published ports: a listener that greets every connection with
// a fixed reply, and a client that reads what a port answers.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <string>
#include <thread>

#include "os/unique_fd.h"

namespace berth::agent::loopback {

// A proxy backend on the node's loopback.
inline std::string at(int port) { return "127.0.0.1:" + std::to_string(port); }

// A listener on a kernel-chosen loopback port that answers each connection with `reply`.
class Greeter {
 public:
  explicit Greeter(std::string reply) : reply_(std::move(reply)) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_.get(), 8), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        os::UniqueFd conn(::accept(fd_.get(), nullptr, nullptr));
        if (!conn) return;
        (void)!::send(conn.get(), reply_.data(), reply_.size(), MSG_NOSIGNAL);
      }
    });
  }
  ~Greeter() {
    ::shutdown(fd_.get(), SHUT_RDWR);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  std::string reply_;
  os::UniqueFd fd_;
  int port_ = 0;
  std::thread thread_;
};

// What a connection to `address`:`port` answers until the peer closes; "(refused)" if none is made.
inline std::string readFrom(int port, uint32_t address = INADDR_LOOPBACK) {
  os::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(address);
  timeval timeout{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return "(refused)";
  std::string out;
  char buffer[64];
  ssize_t n;
  while ((n = ::recv(fd.get(), buffer, sizeof buffer, 0)) > 0)
    out.append(buffer, static_cast<std::size_t>(n));
  return out;
}

}  // namespace berth::agent::loopback
