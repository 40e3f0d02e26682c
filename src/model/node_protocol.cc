#include "model/node_protocol.h"

#include "model/json_reader.h"

namespace berth::model {

using nlohmann::json;

namespace {

json vmSpecToJson(const VmSpec& vm) {
  return {{"project", vm.project},
          {"name", vm.name},
          {"vcpus", vm.vcpus},
          {"memory_mib", vm.memory_mib},
          {"disk_gib", vm.disk_gib},
          {"runtime", vm.runtime},
          {"machine", vm.machine},
          {"power", vm.power},
          {"restart_generation", vm.restart_generation},
          {"address", vm.address}};
}

void readVmSpec(JsonReader& r, VmSpec& vm) {
  r.read("project", vm.project)
      .read("name", vm.name)
      .read("vcpus", vm.vcpus)
      .read("memory_mib", vm.memory_mib);
  r.read("disk_gib", vm.disk_gib)
      .read("runtime", vm.runtime)
      .read("machine", vm.machine)
      .read("power", vm.power);
  r.read("restart_generation", vm.restart_generation).read("address", vm.address);
}

json projectNetworkToJson(const ProjectNetwork& network) {
  json hosts = json::array();
  for (const auto& h : network.hosts) hosts.push_back({{"name", h.name}, {"address", h.address}});
  json peers = json::array();
  for (const auto& peer : network.peers) {
    json vms = json::array();
    for (const auto& vm : peer.vms) vms.push_back({{"name", vm.name}, {"address", vm.address}});
    peers.push_back({{"node", peer.node}, {"address", peer.address}, {"vms", vms}});
  }
  return {{"project", network.project},
          {"subnet", network.subnet},
          {"gateway", network.gateway},
          {"egress", network.egress},
          {"hosts", hosts},
          {"vni", network.vni},
          {"peers", peers}};
}

void readProjectNetwork(JsonReader& r, ProjectNetwork& network) {
  r.read("project", network.project)
      .read("subnet", network.subnet)
      .read("gateway", network.gateway);
  r.read("egress", network.egress);
  r.each("hosts", [&](JsonReader& item) {
    NetworkHost& host = network.hosts.emplace_back();
    item.read("name", host.name).read("address", host.address);
  });
  // Absent from a berthd before overlays: vni 0 and no peers, a network of this node alone.
  r.read("vni", network.vni);
  r.each("peers", [&](JsonReader& item) {
    NetworkPeer& peer = network.peers.emplace_back();
    item.read("node", peer.node).read("address", peer.address);
    item.each("vms", [&](JsonReader& vm_item) {
      RemoteVm& vm = peer.vms.emplace_back();
      vm_item.read("name", vm.name).read("address", vm.address);
    });
  });
}

json appAssignmentToJson(const AppAssignment& app) {
  json secrets = json::array();
  for (const auto& s : app.secrets)
    secrets.push_back({{"name", s.name}, {"as", s.as}, {"value", s.value}});
  json out = {{"project", app.project},
              {"name", app.name},
              {"vm", app.vm},
              {"release", app.release},
              {"spec", appSpecToJson(app.spec)},
              {"secrets", secrets},
              {"domains", app.domains}};
  if (app.image) {
    out["image"] = {{"digest", app.image->digest},
                    {"rootfs_digest", app.image->rootfs_digest},
                    {"rootfs_size", app.image->rootfs_size},
                    {"config", imageConfigToJson(app.image->config)}};
  }
  return out;
}

void readAppAssignment(JsonReader& r, AppAssignment& app) {
  r.read("project", app.project)
      .read("name", app.name)
      .read("vm", app.vm)
      .read("release", app.release);
  if (const json* spec = r.object("spec")) {
    auto parsed = appSpecFromJson(*spec);
    if (parsed.isOk()) app.spec = std::move(parsed).value();
    r.fail(parsed.status().withContext(r.at("spec")));
  }
  r.each("secrets", [&](JsonReader& item) {
    SecretValue& secret = app.secrets.emplace_back();
    item.read("name", secret.name).read("as", secret.as).read("value", secret.value);
  });
  r.read("domains", app.domains);
  if (const json* image = r.object("image")) {
    ContainerImage& ci = app.image.emplace();
    JsonReader ir(*image, r.at("image."));
    ir.read("digest", ci.digest)
        .read("rootfs_digest", ci.rootfs_digest)
        .read("rootfs_size", ci.rootfs_size);
    if (const json* config = ir.object("config")) {
      auto parsed = imageConfigFromJson(*config);
      if (parsed.isOk()) ci.config = std::move(parsed).value();
      ir.fail(parsed.status());
    }
    r.fail(ir.status());
  }
}

}  // namespace

json imageConfigToJson(const ImageConfig& c) {
  return {{"entrypoint", c.entrypoint},   {"cmd", c.cmd},   {"env", c.env},
          {"working_dir", c.working_dir}, {"user", c.user}, {"exposed_ports", c.exposed_ports}};
}

Result<ImageConfig> imageConfigFromJson(const json& j) {
  ImageConfig c;
  JsonReader r(j, "image.config.");
  r.read("entrypoint", c.entrypoint)
      .read("cmd", c.cmd)
      .read("env", c.env)
      .read("working_dir", c.working_dir);
  r.read("user", c.user).read("exposed_ports", c.exposed_ports);
  BERTH_RETURN_IF_ERROR(r.status());
  return c;
}

json nodeAssignmentToJson(const NodeAssignment& assignment) {
  json vms = json::array(), apps = json::array(), networks = json::array();
  for (const auto& vm : assignment.vms) vms.push_back(vmSpecToJson(vm));
  for (const auto& app : assignment.apps) apps.push_back(appAssignmentToJson(app));
  for (const auto& network : assignment.networks) networks.push_back(projectNetworkToJson(network));
  return {{"revision", assignment.revision}, {"vms", vms}, {"apps", apps}, {"networks", networks}};
}

Result<NodeAssignment> nodeAssignmentFromJson(const json& j) {
  NodeAssignment out;
  JsonReader r(j, "");
  r.read("revision", out.revision);
  r.each("vms", [&](JsonReader& item) { readVmSpec(item, out.vms.emplace_back()); });
  r.each("apps", [&](JsonReader& item) { readAppAssignment(item, out.apps.emplace_back()); });
  r.each("networks",
         [&](JsonReader& item) { readProjectNetwork(item, out.networks.emplace_back()); });
  BERTH_RETURN_IF_ERROR(r.status());
  return out;
}

json nodeReportToJson(const NodeReport& report) {
  json vms = json::array(), apps = json::array();
  for (const auto& vm : report.vms) {
    vms.push_back(
        {{"project", vm.project}, {"name", vm.name}, {"state", vm.state}, {"detail", vm.detail}});
  }
  for (const auto& a : report.apps) {
    json observed = {{"project", a.project}, {"name", a.name},   {"vm", a.vm},
                     {"release", a.release}, {"state", a.state}, {"detail", a.detail}};
    if (a.serving_release > 0) observed["serving_release"] = a.serving_release;
    apps.push_back(std::move(observed));
  }
  return {{"vms", vms}, {"apps", apps}};
}

json nodeRegistrationToJson(const NodeRegistration& registration) {
  json out = {{"name", registration.name},
              {"capacity",
               {{"vcpus", registration.capacity.vcpus},
                {"memory_mib", registration.capacity.memory_mib},
                {"disk_gib", registration.capacity.disk_gib}}}};
  if (!registration.address.empty()) out["address"] = registration.address;
  if (registration.ingress.https_port > 0) {
    out["ingress"] = {{"http_port", registration.ingress.http_port},
                      {"https_port", registration.ingress.https_port},
                      {"ca", registration.ingress.ca}};
  }
  return out;
}

}  // namespace berth::model
