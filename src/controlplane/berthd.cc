#include "controlplane/berthd.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

#include "common/crypto.h"
#include "controlplane/api/api.h"
#include "controlplane/http/http_server.h"
#include "controlplane/local_image_importer.h"
#include "controlplane/berthd_paths.h"
#include "controlplane/service/scheduler.h"
#include "controlplane/service/services.h"
#include "os/file_util.h"
#include "os/unique_fd.h"
#include "store/sqlite_store.h"

namespace berth::controlplane {

namespace {

Result<os::UniqueFd> lockDataDir(const BerthdPaths& paths) {
  const std::string path = paths.lock();
  os::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return internalError("cannot open '" + path + "': " + os::errnoMessage(errno));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    return failedPrecondition("another berthd is already using the data directory '" + paths.data() + "'");
  }
  return fd;
}

// The operator's key file, or <data>/master.key made on first start (under the data-dir lock,
// so two starts cannot each make one). A key others may read is refused.
// The key an operator's command prints (exit 0, at most 4 KiB of output). Its stderr goes to
// berthd's; the key itself is never logged.
Result<SecretBox> masterKeyFromCommand(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "re"), ::pclose);
  if (!pipe) return internalError("cannot run the master key command: " + os::errnoMessage(errno));
  std::string text;
  char buffer[512];
  std::size_t n;
  while (text.size() <= 4096 && (n = std::fread(buffer, 1, sizeof buffer, pipe.get())) > 0) text.append(buffer, n);
  const int status = ::pclose(pipe.release());
  if (status != 0) {
    return failedPrecondition("the master key command failed (" +
                              (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                                 : std::string("killed")) +
                              "): " + command);
  }
  auto box = SecretBox::fromHex(text);
  if (!box.isOk()) return box.status().withContext("the output of the master key command");
  return box;
}

Result<SecretBox> loadMasterKey(const BerthdOptions& options) {
  if (!options.master_key_command.empty()) return masterKeyFromCommand(options.master_key_command);
  const bool given = !options.master_key_file.empty();
  const std::string path = given ? options.master_key_file : BerthdPaths(options.data_dir).masterKey();
  if (!given && !os::pathExists(path)) {
    BERTH_ASSIGN_OR_RETURN(std::string hex, randomHex(SecretBox::kKeyBytes));
    BERTH_RETURN_IF_ERROR(os::writeFileAtomic(path, hex + "\n", 0600));
    spdlog::info("berthd: created the master key that seals secrets: {} (back it up; without it secrets are lost)",
                 path);
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return notFound("cannot read the master key '" + path + "': " + os::errnoMessage(errno));
  }
  if (st.st_mode & 077) {
    return failedPrecondition("the master key '" + path + "' may be read by group or others; run: chmod 600 " + path);
  }
  BERTH_ASSIGN_OR_RETURN(std::string text, os::readFile(path));
  auto box = SecretBox::fromHex(text);
  if (!box.isOk()) return box.status().withContext("master key '" + path + "'");
  return box;
}

class RunningBerthd final : public Berthd {
 public:
  RunningBerthd(const BerthdOptions& options, os::UniqueFd lock, std::unique_ptr<store::SqliteStore> store,
                NetworkPool networks, HostPortRange host_ports)
      : options_(options), paths_(options.data_dir), lock_(std::move(lock)), store_(std::move(store)),
        services_(*store_, SystemClock::instance(), std::move(networks), host_ports,
                  options.base_domain),
        image_importer_(paths_.imageCache(), options.api.blob_dir),
        api_(services_, SystemClock::instance(), options.api),
        scheduler_(*store_, SystemClock::instance()) {
    services_.images.useImporter(&image_importer_);
  }

  ~RunningBerthd() override { stop(); }

  void useSecretBox(SecretBox box) { services_.secrets.useSecretBox(std::move(box)); }

  Status serve() {
    BERTH_ASSIGN_OR_RETURN(auto bootstrap, services_.tokens.bootstrapAdminToken());
    if (bootstrap) {
      const std::string path = paths_.adminToken();
      BERTH_RETURN_IF_ERROR(os::writeFileAtomic(path, *bootstrap + "\n", 0600));
      // Printed once, on the very first start; the file keeps it for scripts.
      std::printf("berthd: created the first admin token (also in %s):\n%s\n", path.c_str(), bootstrap->c_str());
      std::fflush(stdout);
    }
    // Projects and VMs made before networks get theirs before any agent asks for an assignment.
    Principal system{"system", "berthd", Role::kAdmin, std::nullopt};
    if (Status s = services_.projects.allocateMissingNetworks(system); !s.isOk()) {
      spdlog::warn("berthd: some projects have no network yet (their next VM create tries again): {}", s.toString());
    }
    // Apps made before host port claims get theirs; where two already collide the oldest keeps
    // the port, and the operator hears of it rather than berthd refusing to start.
    auto collisions = claimPublishedHostPorts(*store_, SystemClock::instance().wallMillis());
    if (!collisions.isOk()) {
      spdlog::warn("berthd: could not claim the host ports apps already publish: {}", collisions.status().toString());
    } else {
      for (const auto& line : *collisions) spdlog::warn("berthd: {}", line);
    }
    BERTH_ASSIGN_OR_RETURN(HttpServerOptions http, listenOptions(options_.listen));
    http.is_quick = &Api::isQuick;
    http.max_body_bytes = options_.max_body_bytes;
    BERTH_ASSIGN_OR_RETURN(server_, HttpServer::start(http, [this](const HttpRequest& r) { return api_.handle(r); }));
    BERTH_RETURN_IF_ERROR(os::writeFileAtomic(paths_.address(), server_->boundAddress() + "\n"));
    spdlog::info("berthd {} serving the API on http://{} (data: {})", BERTH_VERSION, server_->boundAddress(),
                 options_.data_dir);
    reconciler_ = std::thread([this] { reconcileLoop(); });
    return Status::ok();
  }

  Result<std::string> localNodeToken(const std::string& node_name) override {
    const std::string token_path = paths_.nodeToken();
    if (auto saved = os::readFile(token_path); saved.isOk() && !saved->empty()) return *saved;
    Principal system{"system", "berthd", Role::kAdmin, std::nullopt};
    BERTH_ASSIGN_OR_RETURN(CreatedToken created, services_.tokens.create(system, node_name, Role::kNode, std::nullopt));
    BERTH_RETURN_IF_ERROR(os::writeFileAtomic(token_path, created.secret, 0600));
    return created.secret;
  }

  const BerthdPaths& paths() const override { return paths_; }

  // Wakes on every committed event and at least every few seconds (to notice silent nodes).
  void reconcileLoop() {
    int64_t seen = 0;
    while (!stopping_.load()) {
      seen = store_->lastEventSeq();
      Status s = scheduler_.runOnce();
      if (!s.isOk()) spdlog::warn("scheduler: {}", s.toString());
      store_->waitForEvents(seen, std::chrono::seconds(2));
    }
  }

  std::string address() const override { return server_ ? server_->boundAddress() : ""; }

  void stop() override {
    if (!server_ || stopped_) return;
    stopped_ = true;
    spdlog::info("berthd: shutting down; in-flight requests get up to {} s", options_.shutdown_grace_seconds);
    server_->shutdown(std::chrono::seconds(options_.shutdown_grace_seconds));
    stopping_ = true;
    store_->wakeAll();
    if (reconciler_.joinable()) reconciler_.join();
    ::unlink(paths_.address().c_str());
    spdlog::info("berthd: stopped");
  }

 private:
  BerthdOptions options_;
  const BerthdPaths paths_;
  os::UniqueFd lock_;
  std::unique_ptr<store::SqliteStore> store_;
  Services services_;
  LocalImageImporter image_importer_;
  Api api_;
  Scheduler scheduler_;
  std::unique_ptr<HttpServer> server_;
  std::thread reconciler_;
  std::atomic<bool> stopping_{false};
  bool stopped_ = false;
};

}  // namespace

Result<std::unique_ptr<Berthd>> Berthd::start(const BerthdOptions& given) {
  BerthdOptions options = given;
  const BerthdPaths paths(options.data_dir);
  if (options.api.blob_dir.empty()) options.api.blob_dir = paths.blobs();
  BERTH_RETURN_IF_ERROR(os::makeDirs(paths.data(), 0700));
  BERTH_ASSIGN_OR_RETURN(os::UniqueFd lock, lockDataDir(paths));
  BERTH_ASSIGN_OR_RETURN(auto store, store::SqliteStore::open(paths.database()));
  BERTH_ASSIGN_OR_RETURN(SecretBox master_key, loadMasterKey(options));
  BERTH_ASSIGN_OR_RETURN(NetworkPool networks, NetworkPool::create(options.project_subnets, options.project_subnet_prefix));
  BERTH_ASSIGN_OR_RETURN(HostPortRange host_ports, HostPortRange::parse(options.host_ports));
  auto berthd =
      std::make_unique<RunningBerthd>(options, std::move(lock), std::move(store), std::move(networks), host_ports);
  berthd->useSecretBox(std::move(master_key));
  BERTH_RETURN_IF_ERROR(berthd->serve());
  return std::unique_ptr<Berthd>(std::move(berthd));
}

}  // namespace berth::controlplane
