#include "controlplane/api/json_fields.h"
#include "controlplane/api/render.h"
#include "controlplane/api/request_context.h"

namespace berth::controlplane {

Result<HttpResponse> handleWhoami(RequestContext& c) {
  return jsonResponse(200, {{"token_id", c.who.token_id},
                            {"name", c.who.token_name},
                            {"role", roleName(c.who.role)},
                            {"project", c.who.project ? nlohmann::json(*c.who.project) : nlohmann::json(nullptr)}});
}

Result<HttpResponse> handleCreateToken(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto body, jsonBody(c.request));
  FieldReader f(body);
  auto name = f.name("name", true);
  auto role = f.oneOf("role", {"admin", "owner", "deployer", "viewer", "node"}, true);
  auto project = f.name("project");
  BERTH_RETURN_IF_ERROR(f.finish());
  BERTH_ASSIGN_OR_RETURN(CreatedToken created, c.services.tokens.create(c.who, *name, *parseRole(*role), project));
  // The token object plus the secret, which is shown only here.
  std::string out = renderOne(renderToken, created.token);
  out.pop_back();
  out += ",\"token\":";
  appendJsonString(out, created.secret);
  out += "}";
  return jsonResponse(201, std::move(out));
}

Result<HttpResponse> handleListTokens(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(Paging p, parsePaging(c.request));
  BERTH_ASSIGN_OR_RETURN(auto page, c.services.tokens.list(c.who, p.after, p.limit));
  return jsonResponse(200, renderPage(page, renderToken));
}

Result<HttpResponse> handleDeleteToken(RequestContext& c) {
  BERTH_RETURN_IF_ERROR(c.services.tokens.remove(c.who, c.param("token")));
  return noContent();
}

}  // namespace berth::controlplane
