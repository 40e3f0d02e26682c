#include "controlplane/api/render.h"

#include "controlplane/service/network_allocator.h"

namespace berth::controlplane {

namespace {
void timestamps(JsonWriter& w, int64_t created_at, int64_t updated_at) {
  w.field("created_at", formatTimestamp(created_at)).field("updated_at", formatTimestamp(updated_at));
}

void resources(JsonWriter& w, int64_t vcpus, int64_t memory_mib, int64_t disk_gib) {
  w.field("vcpus", vcpus).field("memory_mib", memory_mib).field("disk_gib", disk_gib);
}
}  // namespace

void renderProject(JsonWriter& w, const ProjectView& v) {
  const auto& p = v.project;
  w.beginObject().field("name", p.name);
  w.key("quotas").beginObject();
  resources(w, p.quotas.vcpus, p.quotas.memory_mib, p.quotas.disk_gib);
  w.field("vms", p.quotas.vms).endObject();
  w.key("usage").beginObject();
  resources(w, v.usage.vcpus, v.usage.memory_mib, v.usage.disk_gib);
  w.field("vms", v.usage.vms).endObject();
  // A project made before networks has none until berthd allocates it (at startup).
  w.key("network").beginObject();
  if (auto gateway = subnetGateway(p.subnet); gateway.isOk()) {
    w.field("subnet", p.subnet).field("gateway", *gateway);
  } else {
    w.key("subnet").null().key("gateway").null();
  }
  w.field("egress", p.egress).endObject();
  w.field("version", p.version);
  timestamps(w, p.created_at, p.updated_at);
  w.endObject();
}

void renderVm(JsonWriter& w, const store::Vm& vm) {
  w.beginObject().field("name", vm.name).field("project", vm.project);
  resources(w, vm.vcpus, vm.memory_mib, vm.disk_gib);
  w.field("runtime", vm.runtime).field("machine", vm.machine).field("node", vm.node).field("power", vm.power);
  w.field("state", vm.state).field("state_detail", vm.state_detail);
  // null for a VM made before networks, until berthd gives it one (at startup).
  w.field("address", vm.address.empty() ? std::nullopt : std::optional<std::string>(vm.address));
  w.field("restart_generation", vm.restart_generation).field("version", vm.version);
  timestamps(w, vm.created_at, vm.updated_at);
  w.endObject();
}

// Specs are stored as the canonical JSON that appSpecToJson produced, so they are embedded as is.
void renderApp(JsonWriter& w, const store::App& app) {
  w.beginObject().field("name", app.name).field("project", app.project).field("release", app.release);
  w.key("spec").raw(app.spec_json);
  w.key("status").beginObject().field("release", app.observed_release).field("state", app.state);
  w.field("detail", app.state_detail);
  if (!app.instances.empty()) {
    w.key("instances").beginArray();
    for (const auto& i : app.instances) {
      w.beginObject().field("vm", i.vm).field("release", i.release).field("state", i.state).field("detail", i.detail);
      w.endObject();
    }
    w.endArray();
  }
  w.endObject();
  w.key("domains").beginArray();
  for (const auto& d : app.domains) w.value(d);
  w.endArray().key("urls").beginArray();
  for (const auto& u : app.urls) w.value(u);
  w.endArray();
  w.field("version", app.version);
  timestamps(w, app.created_at, app.updated_at);
  w.endObject();
}

void renderRelease(JsonWriter& w, const store::Release& r) {
  w.beginObject().field("number", r.number);
  w.key("spec").raw(r.spec_json);
  w.field("created_at", formatTimestamp(r.created_at)).field("created_by", r.created_by);
  if (r.rollback_of > 0) w.field("rollback_of", r.rollback_of).field("automatic", r.automatic);
  w.field("state", r.state.empty() ? std::string("pending") : r.state);
  if (!r.detail.empty()) w.field("detail", r.detail);
  w.endObject();
}

void renderToken(JsonWriter& w, const store::Token& t) {
  w.beginObject().field("id", t.id).field("name", t.name).field("role", t.role).field("project", t.project);
  w.field("created_at", formatTimestamp(t.created_at)).field("created_by", t.created_by);
  w.endObject();
}

// Event details are written by the service with nlohmann's dump(), never taken from a request.
void renderEvent(JsonWriter& w, const store::Event& e) {
  w.beginObject().field("seq", e.seq).field("time", formatTimestamp(e.time)).field("actor", e.actor);
  w.field("action", e.action).field("project", e.project).field("object", e.object);
  w.key("details").raw(e.details_json.empty() ? "{}" : e.details_json);
  w.endObject();
}

void renderNode(JsonWriter& w, const store::Node& n) {
  w.beginObject().field("name", n.name).field("address", n.address);
  w.key("capacity").beginObject();
  resources(w, n.vcpus, n.memory_mib, n.disk_gib);
  w.endObject();
  // Its ports only: the CA is served once for all nodes (GET /v1/ingress/ca).
  w.key("ingress").beginObject().field("http_port", n.ingress_http_port);
  w.field("https_port", n.ingress_https_port).endObject();
  w.field("state", n.state).field("heartbeat_at", formatTimestamp(n.heartbeat_at)).field("version", n.version);
  timestamps(w, n.created_at, n.updated_at);
  w.endObject();
}

}  // namespace berth::controlplane
