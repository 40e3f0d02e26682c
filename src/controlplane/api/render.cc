#include "controlplane/api/render.h"

namespace berth::controlplane {

namespace {
nlohmann::json optionalString(const std::optional<std::string>& s) {
  return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}
}  // namespace

nlohmann::json renderProject(const ProjectView& v) {
  const auto& p = v.project;
  return {{"name", p.name},
          {"quotas", {{"vcpus", p.quotas.vcpus}, {"memory_mib", p.quotas.memory_mib},
                      {"disk_gib", p.quotas.disk_gib}, {"vms", p.quotas.vms}}},
          {"usage", {{"vcpus", v.usage.vcpus}, {"memory_mib", v.usage.memory_mib},
                     {"disk_gib", v.usage.disk_gib}, {"vms", v.usage.vms}}},
          {"version", p.version},
          {"created_at", formatTimestamp(p.created_at)},
          {"updated_at", formatTimestamp(p.updated_at)}};
}

nlohmann::json renderVm(const store::Vm& vm) {
  return {{"name", vm.name},         {"project", vm.project},     {"vcpus", vm.vcpus},
          {"memory_mib", vm.memory_mib}, {"disk_gib", vm.disk_gib}, {"runtime", vm.runtime},
          {"machine", vm.machine},   {"node", optionalString(vm.node)}, {"power", vm.power},
          {"state", vm.state},       {"state_detail", vm.state_detail},
          {"restart_generation", vm.restart_generation}, {"version", vm.version},
          {"created_at", formatTimestamp(vm.created_at)}, {"updated_at", formatTimestamp(vm.updated_at)}};
}

nlohmann::json renderApp(const store::App& app) {
  auto spec = nlohmann::json::parse(app.spec_json, nullptr, false);
  return {{"name", app.name},
          {"project", app.project},
          {"release", app.release},
          {"spec", spec.is_discarded() ? nlohmann::json::object() : spec},
          {"version", app.version},
          {"created_at", formatTimestamp(app.created_at)},
          {"updated_at", formatTimestamp(app.updated_at)}};
}

nlohmann::json renderRelease(const store::Release& r) {
  auto spec = nlohmann::json::parse(r.spec_json, nullptr, false);
  return {{"number", r.number},
          {"spec", spec.is_discarded() ? nlohmann::json::object() : spec},
          {"created_at", formatTimestamp(r.created_at)},
          {"created_by", r.created_by}};
}

nlohmann::json renderToken(const store::Token& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"role", t.role},
          {"project", optionalString(t.project)},
          {"created_at", formatTimestamp(t.created_at)},
          {"created_by", t.created_by}};
}

nlohmann::json renderEvent(const store::Event& e) {
  auto details = nlohmann::json::parse(e.details_json, nullptr, false);
  return {{"seq", e.seq},
          {"time", formatTimestamp(e.time)},
          {"actor", e.actor},
          {"action", e.action},
          {"project", optionalString(e.project)},
          {"object", e.object},
          {"details", details.is_discarded() ? nlohmann::json::object() : details}};
}

nlohmann::json renderNode(const store::Node& n) {
  return {{"name", n.name},
          {"address", n.address},
          {"capacity", {{"vcpus", n.vcpus}, {"memory_mib", n.memory_mib}, {"disk_gib", n.disk_gib}}},
          {"state", n.state},
          {"heartbeat_at", formatTimestamp(n.heartbeat_at)},
          {"version", n.version},
          {"created_at", formatTimestamp(n.created_at)},
          {"updated_at", formatTimestamp(n.updated_at)}};
}

}  // namespace berth::controlplane
