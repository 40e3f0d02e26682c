#pragma once
// Quota arithmetic, with messages that say which limit and by how much.

#include <string>

#include "common/status.h"
#include "store/model.h"

namespace berth::controlplane {

// FailedPrecondition if `usage` (after a change) exceeds any of `quotas`.
Status checkUsageWithinQuota(const std::string& project, const store::Quotas& quotas, const store::Usage& usage);
// FailedPrecondition if a quota is being lowered below what the project already uses.
Status checkQuotaNotBelowUsage(const std::string& project, const store::Quotas& quotas, const store::Usage& usage);

}  // namespace berth::controlplane
