#include "agent/agent.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <vector>

#include "agent/runtime/initramfs.h"
#include "os/file_util.h"

namespace berth::agent {

Agent::Agent(AgentOptions options, std::unique_ptr<client::ApiClient> api, RuntimeRegistry runtimes,
             std::unique_ptr<VmNetwork> network, const Clock& clock,
             std::unique_ptr<Ingress> ingress)
    : options_(std::move(options)),
      paths_(options_.data_dir),
      api_(std::move(api)),
      runtimes_(std::move(runtimes)),
      network_(std::move(network)),
      clock_(clock),
      ingress_(ingress ? std::move(ingress) : std::make_unique<NoIngress>()),
      router_(PortPublisher(options_.agent_binary, paths_.proxiesDir(), options_.publish_address),
              *ingress_),
      reporter_(options_.node_name, *api_),
      images_(*api_, paths_) {}

Agent::~Agent() { stop(); }

Status Agent::registerNode() {
  model::NodeRegistration registration{options_.node_name, network_->underlayAddress(), capacity_,
                                       ingress_->describe()};
  auto registered = api_->post("/v1/nodes", model::nodeRegistrationToJson(registration));
  if (!registered.isOk())
    return registered.status().withContext("cannot register node " + options_.node_name);
  registered_ingress_ = registration.ingress;
  return Status::ok();
}

Status Agent::start() {
  BERTH_RETURN_IF_ERROR(os::makeDirs(paths_.data(), 0700));
  BERTH_RETURN_IF_ERROR(os::makeDirs(paths_.imagesDir(), 0700));
  if (::access(options_.kernel.c_str(), R_OK) != 0) {
    return failedPrecondition("guest kernel " + options_.kernel +
                              " is missing (run scripts/fetch-guest-kernel, or pass --kernel)");
  }
  InitramfsInputs inputs{options_.init_binary, options_.modules_dir, defaultGuestModules(),
                         options_.busybox};
  BERTH_ASSIGN_OR_RETURN(std::string initramfs, buildInitramfs(inputs, paths_.cacheDir()));

  const int64_t cpus =
      options_.vcpus > 0 ? options_.vcpus : std::max<long>(1, ::sysconf(_SC_NPROCESSORS_ONLN));
  const int64_t mem = options_.memory_mib > 0 ? options_.memory_mib
                                              : static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) *
                                                    ::sysconf(_SC_PAGE_SIZE) / (1 << 20);
  capacity_ = {cpus * 4, mem, options_.disk_gib > 0 ? options_.disk_gib : 100};
  BERTH_RETURN_IF_ERROR(registerNode());
  context_ = std::make_unique<SupervisorContext>(SupervisorContext{
      paths_, runtimes_, *network_, router_, reporter_, images_, clock_, guestConnector(),
      VmBoot{options_.kernel, std::move(initramfs)}, options_.app_log_bytes});
  reporter_.start();
  thread_ = std::thread([this] { loop(); });
  sessions_ = std::make_unique<SessionRunner>(
      options_.node_name, *api_, paths_, [this](const std::string& project, const std::string& vm) {
        return liveChannel(project, vm);
      });
  sessions_->start();
  return Status::ok();
}

void Agent::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(supervisors_mu_);
    for (auto& [key, supervisor] : supervisors_) supervisor->stop();
    for (auto& supervisor : retiring_) supervisor->stop();
  }
  if (sessions_) sessions_->stop();
  reporter_.stop();
  std::lock_guard lock(supervisors_mu_);
  supervisors_.clear();
  retiring_.clear();
}

std::shared_ptr<GuestConnection> Agent::liveChannel(const std::string& project,
                                                    const std::string& vm) {
  std::lock_guard lock(supervisors_mu_);
  auto it = supervisors_.find(VmKey{project, vm});
  if (it == supervisors_.end()) return nullptr;
  // Sessions need the exec extras (output sink, request id) only the real connection has; a
  // test's fake channel has none, and then no session reaches the VM.
  return std::dynamic_pointer_cast<GuestConnection>(it->second->liveChannel());
}

void Agent::loop() {
  int64_t revision = 0;
  while (!stopping_) {
    auto assignment = api_->get("/v1/nodes/" + options_.node_name +
                                "/assignment?since=" + std::to_string(revision) +
                                "&wait=" + std::to_string(options_.poll_seconds));
    if (!assignment.isOk()) {
      spdlog::warn("agent: cannot read assignment: {}", assignment.status().toString());
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    auto parsed = model::nodeAssignmentFromJson(assignment->body);
    if (!parsed.isOk()) {
      spdlog::warn("agent: berthd sent an assignment this agent cannot read: {}",
                   parsed.status().toString());
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    revision = parsed->revision;
    if (stopping_) break;
    // Networks first: a VM's supervisor boots it onto its tap. One that cannot be applied leaves
    // the networks as they were; the VMs that need the change fail to boot and say why.
    if (Status networks = network_->apply(*parsed); !networks.isOk()) {
      spdlog::warn("agent: cannot apply the node's {} networks: {}", network_->mode(),
                   networks.toString());
    }
    dispatch(*parsed);
    router_.retry();
    if (ingress_->describe() != registered_ingress_) {
      if (Status s = registerNode(); !s.isOk()) spdlog::warn("agent: {}", s.toString());
    }
    reporter_.poke();
  }
}

void Agent::dispatch(const model::NodeAssignment& assignment) {
  // Secrets travel with their app in memory only: the agent never writes them to disk.
  std::map<VmKey, std::vector<model::AppAssignment>> apps_by_vm;
  for (const model::AppAssignment& app : assignment.apps)
    apps_by_vm[VmKey{app.project, app.vm}].push_back(app);
  std::list<std::unique_ptr<VmSupervisor>> finished;
  bool prune = false;
  {
    std::lock_guard lock(supervisors_mu_);
    // A VM's retired supervisor still removing its files: a new one for that name waits.
    for (auto it = retiring_.begin(); it != retiring_.end();) {
      if (!(*it)->finished()) {
        ++it;
        continue;
      }
      finished.push_back(std::move(*it));
      it = retiring_.erase(it);
    }
    std::set<VmKey> assigned;
    for (const model::VmSpec& vm : assignment.vms) {
      VmKey key{vm.project, vm.name};
      assigned.insert(key);
      auto it = supervisors_.find(key);
      if (it == supervisors_.end()) {
        const bool still_retiring = std::any_of(retiring_.begin(), retiring_.end(),
                                                [&](const auto& s) { return s->key() == key; });
        if (still_retiring) continue;
        it = supervisors_.emplace(key, std::make_unique<VmSupervisor>(key, *context_)).first;
        it->second->assign(vm, std::move(apps_by_vm[key]));
        it->second->start();
        continue;
      }
      it->second->assign(vm, std::move(apps_by_vm[key]));
    }
    for (auto it = supervisors_.begin(); it != supervisors_.end();) {
      if (assigned.count(it->first)) {
        ++it;
        continue;
      }
      it->second->retire();
      retiring_.push_back(std::move(it->second));
      it = supervisors_.erase(it);
    }
    // A previous agent's proxies are pruned once every VM has had its say.
    prune = !pruning_ && std::all_of(supervisors_.begin(), supervisors_.end(),
                                     [](const auto& s) { return s.second->settled(); });
    pruning_ = pruning_ || prune;
  }
  // Outside the lock (sessions look channels up under it): stopping proxies, and joining
  // workers that are done.
  if (prune) router_.startPruning();
  finished.clear();
}

}  // namespace berth::agent
