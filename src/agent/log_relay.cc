#include "agent/log_relay.h"

#include "agent/sessions/app_log.h"
#include "common/names.h"
#include "os/file_util.h"

namespace berth::agent {

void relayLog(const Paths::Vm& vm, const guest::LogNotification& log, std::uint64_t max_bytes, const Clock& clock) {
  if (!validateDnsLabel(log.app, "app").isOk()) return;
  (void)os::makeDirs(vm.logsDir(), 0700);
  LogRecord record{clock.wallMillis(), log.stream, toText(log.data), toText(log.instance)};
  appendLogRecord(vm.appLog(log.app), record, max_bytes);
}

}  // namespace berth::agent
