#include "guest/health_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "os/unique_fd.h"

namespace berth::guest {
namespace {

using Clock = std::chrono::steady_clock;

int remainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

Status timedOut(std::uint64_t timeout_ms, const char* what) {
  return unavailable(std::string("no ") + what + " within " + std::to_string(timeout_ms) + " ms");
}

Result<os::UniqueFd> connectLoopback(std::uint16_t port, std::uint64_t timeout_ms, Clock::time_point deadline) {
  os::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return internalError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    return unavailable(std::string(std::strerror(errno)) + " on port " + std::to_string(port));
  }
  pollfd pfd{fd.get(), POLLOUT, 0};
  if (::poll(&pfd, 1, remainingMs(deadline)) <= 0) return timedOut(timeout_ms, "connection");
  int error = 0;
  socklen_t len = sizeof error;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len);
  if (error != 0) return unavailable(std::string(std::strerror(error)) + " on port " + std::to_string(port));
  return fd;
}

}  // namespace

Status probeTcp(std::uint16_t port, std::uint64_t timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  return connectLoopback(port, timeout_ms, deadline).status();
}

Status probeHttp(std::uint16_t port, const std::string& path, std::uint64_t timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  BERTH_ASSIGN_OR_RETURN(os::UniqueFd fd, connectLoopback(port, timeout_ms, deadline));
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\nUser-Agent: berth-health-check\r\n" +
                              "Connection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    pollfd pfd{fd.get(), POLLOUT, 0};
    if (::poll(&pfd, 1, remainingMs(deadline)) <= 0) return timedOut(timeout_ms, "answer");
    const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) return unavailable(std::string("sending the request: ") + std::strerror(errno));
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  // Only the status line matters: "HTTP/1.x NNN reason".
  std::string head;
  while (head.find("\r\n") == std::string::npos && head.size() < 1024) {
    pollfd pfd{fd.get(), POLLIN, 0};
    if (::poll(&pfd, 1, remainingMs(deadline)) <= 0) return timedOut(timeout_ms, "answer");
    char buffer[512];
    const ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (n == 0) break;
    if (n < 0 && errno != EAGAIN) return unavailable(std::string("reading the answer: ") + std::strerror(errno));
    if (n > 0) head.append(buffer, static_cast<std::size_t>(n));
  }
  if (head.rfind("HTTP/1.", 0) != 0 || head.size() < 12 || head[8] != ' ') {
    return unavailable("GET " + path + " on port " + std::to_string(port) + " did not answer with HTTP");
  }
  const int code = std::atoi(head.substr(9, 3).c_str());
  if (code >= 200 && code < 400) return Status::ok();
  return unavailable("GET " + path + " on port " + std::to_string(port) + " answered HTTP " + std::to_string(code));
}

}  // namespace berth::guest
