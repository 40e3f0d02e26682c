#pragma once
// QEMU's side of a unix-socket chardev (`socket,server=on`): a listener the agent connects to;
// each accept() gives the test the guest's end of one connection.

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>

#include "os/unique_fd.h"

namespace berth::agent {

class FakeQemuSocket {
 public:
  explicit FakeQemuSocket(const std::string& path) : path_(path) {
    listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listener_.get(), 1), 0);
  }
  // The socket goes with the listener, as QEMU's does when it exits.
  ~FakeQemuSocket() { ::unlink(path_.c_str()); }
  FakeQemuSocket(const FakeQemuSocket&) = delete;
  FakeQemuSocket& operator=(const FakeQemuSocket&) = delete;

  // The next connection, or an invalid fd if none comes within `timeout`.
  os::UniqueFd accept(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    pollfd pfd{listener_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) != 1) return {};
    return os::UniqueFd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  }

 private:
  std::string path_;
  os::UniqueFd listener_;
};

}  // namespace berth::agent
