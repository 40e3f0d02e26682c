#include "common/clock.h"

#include <chrono>
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

// Every API object carries timestamps, so this is on the hot path of every listing: calendar
// arithmetic from <chrono> and fixed-width digits instead of gmtime_r + strftime + snprintf
// (which take the locale and time-zone machinery on each call).
std::string formatTimestamp(int64_t wall_millis) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(wall_millis)};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{t - day};
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&out](size_t pos, unsigned value, size_t width) {
    for (size_t i = width; i-- > 0; value /= 10) out[pos + i] = static_cast<char>('0' + value % 10);
  };
  put(0, static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
  put(5, static_cast<unsigned>(ymd.month()), 2);
  put(8, static_cast<unsigned>(ymd.day()), 2);
  put(11, static_cast<unsigned>(hms.hours().count()), 2);
  put(14, static_cast<unsigned>(hms.minutes().count()), 2);
  put(17, static_cast<unsigned>(hms.seconds().count()), 2);
  put(20, static_cast<unsigned>(hms.subseconds().count()), 3);
  return out;
}

}  // namespace berth
