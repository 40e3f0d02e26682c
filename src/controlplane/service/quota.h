#pragma once
// Quota arithmetic, with messages that say which limit and by how much. Pure functions.

#include <string>

#include "common/status.h"
#include "store/model.h"

namespace berth::controlplane {

// What one more VM adds to a project's usage.
void addToUsage(store::Usage& usage, const store::Vm& vm);

// FailedPrecondition if `usage` (after a change) exceeds any of `quotas`.
Status checkUsageWithinQuota(const std::string& project, const store::Quotas& quotas, const store::Usage& usage);
// FailedPrecondition if a quota is being lowered below what the project already uses.
Status checkQuotaNotBelowUsage(const std::string& project, const store::Quotas& quotas, const store::Usage& usage);

}  // namespace berth::controlplane
