#include "common/clock.h"
#include "controlplane/api/json_fields.h"
#include "controlplane/api/render.h"
#include "controlplane/api/request_context.h"

namespace berth::controlplane {

namespace {
// Name, version and provenance: never the value, never the sealed form.
nlohmann::json secretJson(const store::Secret& s) {
  return {{"name", s.name},
          {"version", s.version},
          {"created_at", formatTimestamp(s.created_at)},
          {"created_by", s.created_by}};
}
}  // namespace

Result<HttpResponse> handleSetSecret(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto body, jsonBody(c.request));
  FieldReader f(body);
  auto name = f.string("name", true);
  auto value = f.string("value", true);
  BERTH_RETURN_IF_ERROR(f.finish());
  BERTH_RETURN_IF_ERROR(checkSecretName(*name, "name"));
  BERTH_ASSIGN_OR_RETURN(SecretSet set, c.services.secrets.set(c.who, c.param("project"), *name, *value));
  nlohmann::json out = secretJson(set.secret);
  out["apps_released"] = set.apps_released;
  return objectResponse(set.secret.version == 1 ? 201 : 200, out.dump(), set.secret.version);
}

Result<HttpResponse> handleListSecrets(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto secrets, c.services.secrets.list(c.who, c.param("project")));
  nlohmann::json items = nlohmann::json::array();
  for (const auto& s : secrets) items.push_back(secretJson(s));
  return jsonResponse(200, {{"items", items}, {"next", nullptr}});
}

Result<HttpResponse> handleDeleteSecret(RequestContext& c) {
  BERTH_RETURN_IF_ERROR(c.services.secrets.remove(c.who, c.param("project"), c.param("secret")));
  return noContent();
}

}  // namespace berth::controlplane
