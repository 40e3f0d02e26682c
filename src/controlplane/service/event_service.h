#pragma once
// The event log: every change any service made, in commit order. Admins read all of it; a
// project token reads its project's; other tokens none. Followers (the event stream, a node's
// long-polled assignment) wait here for news instead of polling the store.
//
// Thread-safe: all state lives in the Store; waiting blocks only the caller.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "controlplane/service/service_context.h"

namespace berth::controlplane {

class EventService {
 public:
  // `context` must outlive this.
  explicit EventService(const ServiceContext& context) : ctx_(context) {}

  // Events after `after` visible to `who`, oldest first.
  Result<std::vector<store::Event>> list(const Principal& who, int64_t after,
                                         const std::optional<std::string>& project, int limit);
  // The project filter a follower of the event stream must use; errors as list().
  Result<std::optional<std::string>> scope(const Principal& who, const std::optional<std::string>& project);

  // The sequence number of the newest event (0 if none), of any project.
  int64_t lastSeq() const { return ctx_.store.lastEventSeq(); }
  // Blocks until an event newer than `after` is committed, `timeout` passes, or berthd stops;
  // returns lastSeq().
  int64_t waitForEvents(int64_t after, std::chrono::milliseconds timeout) {
    return ctx_.store.waitForEvents(after, timeout);
  }
  // Grows with every committed write, events or not: an answer computed while it stayed the
  // same is still current (what the API's response cache keys on).
  int64_t dataGeneration() const { return ctx_.store.dataGeneration(); }

 private:
  const ServiceContext& ctx_;
};

}  // namespace berth::controlplane
