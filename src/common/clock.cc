#include "common/clock.h"

#include <ctime>
#include <string>

namespace berth {

int64_t SystemClock::wallMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

std::string formatTimestamp(int64_t wall_millis) {
  std::time_t secs = static_cast<std::time_t>(wall_millis / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(wall_millis % 1000));
  return buf;
}

}  // namespace berth
