#include "controlplane/api/json_fields.h"
#include "controlplane/api/render.h"
#include "controlplane/api/request_context.h"

namespace berth::controlplane {

namespace {
// Upper bounds keep arithmetic on usage far from overflow and catch unit mistakes (MiB vs bytes).
Result<QuotaPatch> readQuotas(FieldReader& f) {
  QuotaPatch q;
  const auto* obj = f.object("quotas");
  if (!obj) return q;
  FieldReader qf(*obj, "quotas.");
  q.vcpus = qf.integer("vcpus", 0, 4096);
  q.memory_mib = qf.integer("memory_mib", 0, 16 * 1024 * 1024);
  q.disk_gib = qf.integer("disk_gib", 0, 1024 * 1024);
  q.vms = qf.integer("vms", 0, 10000);
  BERTH_RETURN_IF_ERROR(qf.finish());
  return q;
}

Result<ProjectPatch> readProjectPatch(FieldReader& f) {
  ProjectPatch patch;
  BERTH_ASSIGN_OR_RETURN(patch.quotas, readQuotas(f));
  patch.egress = f.oneOf("egress", {"allow", "deny"});
  return patch;
}
}  // namespace

Result<HttpResponse> handleCreateProject(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto body, jsonBody(c.request));
  FieldReader f(body);
  auto name = f.name("name", true);
  BERTH_ASSIGN_OR_RETURN(ProjectPatch patch, readProjectPatch(f));
  BERTH_RETURN_IF_ERROR(f.finish());
  BERTH_ASSIGN_OR_RETURN(ProjectView view, c.services.projects.create(c.who, *name, patch));
  return objectResponse(201, renderOne(renderProject, view), view.project.version);
}

Result<HttpResponse> handleListProjects(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(Paging p, parsePaging(c.request));
  BERTH_ASSIGN_OR_RETURN(auto page, c.services.projects.list(c.who, p.after, p.limit));
  return jsonResponse(200, renderPage(page, renderProject));
}

Result<HttpResponse> handleGetProject(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(ProjectView view, c.services.projects.get(c.who, c.param("project")));
  return objectResponse(200, renderOne(renderProject, view), view.project.version);
}

Result<HttpResponse> handlePatchProject(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto if_match, parseIfMatch(c.request));
  BERTH_ASSIGN_OR_RETURN(auto body, jsonBody(c.request));
  FieldReader f(body);
  BERTH_ASSIGN_OR_RETURN(ProjectPatch patch, readProjectPatch(f));
  BERTH_RETURN_IF_ERROR(f.finish());
  BERTH_ASSIGN_OR_RETURN(ProjectView view, c.services.projects.update(c.who, c.param("project"), patch, if_match));
  return objectResponse(200, renderOne(renderProject, view), view.project.version);
}

Result<HttpResponse> handleDeleteProject(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto if_match, parseIfMatch(c.request));
  BERTH_RETURN_IF_ERROR(c.services.projects.remove(c.who, c.param("project"), if_match));
  return noContent();
}

}  // namespace berth::controlplane
