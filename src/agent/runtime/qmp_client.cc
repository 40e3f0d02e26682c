#include "agent/runtime/qmp_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace berth::agent {

using nlohmann::json;

Result<std::unique_ptr<QmpClient>> QmpClient::connect(const std::string& socket_path,
                                                      std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  if (socket_path.size() >= sizeof addr.sun_path) return invalidArgument("QMP socket path too long: " + socket_path);
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, socket_path.c_str());
  os::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return internalError(std::string("socket: ") + std::strerror(errno));
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return unavailable("cannot connect to QMP at " + socket_path + ": " + std::strerror(errno));
  }
  std::unique_ptr<QmpClient> client(new QmpClient(std::move(fd)));
  BERTH_ASSIGN_OR_RETURN(json greeting, client->readMessage());
  if (!greeting.contains("QMP")) return internalError("QMP greeting missing at " + socket_path);
  BERTH_RETURN_IF_ERROR(client->execute("qmp_capabilities").status());
  return client;
}

Result<json> QmpClient::readMessage() {
  for (;;) {
    std::size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      json message = json::parse(buffer_.substr(0, newline), nullptr, false);
      buffer_.erase(0, newline + 1);
      if (message.is_discarded() || !message.is_object()) return internalError("QMP sent a line that is not JSON");
      return message;
    }
    if (buffer_.size() > (1u << 20)) return internalError("QMP line too long");
    char chunk[4096];
    ssize_t n = ::read(fd_.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return unavailable(std::string("QMP read: ") + std::strerror(errno));
    if (n == 0) return unavailable("QMP connection closed by QEMU");
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

Result<json> QmpClient::execute(const std::string& command, const json& arguments) {
  json request = {{"execute", command}};
  if (!arguments.empty()) request["arguments"] = arguments;
  const std::string line = request.dump() + "\n";
  if (::send(fd_.get(), line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    return unavailable("QMP write failed: " + std::string(std::strerror(errno)));
  }
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(json message, readMessage());
    if (message.contains("return")) return message["return"];
    if (message.contains("error")) {
      return internalError("QMP " + command + ": " + message["error"].value("desc", std::string("error")));
    }
  }
}

Result<std::string> QmpClient::human(const std::string& command_line) {
  BERTH_ASSIGN_OR_RETURN(json output, execute("human-monitor-command", {{"command-line", command_line}}));
  return output.is_string() ? output.get<std::string>() : std::string();
}

}  // namespace berth::agent
