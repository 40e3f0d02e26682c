#include "common/guest_messages.h"

#include <limits>
#include <utility>

namespace berth::guest {
namespace {

using nlohmann::json;

// Reads the fields of one body into typed values without throwing: every value's kind is
// checked before it is taken. An absent optional field leaves its target (the default) as it
// is; the first missing required field or wrong kind is kept as the error.
class FieldReader {
 public:
  // `where` names the body in errors: "message 'run_app'", "reply to 'hello'".
  FieldReader(const json& body, std::string where) : body_(body), where_(std::move(where)) {
    if (!body_.is_object()) status_ = invalidArgument(where_ + " is not a map");
  }

  template <typename T>
  FieldReader& required(const char* key, T& out) {
    return read(key, out, /*must=*/true);
  }
  template <typename T>
  FieldReader& optional(const char* key, T& out) {
    return read(key, out, /*must=*/false);
  }
  template <typename T>
  FieldReader& optional(const char* key, std::optional<T>& out) {
    if (const json* value = find(key, false)) {
      T taken{};
      if (take(*value, taken)) out = std::move(taken);
      else wrongKind(key);
    }
    return *this;
  }
  // A byte string (CBOR major type 2), read into a std::string.
  FieldReader& bytes(const char* key, std::string& out, bool must) {
    if (const json* value = find(key, must)) {
      if (value->is_binary()) out.assign(value->get_binary().begin(), value->get_binary().end());
      else wrongKind(key);
    }
    return *this;
  }
  FieldReader& bytes(const char* key, std::optional<std::string>& out) {
    if (const json* value = find(key, false)) {
      if (value->is_binary()) out.emplace(value->get_binary().begin(), value->get_binary().end());
      else wrongKind(key);
    }
    return *this;
  }
  // The field when it is present and of kind `is`; else nullptr (an error when it is present).
  const json* member(const char* key, bool (json::*is)() const noexcept, bool must = false) {
    const json* value = find(key, must);
    if (value != nullptr && !(value->*is)()) {
      wrongKind(key);
      return nullptr;
    }
    return value;
  }

  std::string where(const std::string& suffix) const { return where_ + " " + suffix; }
  void fail(Status status) {
    if (status_.isOk()) status_ = std::move(status);
  }
  bool ok() const { return status_.isOk(); }
  Status status() const { return status_; }

 private:
  template <typename T>
  FieldReader& read(const char* key, T& out, bool must) {
    if (const json* value = find(key, must)) {
      if (!take(*value, out)) wrongKind(key);
    }
    return *this;
  }

  const json* find(const char* key, bool must) {
    if (!status_.isOk()) return nullptr;
    auto it = body_.find(key);
    if (it == body_.end()) {
      if (must) fail(invalidArgument(where_ + " lacks field '" + key + "'"));
      return nullptr;
    }
    return &*it;
  }
  void wrongKind(const char* key) { fail(invalidArgument(where_ + " field '" + key + "' has the wrong type")); }

  static bool take(const json& value, std::string& out) {
    if (!value.is_string()) return false;
    out = value.get_ref<const std::string&>();
    return true;
  }
  static bool take(const json& value, std::uint64_t& out) {
    if (!value.is_number_unsigned()) return false;
    out = value.get<std::uint64_t>();
    return true;
  }
  static bool take(const json& value, std::int64_t& out) {
    if (!value.is_number_integer()) return false;
    if (value.is_number_unsigned() && value.get<std::uint64_t>() > std::numeric_limits<std::int64_t>::max()) {
      return false;
    }
    out = value.get<std::int64_t>();
    return true;
  }
  static bool take(const json& value, bool& out) {
    if (!value.is_boolean()) return false;
    out = value.get<bool>();
    return true;
  }
  static bool take(const json& value, std::vector<std::string>& out) {
    if (!value.is_array()) return false;
    std::vector<std::string> items;
    for (const json& item : value) {
      if (!item.is_string()) return false;
      items.push_back(item.get_ref<const std::string&>());
    }
    out = std::move(items);
    return true;
  }
  static bool take(const json& value, std::map<std::string, std::string>& out) {
    if (!value.is_object()) return false;
    std::map<std::string, std::string> items;
    for (const auto& [key, item] : value.items()) {
      if (!item.is_string()) return false;
      items[key] = item.get_ref<const std::string&>();
    }
    out = std::move(items);
    return true;
  }

  const json& body_;
  std::string where_;
  Status status_;
};

std::string messageWhere(std::string_view type) { return "message '" + std::string(type) + "'"; }
std::string replyWhere(std::string_view type) { return "reply to '" + std::string(type) + "'"; }

json binary(const std::string& bytes) { return json::binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end())); }

// Reads a list of maps, each with `decode`; errors name the item ("reply to 'hello' apps[2] ...").
template <typename T, typename Decode>
void readList(FieldReader& reader, const char* key, std::vector<T>& out, Decode decode) {
  const json* list = reader.member(key, &json::is_array);
  if (list == nullptr) return;
  for (std::size_t i = 0; i < list->size() && reader.ok(); ++i) {
    Result<T> item = decode((*list)[i], reader.where(std::string(key) + "[" + std::to_string(i) + "]"));
    if (item.isOk()) out.push_back(std::move(*item));
    else reader.fail(item.status());
  }
}

Status checkStream(const std::string& stream, std::string_view type) {
  if (stream == "stdout" || stream == "stderr") return Status::ok();
  return invalidArgument(messageWhere(type) + " field 'stream' must be stdout or stderr");
}

Status checkHealthName(const std::string& health, std::string_view type, const char* field) {
  if (health == "starting" || health == "healthy" || health == "unhealthy") return Status::ok();
  return invalidArgument(messageWhere(type) + " field '" + field + "' must be starting, healthy or unhealthy");
}

// A member of the health map that counts milliseconds (or retries): `out` stays as it is when
// the member is absent.
bool isCount(const json& value) { return value.is_number_integer() && value.get<std::int64_t>() >= 0; }

Status readCount(const json& health, const char* field, std::uint64_t min, std::uint64_t max, std::uint64_t& out) {
  auto it = health.find(field);
  if (it == health.end()) return Status::ok();
  if (!isCount(*it) || it->get<std::uint64_t>() < min || it->get<std::uint64_t>() > max) {
    return invalidArgument(std::string("health.") + field + " must be a number from " + std::to_string(min) + " to " +
                           std::to_string(max));
  }
  out = it->get<std::uint64_t>();
  return Status::ok();
}

Result<AppState> decodeAppState(const json& result, const std::string& where) {
  AppState state;
  FieldReader reader(result, where);
  reader.required("app", state.app)
      .optional("instance", state.instance)
      .required("state", state.state)
      .optional("restarts", state.restarts)
      .optional("health", state.health)
      .optional("health_detail", state.health_detail)
      .optional("pid", state.pid)
      .optional("started_ms", state.started_ms)
      .optional("last_exit", state.last_exit)
      .optional("log_seq", state.log_seq);
  if (!reader.ok()) return reader.status();
  return state;
}

json encodeApps(const std::vector<AppState>& apps) {
  json list = json::array();
  for (const AppState& app : apps) list.push_back(app.encode());
  return list;
}

}  // namespace

// ---- Requests ----

json HelloRequest::encode() const { return {{"version", version}}; }

Result<HelloRequest> HelloRequest::decode(const json& body) {
  HelloRequest hello;
  FieldReader reader(body, messageWhere(kType));
  reader.required("version", hello.version);
  if (!reader.ok()) return reader.status();
  return hello;
}

json PingRequest::encode() const { return json::object(); }

Result<PingRequest> PingRequest::decode(const json& body) {
  FieldReader reader(body, messageWhere(kType));
  if (!reader.ok()) return reader.status();
  return PingRequest{};
}

json HealthCheck::encode() const {
  json health = {{"type", type},
                 {"interval_ms", interval_ms},
                 {"timeout_ms", timeout_ms},
                 {"grace_ms", grace_ms},
                 {"retries", retries}};
  if (type == "exec") health["command"] = argv;
  else health["port"] = port;
  if (type == "http" || path != "/") health["path"] = path;
  return health;
}

Result<HealthCheck> HealthCheck::decode(const json& health) {
  if (!health.is_object()) return invalidArgument("health must be an object");
  HealthCheck check;
  if (auto type = health.find("type"); type != health.end() && type->is_string()) {
    check.type = type->get_ref<const std::string&>();
  }
  if (check.type != "http" && check.type != "tcp" && check.type != "exec") {
    return invalidArgument("health.type must be http, tcp or exec");
  }
  if (check.type == "exec") {
    auto argv = health.find("command");
    if (argv == health.end() || !argv->is_array() || argv->empty()) {
      return invalidArgument("an exec health check needs a command");
    }
    for (const json& arg : *argv) {
      if (!arg.is_string()) return invalidArgument("health.command must be a list of strings");
      check.argv.push_back(arg.get_ref<const std::string&>());
    }
  } else {
    auto port = health.find("port");
    if (port == health.end() || !isCount(*port) || port->get<std::uint64_t>() < 1 ||
        port->get<std::uint64_t>() > 65535) {
      return invalidArgument("an " + check.type + " health check needs a port from 1 to 65535");
    }
    check.port = static_cast<std::uint16_t>(port->get<std::uint64_t>());
  }
  if (auto path = health.find("path"); path != health.end()) {
    if (!path->is_string() || path->get_ref<const std::string&>().empty() ||
        path->get_ref<const std::string&>()[0] != '/' ||
        path->get_ref<const std::string&>().find_first_of(" \r\n") != std::string::npos) {
      return invalidArgument("health.path must start with '/' and hold no spaces or line breaks");
    }
    check.path = path->get_ref<const std::string&>();
  }
  BERTH_RETURN_IF_ERROR(readCount(health, "interval_ms", 100, 3'600'000, check.interval_ms));
  BERTH_RETURN_IF_ERROR(readCount(health, "timeout_ms", 100, 600'000, check.timeout_ms));
  BERTH_RETURN_IF_ERROR(readCount(health, "grace_ms", 0, 3'600'000, check.grace_ms));
  std::uint64_t retries = static_cast<std::uint64_t>(check.retries);
  BERTH_RETURN_IF_ERROR(readCount(health, "retries", 1, 100, retries));
  check.retries = static_cast<int>(retries);
  return check;
}

json RunAppRequest::encode() const {
  json body = {{"app", app}, {"argv", argv}};
  if (!instance.empty()) body["instance"] = instance;
  if (!replace) body["replace"] = false;
  if (health) body["health"] = health->encode();
  if (!env.empty()) body["env"] = env;
  if (cwd) body["cwd"] = *cwd;
  if (uid != 0) body["uid"] = uid;
  if (gid != 0) body["gid"] = gid;
  if (!files.empty()) {
    body["files"] = json::array();
    for (const File& file : files) {
      body["files"].push_back({{"path", file.path}, {"mode", file.mode}, {"data", binary(file.data)}});
    }
  }
  if (image) {
    body["image_digest"] = image->digest;
    body["image_size"] = image->size;
    body["image_source"] = image->source;
  }
  if (container) body["container"] = true;
  if (limits.memory_max != 0) body["memory_max"] = limits.memory_max;
  if (limits.cpu_max_millis != 0) body["cpu_max_millis"] = limits.cpu_max_millis;
  if (limits.pids_max != 0) body["pids_max"] = limits.pids_max;
  if (restart != "always") body["restart"] = restart;
  return body;
}

Result<RunAppRequest> RunAppRequest::decode(const json& body) {
  RunAppRequest run;
  FieldReader reader(body, messageWhere(kType));
  reader.required("app", run.app)
      .optional("instance", run.instance)
      .optional("replace", run.replace)
      .required("argv", run.argv)
      .optional("env", run.env)
      .optional("cwd", run.cwd)
      .optional("uid", run.uid)
      .optional("gid", run.gid)
      .optional("container", run.container)
      .optional("memory_max", run.limits.memory_max)
      .optional("cpu_max_millis", run.limits.cpu_max_millis)
      .optional("pids_max", run.limits.pids_max)
      .optional("restart", run.restart);
  std::optional<std::string> digest;
  reader.optional("image_digest", digest);
  if (digest) {
    run.image = Image{*digest, 0, ""};
    reader.optional("image_size", run.image->size).optional("image_source", run.image->source);
  }
  if (const json* files = reader.member("files", &json::is_array)) {
    for (std::size_t i = 0; i < files->size() && reader.ok(); ++i) {
      FieldReader file_reader((*files)[i], reader.where("files[" + std::to_string(i) + "]"));
      File file;
      file_reader.required("path", file.path).required("mode", file.mode).bytes("data", file.data, true);
      reader.fail(file_reader.status());
      run.files.push_back(std::move(file));
    }
  }
  if (const json* health = reader.member("health", &json::is_object)) {
    Result<HealthCheck> check = HealthCheck::decode(*health);
    if (check.isOk()) run.health = std::move(*check);
    else reader.fail(check.status());
  }
  if (!reader.ok()) return reader.status();
  return run;
}

json StopAppRequest::encode() const {
  json body = {{"app", app}};
  if (!instance.empty()) body["instance"] = instance;
  if (signal != 15) body["signal"] = signal;
  if (grace_ms != kDefaultGraceMs) body["grace_ms"] = grace_ms;
  return body;
}

Result<StopAppRequest> StopAppRequest::decode(const json& body) {
  StopAppRequest stop;
  FieldReader reader(body, messageWhere(kType));
  reader.required("app", stop.app)
      .optional("instance", stop.instance)
      .optional("signal", stop.signal)
      .optional("grace_ms", stop.grace_ms);
  if (!reader.ok()) return reader.status();
  return stop;
}

json AppStatusRequest::encode() const {
  json body = json::object();
  if (!app.empty()) body["app"] = app;
  return body;
}

Result<AppStatusRequest> AppStatusRequest::decode(const json& body) {
  AppStatusRequest status;
  FieldReader reader(body, messageWhere(kType));
  reader.optional("app", status.app);
  if (!reader.ok()) return reader.status();
  return status;
}

json ExecRequest::encode() const {
  json body = {{"argv", argv}};
  if (!env.empty()) body["env"] = env;
  if (cwd) body["cwd"] = *cwd;
  if (app) body["app"] = *app;
  if (instance) body["instance"] = *instance;
  if (stdin_data) body["stdin"] = binary(*stdin_data);
  if (timeout_ms != 0) body["timeout_ms"] = timeout_ms;
  return body;
}

Result<ExecRequest> ExecRequest::decode(const json& body) {
  ExecRequest exec;
  FieldReader reader(body, messageWhere(kType));
  reader.required("argv", exec.argv)
      .optional("env", exec.env)
      .optional("cwd", exec.cwd)
      .optional("app", exec.app)
      .optional("instance", exec.instance)
      .bytes("stdin", exec.stdin_data)
      .optional("timeout_ms", exec.timeout_ms);
  if (!reader.ok()) return reader.status();
  return exec;
}

json CancelExecRequest::encode() const { return {{"exec", exec}}; }

Result<CancelExecRequest> CancelExecRequest::decode(const json& body) {
  CancelExecRequest cancel;
  FieldReader reader(body, messageWhere(kType));
  reader.required("exec", cancel.exec);
  if (!reader.ok()) return reader.status();
  return cancel;
}

json LogsRequest::encode() const {
  json body = {{"app", app}};
  if (!instance.empty()) body["instance"] = instance;
  if (since != 0) body["since"] = since;
  return body;
}

Result<LogsRequest> LogsRequest::decode(const json& body) {
  LogsRequest logs;
  FieldReader reader(body, messageWhere(kType));
  reader.required("app", logs.app).optional("instance", logs.instance).optional("since", logs.since);
  if (!reader.ok()) return reader.status();
  return logs;
}

json MetricsRequest::encode() const { return json::object(); }

Result<MetricsRequest> MetricsRequest::decode(const json& body) {
  FieldReader reader(body, messageWhere(kType));
  if (!reader.ok()) return reader.status();
  return MetricsRequest{};
}

json ShutdownRequest::encode() const {
  json body = json::object();
  if (grace_ms != kDefaultGraceMs) body["grace_ms"] = grace_ms;
  return body;
}

Result<ShutdownRequest> ShutdownRequest::decode(const json& body) {
  ShutdownRequest shutdown;
  FieldReader reader(body, messageWhere(kType));
  reader.optional("grace_ms", shutdown.grace_ms);
  if (!reader.ok()) return reader.status();
  return shutdown;
}

// ---- Replies ----

json AppState::encode() const {
  json result = {{"app", app}, {"state", state}};
  if (!instance.empty()) result["instance"] = instance;
  if (!instance.empty() || restarts != 0) result["restarts"] = restarts;
  if (!instance.empty() || log_seq != 0) result["log_seq"] = log_seq;
  if (health) result["health"] = *health;
  if (!health_detail.empty()) result["health_detail"] = health_detail;
  if (pid) result["pid"] = *pid;
  if (pid || started_ms != 0) result["started_ms"] = started_ms;
  if (last_exit) result["last_exit"] = *last_exit;
  return result;
}

Result<AppState> AppState::decode(const json& result) { return decodeAppState(result, "app state"); }

json HelloReply::encode() const {
  return {{"version", version}, {"boot_id", boot_id}, {"hostname", hostname}, {"apps", encodeApps(apps)}};
}

Result<HelloReply> HelloReply::decode(const json& result) {
  HelloReply hello;
  FieldReader reader(result, replyWhere(HelloRequest::kType));
  reader.required("version", hello.version).required("boot_id", hello.boot_id).optional("hostname", hello.hostname);
  readList(reader, "apps", hello.apps, decodeAppState);
  if (!reader.ok()) return reader.status();
  return hello;
}

json PingReply::encode() const { return {{"boot_id", boot_id}}; }

Result<PingReply> PingReply::decode(const json& result) {
  PingReply ping;
  FieldReader reader(result, replyWhere(PingRequest::kType));
  reader.required("boot_id", ping.boot_id);
  if (!reader.ok()) return reader.status();
  return ping;
}

json AppStatusReply::encode() const { return {{"apps", encodeApps(apps)}}; }

Result<AppStatusReply> AppStatusReply::decode(const json& result) {
  AppStatusReply status;
  FieldReader reader(result, replyWhere(AppStatusRequest::kType));
  readList(reader, "apps", status.apps, decodeAppState);
  if (!reader.ok()) return reader.status();
  return status;
}

json ExecReply::encode() const { return {{"exit_code", exit_code}, {"signal", signal}, {"timed_out", timed_out}}; }

Result<ExecReply> ExecReply::decode(const json& result) {
  ExecReply exec;
  FieldReader reader(result, replyWhere(ExecRequest::kType));
  reader.required("exit_code", exec.exit_code).optional("signal", exec.signal).optional("timed_out", exec.timed_out);
  if (!reader.ok()) return reader.status();
  return exec;
}

json CancelExecReply::encode() const { return {{"found", found}}; }

Result<CancelExecReply> CancelExecReply::decode(const json& result) {
  CancelExecReply cancel;
  FieldReader reader(result, replyWhere(CancelExecRequest::kType));
  reader.required("found", cancel.found);
  if (!reader.ok()) return reader.status();
  return cancel;
}

json LogsReply::encode() const { return {{"next", next}}; }

Result<LogsReply> LogsReply::decode(const json& result) {
  LogsReply logs;
  FieldReader reader(result, replyWhere(LogsRequest::kType));
  reader.required("next", logs.next);
  if (!reader.ok()) return reader.status();
  return logs;
}

json MetricsReply::encode() const {
  json result = {{"cpu_ticks_busy", cpu_ticks_busy},     {"cpu_ticks_idle", cpu_ticks_idle},
                 {"ticks_per_second", ticks_per_second}, {"memory_total_kib", memory_total_kib},
                 {"memory_available_kib", memory_available_kib}, {"init_rss_kib", init_rss_kib}};
  if (disk) {
    result["disk_total_kib"] = disk->total_kib;
    result["disk_free_kib"] = disk->free_kib;
  }
  result["apps"] = json::array();
  for (const App& app : apps) {
    result["apps"].push_back({{"app", app.app}, {"cpu_ticks", app.cpu_ticks}, {"rss_kib", app.rss_kib}});
  }
  return result;
}

Result<MetricsReply> MetricsReply::decode(const json& result) {
  MetricsReply metrics;
  FieldReader reader(result, replyWhere(MetricsRequest::kType));
  reader.required("cpu_ticks_busy", metrics.cpu_ticks_busy)
      .required("cpu_ticks_idle", metrics.cpu_ticks_idle)
      .required("ticks_per_second", metrics.ticks_per_second)
      .required("memory_total_kib", metrics.memory_total_kib)
      .required("memory_available_kib", metrics.memory_available_kib)
      .required("init_rss_kib", metrics.init_rss_kib);
  std::optional<std::uint64_t> disk_total, disk_free;
  reader.optional("disk_total_kib", disk_total).optional("disk_free_kib", disk_free);
  if (disk_total && disk_free) metrics.disk = Disk{*disk_total, *disk_free};
  readList(reader, "apps", metrics.apps, [](const json& item, const std::string& where) -> Result<App> {
    App app;
    FieldReader app_reader(item, where);
    app_reader.required("app", app.app).required("cpu_ticks", app.cpu_ticks).required("rss_kib", app.rss_kib);
    if (!app_reader.ok()) return app_reader.status();
    return app;
  });
  if (!reader.ok()) return reader.status();
  return metrics;
}

// ---- Notifications ----

json GuestHello::encode() const {
  return {{"version", version}, {"boot_id", boot_id}, {"hostname", hostname}, {"capabilities", capabilities}};
}

Result<GuestHello> GuestHello::decode(const json& body) {
  GuestHello hello;
  FieldReader reader(body, messageWhere(kType));
  reader.required("version", hello.version)
      .required("boot_id", hello.boot_id)
      .optional("hostname", hello.hostname)
      .optional("capabilities", hello.capabilities);
  if (!reader.ok()) return reader.status();
  return hello;
}

json LogNotification::encode() const {
  json body = {{"app", app}, {"stream", stream}, {"seq", seq}, {"ts_ms", ts_ms}, {"data", binary(data)}};
  if (!instance.empty()) body["instance"] = instance;
  return body;
}

Result<LogNotification> LogNotification::decode(const json& body) {
  LogNotification log;
  FieldReader reader(body, messageWhere(kType));
  reader.required("app", log.app)
      .optional("instance", log.instance)
      .required("stream", log.stream)
      .required("seq", log.seq)
      .required("ts_ms", log.ts_ms)
      .bytes("data", log.data, true);
  if (!reader.ok()) return reader.status();
  BERTH_RETURN_IF_ERROR(checkStream(log.stream, kType));
  return log;
}

json ExecOutputNotification::encode() const { return {{"exec", exec}, {"stream", stream}, {"data", binary(data)}}; }

Result<ExecOutputNotification> ExecOutputNotification::decode(const json& body) {
  ExecOutputNotification output;
  FieldReader reader(body, messageWhere(kType));
  reader.required("exec", output.exec).required("stream", output.stream).bytes("data", output.data, true);
  if (!reader.ok()) return reader.status();
  BERTH_RETURN_IF_ERROR(checkStream(output.stream, kType));
  return output;
}

json AppExitedNotification::encode() const {
  json body = {{"app", app}, {"pid", pid}};
  if (!instance.empty()) body["instance"] = instance;
  if (code) body["code"] = *code;
  if (signal) body["signal"] = *signal;
  return body;
}

Result<AppExitedNotification> AppExitedNotification::decode(const json& body) {
  AppExitedNotification exited;
  FieldReader reader(body, messageWhere(kType));
  reader.required("app", exited.app)
      .optional("instance", exited.instance)
      .required("pid", exited.pid)
      .optional("code", exited.code)
      .optional("signal", exited.signal);
  if (!reader.ok()) return reader.status();
  return exited;
}

json AppStartedNotification::encode() const { return {{"app", app}, {"instance", instance}, {"pid", pid}}; }

Result<AppStartedNotification> AppStartedNotification::decode(const json& body) {
  AppStartedNotification started;
  FieldReader reader(body, messageWhere(kType));
  reader.required("app", started.app).required("instance", started.instance).required("pid", started.pid);
  if (!reader.ok()) return reader.status();
  return started;
}

json AppHealthNotification::encode() const {
  json body = {{"app", app}, {"instance", instance}, {"health", health}, {"from", from}};
  if (!detail.empty()) body["detail"] = detail;
  return body;
}

Result<AppHealthNotification> AppHealthNotification::decode(const json& body) {
  AppHealthNotification changed;
  FieldReader reader(body, messageWhere(kType));
  reader.required("app", changed.app)
      .required("instance", changed.instance)
      .required("health", changed.health)
      .required("from", changed.from)
      .optional("detail", changed.detail);
  if (!reader.ok()) return reader.status();
  BERTH_RETURN_IF_ERROR(checkHealthName(changed.health, kType, "health"));
  BERTH_RETURN_IF_ERROR(checkHealthName(changed.from, kType, "from"));
  return changed;
}

}  // namespace berth::guest
