#pragma once
// The network probes of a health check, against the guest's loopback. Each blocks for at most
// `timeout_ms`; init runs them in a forked child so its own loop never waits on an app.

#include <cstdint>
#include <string>

#include "common/result.h"

namespace berth::guest {

// Healthy when a TCP connection to 127.0.0.1:port is accepted.
Status probeTcp(std::uint16_t port, std::uint64_t timeout_ms);
// Healthy when GET `path` answers with a 2xx or 3xx status.
Status probeHttp(std::uint16_t port, const std::string& path, std::uint64_t timeout_ms);

}  // namespace berth::guest
