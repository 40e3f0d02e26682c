#include "controlplane/api/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace berth::controlplane {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("berth_http_requests_total")
                   .Help("HTTP requests served, by method and status code")
                   .Register(*registry_);
  latency_ = &prometheus::BuildHistogram()
                  .Name("berth_http_request_duration_seconds")
                  .Help("Time to produce a response (streams: until headers)")
                  .Register(*registry_)
                  .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                   0.05, 0.1, 0.25, 0.5, 1, 2.5});
  last_event_ = &prometheus::BuildGauge()
                     .Name("berth_events_last_seq")
                     .Help("Sequence number of the newest committed event")
                     .Register(*registry_)
                     .Add({});
  open_sessions_ = &prometheus::BuildGauge()
                        .Name("berth_sessions_open")
                        .Help("Exec, logs and console sessions queued for or streaming from node agents")
                        .Register(*registry_)
                        .Add({});
  start_time_ = &prometheus::BuildGauge()
                     .Name("berth_start_time_seconds")
                     .Help("Unix time berthd started")
                     .Register(*registry_)
                     .Add({});
  start_time_->SetToCurrentTime();
}

Metrics::~Metrics() = default;

void Metrics::observe(const std::string& method, int status, std::chrono::steady_clock::duration elapsed) {
  requests_->Add({{"method", method}, {"code", std::to_string(status)}}).Increment();
  latency_->Observe(std::chrono::duration<double>(elapsed).count());
}

std::string Metrics::render(int64_t last_event_seq, std::size_t open_sessions) {
  last_event_->Set(static_cast<double>(last_event_seq));
  open_sessions_->Set(static_cast<double>(open_sessions));
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace berth::controlplane
