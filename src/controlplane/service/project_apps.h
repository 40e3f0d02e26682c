#pragma once
// Every app of a project, read page by page in the caller's transaction: what a project-wide
// change (a secret's new version) looks through, and what a node's assignment is made from.

#include <string>
#include <vector>

#include "common/result.h"
#include "store/store.h"

namespace berth::controlplane {

Result<std::vector<store::App>> allApps(store::Tx& tx, const std::string& project);

}  // namespace berth::controlplane
