#include "controlplane/service/secret_service.h"

#include "common/base64.h"
#include "controlplane/service/project_apps.h"
#include "controlplane/service/releases.h"

namespace berth::controlplane {

namespace {
constexpr size_t kMaxSecretBytes = 64 * 1024;

// Binds a sealed value to its row: moved to another name or version, it no longer opens.
std::string sealContext(const std::string& project, const std::string& name, int64_t version) {
  return project + "/" + name + "/" + std::to_string(version);
}

std::string secretPath(const std::string& project, const std::string& name) {
  return "projects/" + project + "/secrets/" + name;
}
}  // namespace

Status resolveSecretVersions(store::Tx& tx, const std::string& project, model::AppSpec& spec) {
  for (auto& ref : spec.secrets) {
    if (ref.version > 0) continue;
    auto secret = tx.getSecret(project, ref.name, 0);
    if (!secret.isOk()) {
      if (secret.status().code() != StatusCode::kNotFound) return secret.status();
      return invalidArgument("secret '" + ref.name + "' does not exist in project '" + project +
                             "'; set it first: berth secret set " + ref.name);
    }
    ref.version = secret->version;
  }
  return Status::ok();
}

Result<std::vector<model::SecretValue>> SecretService::open(store::Tx& tx, const std::string& project,
                                                           const model::AppSpec& spec) const {
  std::vector<model::SecretValue> out;
  if (spec.secrets.empty()) return out;
  if (!secret_box_) return unavailable("berthd has no master key, so it cannot open secrets");
  for (const auto& ref : spec.secrets) {
    BERTH_ASSIGN_OR_RETURN(store::Secret secret, tx.getSecret(project, ref.name, ref.version));
    auto sealed = base64Decode(secret.sealed, "sealed");
    if (!sealed.isOk()) return internalError("secret '" + ref.name + "' is stored malformed");
    auto value = secret_box_->open(*sealed, sealContext(project, ref.name, ref.version));
    if (!value.isOk()) return value.status().withContext("secret '" + ref.name + "'");
    out.push_back({ref.name, ref.as, std::move(value).value()});
  }
  return out;
}

Result<SecretSet> SecretService::set(const Principal& who, const std::string& project, const std::string& name,
                                     const std::string& value) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kDeploy, "project '" + project + "'"));
  if (value.size() > kMaxSecretBytes) {
    return invalidArgument("a secret's value may be at most 64 KiB, not " + std::to_string(value.size()) + " bytes");
  }
  if (!secret_box_) return unavailable("berthd has no master key, so it cannot store secrets");
  SecretSet out;
  const int64_t now = ctx_.clock.wallMillis();
  BERTH_RETURN_IF_ERROR(ctx_.store.write([&](store::Tx& tx) {
    out.apps_released.clear();
    BERTH_RETURN_IF_ERROR(tx.getProject(project).status());
    auto latest = tx.getSecret(project, name, 0);
    if (!latest.isOk() && latest.status().code() != StatusCode::kNotFound) return latest.status();
    const int64_t version = latest.isOk() ? latest->version + 1 : 1;
    BERTH_ASSIGN_OR_RETURN(std::string sealed, secret_box_->seal(value, sealContext(project, name, version)));
    out.secret = {project, name, version, base64Encode(sealed), now, who.token_id};
    BERTH_RETURN_IF_ERROR(tx.insertSecret(out.secret));
    BERTH_RETURN_IF_ERROR(tx.appendEvent(ctx_.event(who, "secret.set", project, secretPath(project, name),
                                                    {{"version", version}}))
                              .status());
    // The apps that use it get a release carrying the new version: the change is deployed,
    // recorded and reversible like any other.
    BERTH_ASSIGN_OR_RETURN(auto apps, allApps(tx, project));
    for (auto& app : apps) {
      BERTH_ASSIGN_OR_RETURN(model::AppSpec spec, model::appSpecFromJson(app.spec_json));
      bool uses = false;
      for (auto& ref : spec.secrets) {
        if (ref.name == name) {
          ref.version = version;
          uses = true;
        }
      }
      if (!uses) continue;
      BERTH_RETURN_IF_ERROR(activateRelease(tx, app, model::appSpecToJson(spec).dump(), who.token_id, now));
      BERTH_RETURN_IF_ERROR(tx.appendEvent(ctx_.event(who, "app.update", project,
                                                      "projects/" + project + "/apps/" + app.name,
                                                      {{"release", app.release}, {"secret", name}}))
                                .status());
      out.apps_released.push_back(app.name);
    }
    return Status::ok();
  }));
  return out;
}

Result<std::vector<store::Secret>> SecretService::list(const Principal& who, const std::string& project) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kRead, "project '" + project + "'"));
  BERTH_ASSIGN_OR_RETURN(std::vector<store::Secret> out,
                         ctx_.listInProject(project, [&](store::Tx& tx) { return tx.listSecrets(project); }));
  for (auto& s : out) s.sealed.clear();  // not even the sealed form leaves the service
  return out;
}

Status SecretService::remove(const Principal& who, const std::string& project, const std::string& name) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kDeploy, "project '" + project + "'"));
  return ctx_.store.write([&](store::Tx& tx) {
    BERTH_RETURN_IF_ERROR(tx.getProject(project).status());
    BERTH_ASSIGN_OR_RETURN(auto apps, allApps(tx, project));
    std::string users;
    for (const auto& app : apps) {
      BERTH_ASSIGN_OR_RETURN(model::AppSpec spec, model::appSpecFromJson(app.spec_json));
      for (const auto& ref : spec.secrets) {
        if (ref.name == name) users += (users.empty() ? "" : ", ") + app.name;
      }
    }
    if (!users.empty()) {
      return failedPrecondition("secret '" + name + "' is used by app(s) " + users +
                                "; remove it from their secrets first");
    }
    BERTH_RETURN_IF_ERROR(tx.deleteSecret(project, name));
    return tx.appendEvent(ctx_.event(who, "secret.delete", project, secretPath(project, name))).status();
  });
}

}  // namespace berth::controlplane
