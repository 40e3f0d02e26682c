#include "controlplane/api/json_fields.h"
#include "controlplane/api/render.h"
#include "controlplane/api/request_context.h"

namespace berth::controlplane {

namespace {
constexpr int64_t kMaxVcpus = 64;
constexpr int64_t kMinMemoryMib = 64, kMaxMemoryMib = 256 * 1024;
constexpr int64_t kMaxDiskGib = 16 * 1024;

Result<HttpResponse> power(RequestContext& c, PowerAction action) {
  BERTH_ASSIGN_OR_RETURN(auto if_match, parseIfMatch(c.request));
  BERTH_ASSIGN_OR_RETURN(auto body, jsonBody(c.request, /*empty_ok=*/true));
  FieldReader f(body);
  BERTH_RETURN_IF_ERROR(f.finish());
  BERTH_ASSIGN_OR_RETURN(store::Vm vm,
                         c.services.vms.power(c.who, c.param("project"), c.param("vm"), action, if_match));
  return objectResponse(202, renderOne(renderVm, vm), vm.version);
}
}  // namespace

Result<HttpResponse> handleCreateVm(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto body, jsonBody(c.request));
  FieldReader f(body);
  store::Vm vm;
  vm.project = c.param("project");
  auto name = f.name("name", true);
  auto vcpus = f.integer("vcpus", 1, kMaxVcpus);
  auto memory = f.integer("memory_mib", kMinMemoryMib, kMaxMemoryMib);
  auto disk = f.integer("disk_gib", 1, kMaxDiskGib);
  // The other runtimes (libvirt, firecracker, cloud-hypervisor) need KVM and land with their drivers
  // (docs/architecture.md, "A runtime").
  auto runtime = f.oneOf("runtime", {"qemu"});
  auto machine = f.oneOf("machine", {"microvm", "q35"});
  auto node = f.name("node");
  auto power = f.oneOf("power", {"running", "stopped"});
  BERTH_RETURN_IF_ERROR(f.finish());
  vm.name = *name;
  if (vcpus) vm.vcpus = *vcpus;
  if (memory) vm.memory_mib = *memory;
  if (disk) vm.disk_gib = *disk;
  if (runtime) vm.runtime = *runtime;
  if (machine) vm.machine = *machine;
  vm.node = node;
  if (power) vm.power = *power;
  BERTH_ASSIGN_OR_RETURN(store::Vm created, c.services.vms.create(c.who, vm));
  return objectResponse(201, renderOne(renderVm, created), created.version);
}

Result<HttpResponse> handleListVms(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(Paging p, parsePaging(c.request));
  BERTH_ASSIGN_OR_RETURN(auto page, c.services.vms.list(c.who, c.param("project"), p.after, p.limit));
  return jsonResponse(200, renderPage(page, renderVm));
}

Result<HttpResponse> handleGetVm(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(store::Vm vm, c.services.vms.get(c.who, c.param("project"), c.param("vm")));
  return objectResponse(200, renderOne(renderVm, vm), vm.version);
}

Result<HttpResponse> handlePatchVm(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto if_match, parseIfMatch(c.request));
  BERTH_ASSIGN_OR_RETURN(auto body, jsonBody(c.request));
  FieldReader f(body);
  VmPatch patch;
  patch.vcpus = f.integer("vcpus", 1, kMaxVcpus);
  patch.memory_mib = f.integer("memory_mib", kMinMemoryMib, kMaxMemoryMib);
  patch.disk_gib = f.integer("disk_gib", 1, kMaxDiskGib);
  patch.machine = f.oneOf("machine", {"microvm", "q35"});
  patch.power = f.oneOf("power", {"running", "stopped"});
  BERTH_RETURN_IF_ERROR(f.finish());
  BERTH_ASSIGN_OR_RETURN(store::Vm vm,
                         c.services.vms.update(c.who, c.param("project"), c.param("vm"), patch, if_match));
  return objectResponse(200, renderOne(renderVm, vm), vm.version);
}

Result<HttpResponse> handleDeleteVm(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto if_match, parseIfMatch(c.request));
  BERTH_RETURN_IF_ERROR(c.services.vms.remove(c.who, c.param("project"), c.param("vm"), if_match));
  return noContent();
}

Result<HttpResponse> handleStartVm(RequestContext& c) { return power(c, PowerAction::kStart); }
Result<HttpResponse> handleStopVm(RequestContext& c) { return power(c, PowerAction::kStop); }
Result<HttpResponse> handleRestartVm(RequestContext& c) { return power(c, PowerAction::kRestart); }

}  // namespace berth::controlplane
