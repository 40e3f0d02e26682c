#include "common/ipv4.h"
#include "controlplane/api/json_fields.h"
#include "controlplane/api/render.h"
#include "controlplane/api/request_context.h"

namespace berth::controlplane {

namespace {
// Long-polls stay below the default shutdown grace so a stopping berthd is not held up.
constexpr int64_t kMaxWaitSeconds = 15;
}  // namespace

Result<HttpResponse> handleRegisterNode(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto body, jsonBody(c.request));
  FieldReader f(body);
  store::Node node;
  auto name = f.name("name", true);
  node.address = f.string("address").value_or("");
  // Other nodes' tunnels are pointed at it: only an address, never a name to resolve or a port.
  if (!node.address.empty() && !parseIpv4(node.address).isOk()) {
    f.fail(invalidArgument("address must be the node's underlay IPv4 address, not '" +
                           node.address + "'"));
  }
  if (const auto* capacity = f.object("capacity")) {
    FieldReader cf(*capacity, "capacity.");
    node.vcpus = cf.integer("vcpus", 1, 4096, true).value_or(0);
    node.memory_mib = cf.integer("memory_mib", 64, 64 * 1024 * 1024, true).value_or(0);
    node.disk_gib = cf.integer("disk_gib", 1, 1024 * 1024, true).value_or(0);
    BERTH_RETURN_IF_ERROR(cf.finish());
  } else if (f.ok()) {
    f.fail(invalidArgument("capacity is required"));
  }
  // Absent: the node runs no ingress (agents before ingress, or one without it).
  if (const auto* ingress = f.object("ingress")) {
    FieldReader inf(*ingress, "ingress.");
    node.ingress_http_port = inf.integer("http_port", 0, 65535, true).value_or(0);
    node.ingress_https_port = inf.integer("https_port", 0, 65535, true).value_or(0);
    node.ingress_ca = inf.string("ca").value_or("");
    BERTH_RETURN_IF_ERROR(inf.finish());
  }
  BERTH_RETURN_IF_ERROR(f.finish());
  node.name = *name;
  BERTH_ASSIGN_OR_RETURN(store::Node stored, c.services.nodes.registerNode(c.who, node));
  return objectResponse(200, renderOne(renderNode, stored), stored.version);
}

Result<HttpResponse> handleListNodes(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto nodes, c.services.nodes.list(c.who));
  JsonWriter w;
  w.beginObject().key("items").beginArray();
  for (const auto& n : nodes) renderNode(w, n);
  w.endArray().key("next").null().endObject();
  return jsonResponse(200, w.take());
}

Result<HttpResponse> handleDrainNode(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(store::Node node, c.services.nodes.drain(c.who, c.param("node")));
  return objectResponse(202, renderOne(renderNode, node), node.version);
}

Result<HttpResponse> handleNodeAssignment(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(int64_t since, queryInteger(c.request, "since", 0, 0, INT64_MAX));
  BERTH_ASSIGN_OR_RETURN(int64_t wait, queryInteger(c.request, "wait", 0, 0, kMaxWaitSeconds));
  // Authorize before waiting, so a bad token cannot park a connection.
  BERTH_ASSIGN_OR_RETURN(model::NodeAssignment assignment, c.services.nodes.assignment(c.who, c.param("node")));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait);
  while (assignment.revision <= since && std::chrono::steady_clock::now() < deadline &&
         !c.request.server_stopping()) {
    c.services.events.waitForEvents(since, std::chrono::seconds(1));
    BERTH_ASSIGN_OR_RETURN(assignment, c.services.nodes.assignment(c.who, c.param("node")));
  }
  // The only place a secret's value leaves berthd: to the agent of the node that runs the app.
  return jsonResponse(200, model::nodeAssignmentToJson(assignment));
}

Result<HttpResponse> handleNodeStatus(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto body, jsonBody(c.request));
  FieldReader f(body);
  std::vector<model::VmObservation> observations;
  if (const auto* vms = f.array("vms")) {
    for (size_t i = 0; i < vms->size(); ++i) {
      std::string prefix = "vms[" + std::to_string(i) + "].";
      if (!(*vms)[i].is_object()) return invalidArgument("vms[" + std::to_string(i) + "] must be an object");
      FieldReader vf((*vms)[i], prefix);
      auto project = vf.name("project", true);
      auto name = vf.name("name", true);
      auto state = vf.string("state", true);
      auto detail = vf.string("detail");
      BERTH_RETURN_IF_ERROR(vf.finish());
      observations.push_back({*project, *name, *state, detail.value_or("")});
    }
  }
  std::vector<model::AppObservation> app_observations;
  if (const auto* apps = f.array("apps")) {
    for (size_t i = 0; i < apps->size(); ++i) {
      std::string prefix = "apps[" + std::to_string(i) + "].";
      if (!(*apps)[i].is_object()) return invalidArgument("apps[" + std::to_string(i) + "] must be an object");
      FieldReader af((*apps)[i], prefix);
      auto project = af.name("project", true);
      auto name = af.name("name", true);
      auto release = af.integer("release", 0, INT64_MAX, true);
      auto state = af.string("state", true);
      auto detail = af.string("detail");
      auto serving = af.integer("serving_release", 0, INT64_MAX);
      auto vm = af.name("vm");
      BERTH_RETURN_IF_ERROR(af.finish());
      app_observations.push_back(
          {*project, *name, *release, *state, detail.value_or(""), serving.value_or(0), vm.value_or("")});
    }
  }
  BERTH_RETURN_IF_ERROR(f.finish());
  BERTH_RETURN_IF_ERROR(c.services.nodes.report(c.who, c.param("node"), observations, app_observations));
  return noContent();
}

}  // namespace berth::controlplane
