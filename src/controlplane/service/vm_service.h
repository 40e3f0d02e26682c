#pragma once
// VMs of a project: created within its quota, resized (never a smaller disk), powered and
// deleted by deployers; the scheduler (scheduler.h) places them, their node's agent reports
// their state. Every change is written with its audit event in one transaction.
//
// Thread-safe: all state lives in the Store.

#include <optional>
#include <string>

#include "common/result.h"
#include "controlplane/service/service_context.h"

namespace berth::controlplane {

struct VmPatch {
  std::optional<int64_t> vcpus, memory_mib, disk_gib;
  std::optional<std::string> machine, power;
};

enum class PowerAction { kStart, kStop, kRestart };

class VmService {
 public:
  // `context` must outlive this.
  explicit VmService(const ServiceContext& context) : ctx_(context) {}

  Result<store::Vm> create(const Principal& who, store::Vm vm);
  Result<store::Page<store::Vm>> list(const Principal& who, const std::string& project, const std::string& after,
                                      int limit);
  Result<store::Vm> get(const Principal& who, const std::string& project, const std::string& name);
  Result<store::Vm> update(const Principal& who, const std::string& project, const std::string& name,
                           const VmPatch& patch, std::optional<int64_t> if_match);
  Result<store::Vm> power(const Principal& who, const std::string& project, const std::string& name,
                          PowerAction action, std::optional<int64_t> if_match);
  Status remove(const Principal& who, const std::string& project, const std::string& name,
                std::optional<int64_t> if_match);

 private:
  const ServiceContext& ctx_;
};

}  // namespace berth::controlplane
