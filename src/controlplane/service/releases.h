#pragma once
// Making a release, shared by app changes, rollbacks and secret changes.

#include <string>

#include "common/status.h"
#include "store/store.h"

namespace berth::controlplane {

// Appends a release with `spec_json` and points the app at it, in the caller's transaction.
// A rollback names the release it restores (`rollback_of`), and whether berthd made it itself.
Status activateRelease(store::Tx& tx, store::App& app, const std::string& spec_json, const std::string& actor,
                       int64_t now, int64_t rollback_of = 0, bool automatic = false);

}  // namespace berth::controlplane
