#include "controlplane/service/releases.h"

#include <cstdlib>

#include "controlplane/service/host_ports.h"

namespace berth::controlplane {

Status activateRelease(store::Tx& tx, store::App& app, const std::string& spec_json, const std::string& actor,
                       int64_t now, int64_t rollback_of, bool automatic) {
  int64_t version = app.version;
  app.release += 1;
  app.spec_json = spec_json;
  app.updated_at = now;
  BERTH_RETURN_IF_ERROR(
      tx.insertRelease({app.project, app.name, app.release, spec_json, now, actor, rollback_of, automatic, "", ""}));
  BERTH_RETURN_IF_ERROR(tx.updateApp(app, version));
  app.version = version + 1;
  return Status::ok();
}

std::optional<model::SecretRef> deletedSecret(store::Tx& tx, const std::string& project, const model::AppSpec& spec) {
  for (const auto& ref : spec.secrets) {
    if (!tx.getSecret(project, ref.name, ref.version).isOk()) return ref;
  }
  return std::nullopt;
}

Status recordRolloutOutcome(const ServiceContext& ctx, store::Tx& tx, const Principal& who, store::App app,
                            const model::AppObservation& o) {
  if (o.state != "running" && o.state != "failed") return Status::ok();
  auto failed = tx.getRelease(o.project, o.name, o.release);
  if (!failed.isOk()) return Status::ok();  // deleted with its app since the agent looked
  if (failed->state != o.state || failed->detail != o.detail) {
    BERTH_RETURN_IF_ERROR(tx.setReleaseOutcome(o.project, o.name, o.release, o.state, o.state == "failed" ? o.detail : ""));
  }
  // Only the current release is rolled back: an older one failing was already superseded.
  if (o.state != "failed" || o.release != app.release || failed->automatic) return Status::ok();
  int64_t target = o.serving_release > 0 && o.serving_release < o.release ? o.serving_release : 0;
  for (int64_t before = o.release; target == 0 && before > 1;) {
    BERTH_ASSIGN_OR_RETURN(auto page, tx.listReleases(o.project, o.name, before, 100));
    for (const auto& r : page.items) {
      if (r.state == "running") {
        target = r.number;
        break;
      }
    }
    if (page.next.empty()) break;
    before = std::atoll(page.next.c_str());
  }
  if (target == 0) return Status::ok();  // nothing ever ran: nothing to go back to
  BERTH_ASSIGN_OR_RETURN(store::Release good, tx.getRelease(o.project, o.name, target));
  BERTH_ASSIGN_OR_RETURN(model::AppSpec good_spec, model::appSpecFromJson(good.spec_json));
  if (deletedSecret(tx, o.project, good_spec)) return Status::ok();  // its secret is gone
  // A host port the good release published may have gone to another app (or out of the range)
  // since: then there is nothing to go back to either, and the node's report still stands.
  Status claimed = claimHostPorts(tx, ctx.host_ports, o.project, o.name, good_spec, ctx.clock.wallMillis());
  if (claimed.code() == StatusCode::kConflict || claimed.code() == StatusCode::kInvalidArgument) return Status::ok();
  BERTH_RETURN_IF_ERROR(claimed);
  BERTH_RETURN_IF_ERROR(activateRelease(tx, app, good.spec_json, who.token_id, ctx.clock.wallMillis(), target, true));
  return tx.appendEvent(ctx.event(who, "app.rollback", o.project, "projects/" + o.project + "/apps/" + o.name,
                                  {{"release", app.release}, {"from_release", target}, {"automatic", true},
                                   {"failed_release", o.release}, {"reason", o.detail}}))
      .status();
}

}  // namespace berth::controlplane
