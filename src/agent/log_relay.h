#pragma once
// The node's copy of an app's output: each `log` notification a guest sends becomes one record
// in logs/<app>.log of its VM (sessions/app_log.h), stamped with the node's clock.

#include <cstdint>

#include "agent/paths.h"
#include "common/clock.h"
#include "common/guest_messages.h"

namespace berth::agent {

// Appends the notification's output to its app's log, rotating it past `max_bytes`. One naming
// an app that is not a DNS label is dropped: the name becomes a file name.
void relayLog(const Paths::Vm& vm, const guest::LogNotification& log, std::uint64_t max_bytes, const Clock& clock);

}  // namespace berth::agent
