#pragma once
// Places VMs on nodes and notices lost nodes. Idempotent: run it as often as you like; every
// decision is one transaction with its event, so a crash between decisions loses nothing.

#include <chrono>

#include "common/clock.h"
#include "common/status.h"
#include "store/store.h"

namespace berth::controlplane {

struct SchedulerOptions {
  // A node that has not reported for this long is lost.
  std::chrono::milliseconds heartbeat_timeout{std::chrono::seconds(30)};
};

class Scheduler {
 public:
  Scheduler(store::Store& store, const Clock& clock, SchedulerOptions options = {})
      : store_(store), clock_(clock), options_(options) {}

  // One pass: mark silent nodes lost, then place every unplaced VM, oldest first, on the ready
  // node with the most free memory that fits it (vCPUs, memory, disk). A VM that fits nowhere stays pending
  // with a detail saying why.
  Status runOnce();

 private:
  Status markLostNodes();
  Status placePendingVms();

  store::Store& store_;
  const Clock& clock_;
  SchedulerOptions options_;
};

}  // namespace berth::controlplane
