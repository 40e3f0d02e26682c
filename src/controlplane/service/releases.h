#pragma once
// Making a release, shared by app changes, rollbacks (asked for or automatic) and secret
// changes, and what a rollout's outcome does to an app's releases. Each function works in the
// caller's transaction; none keeps state.

#include <optional>
#include <string>

#include "common/status.h"
#include "controlplane/service/service_context.h"
#include "model/app_spec.h"
#include "model/node_protocol.h"
#include "store/store.h"

namespace berth::controlplane {

// Appends a release with `spec_json` and points the app at it, in the caller's transaction.
// A rollback names the release it restores (`rollback_of`), and whether berthd made it itself.
Status activateRelease(store::Tx& tx, store::App& app, const std::string& spec_json, const std::string& actor,
                       int64_t now, int64_t rollback_of = 0, bool automatic = false);

// The first of `spec`'s secrets whose version is gone (deleted since the release was made):
// a release that uses one cannot be restored.
std::optional<model::SecretRef> deletedSecret(store::Tx& tx, const std::string& project, const model::AppSpec& spec);

// The app's instances, summed up (`o`), finished or failed a rollout of a release: records that
// on the release. A failed current release is rolled back to the one still serving (or the newest
// that ever ran), unless it was itself such a rollback or another app has since taken a host port
// that release published (host_ports.h); the rollback is an `app.rollback` event
// by `who` (the reporting node).
Status recordRolloutOutcome(const ServiceContext& ctx, store::Tx& tx, const Principal& who, store::App app,
                            const model::AppObservation& o);

}  // namespace berth::controlplane
