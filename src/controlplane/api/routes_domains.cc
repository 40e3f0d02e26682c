#include "common/clock.h"
#include "controlplane/api/json_fields.h"
#include "controlplane/api/render.h"
#include "controlplane/api/request_context.h"

namespace berth::controlplane {

namespace {
nlohmann::json domainJson(const store::Domain& d) {
  return {{"name", d.name},
          {"project", d.project},
          {"app", d.app},
          {"created_at", formatTimestamp(d.created_at)},
          {"created_by", d.created_by}};
}
}  // namespace

Result<HttpResponse> handleAddDomain(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto body, jsonBody(c.request));
  FieldReader f(body);
  auto name = f.string("name", true);
  auto app = f.name("app", true);
  BERTH_RETURN_IF_ERROR(f.finish());
  BERTH_ASSIGN_OR_RETURN(DomainAdded added,
                         c.services.domains.add(c.who, c.param("project"), *app, *name));
  return jsonResponse(added.created ? 201 : 200, domainJson(added.domain));
}

Result<HttpResponse> handleListDomains(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto domains, c.services.domains.list(c.who, c.param("project")));
  nlohmann::json items = nlohmann::json::array();
  for (const auto& d : domains) items.push_back(domainJson(d));
  return jsonResponse(200, {{"items", items}, {"next", nullptr}});
}

Result<HttpResponse> handleDeleteDomain(RequestContext& c) {
  BERTH_RETURN_IF_ERROR(c.services.domains.remove(c.who, c.param("project"), c.param("domain")));
  return noContent();
}

// PEM for `curl --cacert`: not JSON, so it can be saved as it comes.
Result<HttpResponse> handleIngressCa(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(std::string pem, c.services.nodes.ingressCa(c.who));
  HttpResponse r;
  r.content_type = "application/x-pem-file";
  r.body = std::move(pem);
  return r;
}

}  // namespace berth::controlplane
