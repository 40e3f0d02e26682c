#pragma once
// berthd's Prometheus metrics (prometheus-cpp core: registry and text exposition). Thread-safe.

#include <chrono>
#include <memory>
#include <string>

namespace prometheus {
class Registry;
template <typename T> class Family;
class Counter;
class Histogram;
class Gauge;
}  // namespace prometheus

namespace berth::controlplane {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  void observe(const std::string& method, int status, std::chrono::steady_clock::duration elapsed);
  // The text exposition; the gauges' values are sampled at scrape time.
  std::string render(int64_t last_event_seq, std::size_t open_sessions);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Histogram* latency_;
  prometheus::Gauge* last_event_;
  prometheus::Gauge* open_sessions_;
  prometheus::Gauge* start_time_;
};

}  // namespace berth::controlplane
