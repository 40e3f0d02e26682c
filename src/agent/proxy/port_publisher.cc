#include "agent/proxy/port_publisher.h"

#include <dirent.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>

#include "agent/proxy/port_proxy.h"
#include "os/detached_process.h"
#include "os/file_util.h"
#include "os/unique_fd.h"

namespace berth::agent {
namespace {

constexpr auto kStartLimit = std::chrono::seconds(5);

std::string backendList(const std::vector<Backend>& backends) {
  std::string out;
  for (const Backend& backend : backends) out += " " + backend;
  return out;
}

Result<sockaddr_un> unixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return invalidArgument("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

PortPublisher::PortPublisher(std::string agent_binary, std::string dir, std::string address)
    : agent_binary_(std::move(agent_binary)), dir_(std::move(dir)), address_(std::move(address)) {}

std::string PortPublisher::socketPath(int port) const {
  return dir_ + "/" + std::to_string(port) + ".sock";
}
std::string PortPublisher::logPath(int port) const {
  return dir_ + "/" + std::to_string(port) + ".log";
}

Result<std::string> PortPublisher::request(int port, const std::string& line) const {
  BERTH_ASSIGN_OR_RETURN(sockaddr_un addr, unixAddress(socketPath(port)));
  os::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return internalError(std::string("socket: ") + std::strerror(errno));
  timeval timeout{2, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return unavailable("no proxy answers for port " + std::to_string(port));
  }
  if (::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(line.size())) {
    return unavailable("the proxy of port " + std::to_string(port) + " hung up");
  }
  std::string reply;
  char buffer[256];
  ssize_t n;
  while (reply.find('\n') == std::string::npos &&
         (n = ::recv(fd.get(), buffer, sizeof buffer, 0)) > 0) {
    reply.append(buffer, static_cast<std::size_t>(n));
  }
  reply = trimmed(reply);
  if (reply != "ok" && reply.rfind("ok ", 0) != 0) {
    return unavailable("the proxy of port " + std::to_string(port) + " answered '" + reply + "'");
  }
  return reply;
}

Result<std::size_t> PortPublisher::connectionsTo(int port, const Backend& backend) const {
  BERTH_ASSIGN_OR_RETURN(std::string reply, request(port, "count " + backend + "\n"));
  return static_cast<std::size_t>(
      std::strtoull(reply.c_str() + std::min<std::size_t>(reply.size(), 3), nullptr, 10));
}

Status PortPublisher::publish(int port, const std::vector<Backend>& backends) {
  if (request(port, "set" + backendList(backends) + "\n").isOk()) return Status::ok();
  return spawn(port, backends);
}

Status PortPublisher::unpublish(int port) {
  (void)request(port, "stop\n");
  ::unlink(socketPath(port).c_str());
  return Status::ok();
}

std::vector<int> PortPublisher::published() const {
  std::vector<int> ports;
  DIR* dir = ::opendir(dir_.c_str());
  if (!dir) return ports;
  while (dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    const auto dot = name.find(".sock");
    if (dot == std::string::npos || dot + 5 != name.size()) continue;
    const int port = std::atoi(name.substr(0, dot).c_str());
    if (port > 0 && port <= 65535) ports.push_back(port);
  }
  ::closedir(dir);
  return ports;
}

Status PortPublisher::spawn(int port, const std::vector<Backend>& backends) {
  BERTH_RETURN_IF_ERROR(os::makeDirs(dir_, 0700));
  ::unlink(socketPath(port).c_str());
  std::vector<std::string> argv = {agent_binary_, "proxy", address_ + ":" + std::to_string(port),
                                   socketPath(port)};
  for (const Backend& backend : backends) argv.push_back(backend);
  const std::string log = logPath(port);
  ::unlink(log.c_str());  // what it says now is about this start
  BERTH_RETURN_IF_ERROR(os::spawnDetached(argv, log));
  // Ready once its socket answers; a port it could not bind shows in its log.
  const auto deadline = std::chrono::steady_clock::now() + kStartLimit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (request(port, "set" + backendList(backends) + "\n").isOk()) return Status::ok();
    auto said = os::readFile(log);
    if (said.isOk() && !trimmed(*said).empty()) return failedPrecondition(trimmed(*said));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return unavailable("the proxy for port " + std::to_string(port) + " did not start within 5 s");
}

int PortPublisher::runProxy(const std::string& listen, const std::string& control_socket,
                            const std::vector<Backend>& backends) {
  // "PORT" is what agents before --publish-address started their proxies with.
  const std::size_t colon = listen.rfind(':');
  const std::string address = colon == std::string::npos ? "127.0.0.1" : listen.substr(0, colon);
  const int port = std::atoi(listen.c_str() + (colon == std::string::npos ? 0 : colon + 1));
  auto proxy = PortProxy::start(port, backends, address);
  if (!proxy.isOk()) {
    std::fprintf(stderr, "cannot publish port %d on %s (is it in use?): %s\n", port,
                 address.c_str(), proxy.status().message().c_str());
    return 1;
  }
  auto addr = unixAddress(control_socket);
  os::UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!addr.isOk() || !listener ||
      ::bind(listener.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0 ||
      ::listen(listener.get(), 8) != 0) {
    std::fprintf(stderr, "cannot listen on %s: %s\n", control_socket.c_str(), std::strerror(errno));
    return 1;
  }
  for (;;) {
    pollfd ready{listener.get(), POLLIN, 0};
    if (::poll(&ready, 1, 5000) == 0) {
      if (::access(control_socket.c_str(), F_OK) != 0) return 0;  // the agent's data went: so do we
      continue;
    }
    os::UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) continue;
    timeval timeout{2, 0};
    ::setsockopt(conn.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string line;
    char c;
    while (line.size() < 4096 && ::recv(conn.get(), &c, 1, 0) == 1 && c != '\n') line.push_back(c);
    std::istringstream words(line);
    std::string verb;
    words >> verb;
    if (verb == "stop") {
      (void)!::send(conn.get(), "ok\n", 3, MSG_NOSIGNAL);
      ::unlink(control_socket.c_str());
      return 0;
    }
    if (verb == "count") {
      Backend backend;
      words >> backend;
      const std::string reply = "ok " + std::to_string((*proxy)->connectionsTo(backend)) + "\n";
      (void)!::send(conn.get(), reply.data(), reply.size(), MSG_NOSIGNAL);
      continue;
    }
    if (verb != "set") {
      (void)!::send(conn.get(), "unknown request\n", 16, MSG_NOSIGNAL);
      continue;
    }
    std::vector<Backend> next;
    Backend backend;
    while (words >> backend) next.push_back(backend);
    (*proxy)->setBackends(std::move(next));
    (void)!::send(conn.get(), "ok\n", 3, MSG_NOSIGNAL);
  }
}

}  // namespace berth::agent
