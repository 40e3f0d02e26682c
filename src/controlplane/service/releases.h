#pragma once
// Making a release, shared by app changes, rollbacks and secret changes.

#include <string>

#include "common/status.h"
#include "store/store.h"

namespace berth::controlplane {

// Appends a release with `spec_json` and points the app at it, in the caller's transaction.
Status activateRelease(store::Tx& tx, store::App& app, const std::string& spec_json, const std::string& actor,
                       int64_t now);

}  // namespace berth::controlplane
