#include "agent/log_relay.h"

#include <string_view>

#include "agent/sessions/app_log.h"
#include "common/names.h"
#include "os/file_util.h"

namespace berth::agent {

void relayLog(const Paths::Vm& vm, const nlohmann::json& body, std::uint64_t max_bytes, const Clock& clock) {
  const std::string app = body["app"].get<std::string>();
  if (!validateDnsLabel(app, "app").isOk()) return;
  (void)os::makeDirs(vm.logsDir(), 0700);
  const auto& data = body["data"].get_binary();
  LogRecord record{clock.wallMillis(), body["stream"].get<std::string>(),
                   toText(std::string_view(reinterpret_cast<const char*>(data.data()), data.size())),
                   toText(body.value("instance", ""))};
  appendLogRecord(vm.appLog(app), record, max_bytes);
}

}  // namespace berth::agent
