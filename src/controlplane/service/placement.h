#pragma once
// Where an app's instances run: one per VM. An app pinned to a VM runs there; an unpinned one
// runs in the project's `replicas` oldest VMs (oldest first, so that a VM added later never moves
// an app that already runs). Every agent and every session resolves placement through here.

#include <string>
#include <vector>

#include "common/result.h"
#include "controlplane/service/app_spec_patch.h"
#include "store/store.h"

namespace berth::controlplane {

Result<std::vector<store::Vm>> appPlacement(store::Tx& tx, const std::string& project, const model::AppSpec& spec);

// What the app's instances add up to, for the app's status: the newest release any of them
// reports, and `failed` if one failed it, `running` once every placed VM runs it (`unhealthy`
// if one of those fails its check), else `deploying` with how many are running.
struct AppStatusSummary {
  int64_t release = 0;
  std::string state = "pending";
  std::string detail;
};
AppStatusSummary summarizeInstances(const std::vector<store::Vm>& placement,
                                    const std::vector<store::AppInstance>& instances);

}  // namespace berth::controlplane
