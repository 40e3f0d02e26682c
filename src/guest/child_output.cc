#include "guest/child_output.h"

#include <unistd.h>

#include <cerrno>

namespace berth::guest {

std::optional<std::string> readChunk(os::UniqueFd& fd) {
  char buffer[16 * 1024];
  const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) fd.reset();
  if (n <= 0) return std::nullopt;
  return std::string(buffer, static_cast<std::size_t>(n));
}

}  // namespace berth::guest
