#pragma once
// What a VM's supervisor needs of its guest channel: requests with a timeout, whether it is
// still open, and closing it. GuestConnection is the real one; tests use a fake.

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::agent {

// How long a guest may take to answer an ordinary request (stop_app, ...).
inline constexpr std::chrono::seconds kGuestTimeout{30};

class GuestChannel {
 public:
  virtual ~GuestChannel() = default;
  // Sends a request and waits for its reply's result; a failed reply, a timeout and a channel
  // that closes meanwhile are errors. Safe to call from several threads at once.
  virtual Result<nlohmann::json> call(const std::string& type, nlohmann::json body,
                                      std::chrono::milliseconds timeout) = 0;
  virtual bool open() const = 0;
  // Closes the channel; calls waiting on it return at once with an error. Thread-safe.
  virtual void close() = 0;
};

}  // namespace berth::agent
