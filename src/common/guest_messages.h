#pragma once
// One typed struct per message of the guest channel (docs/guest-protocol.md), so that neither
// side reads or builds message bodies field by field. Each struct has
//   - kType: the message's `type` (replies have none: their type is "reply");
//   - encode(): the body (a request's or notification's fields, or a reply's `result` map);
//   - decode(body): the struct, or an InvalidArgument naming the message and the field.
//
// decode never throws and checks every kind itself, so it is safe on any JSON; on the channel
// it meets bodies that decodeMessage already checked against the schema table (which stays the
// contract), plus the contents of `map` fields the table does not look into (run_app's health,
// replies' results). An optional field absent on the wire takes the default written next to
// it. encode writes required fields, and optional ones only when they differ from that default
// (unless a comment says "always"), so decode(encode(x)) gives x back.
//
// Who sends what: the host (berth-agent) encodes requests and decodes replies and
// notifications; the guest (berth-init) decodes requests and encodes replies and notifications.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/guest_protocol.h"
#include "common/result.h"

namespace berth::guest {

// stop_app's and shutdown's grace before SIGKILL, when the host names none.
inline constexpr std::uint64_t kDefaultGraceMs = 10'000;

// A request or notification as a Message with `id` (0 for notifications), ready for the codec.
template <typename T>
Message toMessage(const T& message, std::uint64_t id = 0) {
  return Message{std::string(T::kType), id, message.encode()};
}

// The typed form of `message`, which must be of type T::kType.
template <typename T>
Result<T> fromMessage(const Message& message) {
  if (message.type != T::kType) {
    return invalidArgument("expected message '" + std::string(T::kType) + "', got '" + message.type + "'");
  }
  return T::decode(message.body);
}

// ---- Host -> guest requests: the host encodes, the guest decodes. ----

struct HelloRequest {
  static constexpr std::string_view kType = "hello";
  std::uint64_t version = kProtocolVersion;  // required

  nlohmann::json encode() const;
  static Result<HelloRequest> decode(const nlohmann::json& body);
  bool operator==(const HelloRequest&) const = default;
};

struct PingRequest {
  static constexpr std::string_view kType = "ping";

  nlohmann::json encode() const;
  static Result<PingRequest> decode(const nlohmann::json& body);
};

// run_app's health check (the wire form; the agent maps model::HealthSpec onto it). decode
// enforces the ranges init needs; its errors say "health.<field> ...".
struct HealthCheck {
  std::string type;               // required: http | tcp | exec
  std::uint16_t port = 0;         // http and tcp (required there): 1..65535 on 127.0.0.1
  std::string path = "/";         // http: starts with '/', no spaces or line breaks
  std::vector<std::string> argv;  // exec (required there, wire name "command"): exit 0 is healthy
  std::uint64_t interval_ms = 10'000;  // 100..3,600,000
  std::uint64_t timeout_ms = 2'000;    // 100..600,000
  std::uint64_t grace_ms = 5'000;      // 0..3,600,000
  int retries = 3;                     // 1..100

  // Writes type, the interval, timeout, grace and retries always; port for http and tcp, path
  // for http (and any other type when not "/"), command for exec.
  nlohmann::json encode() const;
  static Result<HealthCheck> decode(const nlohmann::json& health);
  bool operator==(const HealthCheck&) const = default;
};

struct RunAppRequest {
  static constexpr std::string_view kType = "run_app";
  struct File {
    std::string path;  // absolute, no ".." (the guest refuses others when it writes them)
    std::uint64_t mode = 0644;  // required
    std::string data;           // bytes
    bool operator==(const File&) const = default;
  };
  struct Image {
    std::string digest;      // "sha256:<64 hex>"
    std::uint64_t size = 0;  // bytes; always written
    std::string source;      // where to fetch it from: "port:<virtio port name>"; always written
    bool operator==(const Image&) const = default;
  };
  // cgroup v2 limits of a container app; 0 = none.
  struct Limits {
    std::uint64_t memory_max = 0;  // bytes
    std::uint64_t cpu_max_millis = 0;
    std::uint64_t pids_max = 0;
    bool operator==(const Limits&) const = default;
  };

  std::string app;                         // required
  std::string instance;                    // empty: `app`
  bool replace = true;                     // stop the app's other instances first
  std::optional<HealthCheck> health;
  std::vector<std::string> argv;           // required
  std::map<std::string, std::string> env;
  std::optional<std::string> cwd;          // default: the image mount (container: "/"), else "/"
  std::uint64_t uid = 0;
  std::uint64_t gid = 0;
  std::vector<File> files;
  std::optional<Image> image;              // present when image_digest is
  bool container = false;
  Limits limits;
  std::string restart = "always";          // always | on-failure | never

  nlohmann::json encode() const;
  static Result<RunAppRequest> decode(const nlohmann::json& body);
  bool operator==(const RunAppRequest&) const = default;
};

struct StopAppRequest {
  static constexpr std::string_view kType = "stop_app";
  std::string app;       // required
  std::string instance;  // empty: every instance of the app
  std::uint64_t signal = 15;  // SIGTERM
  std::uint64_t grace_ms = kDefaultGraceMs;

  nlohmann::json encode() const;
  static Result<StopAppRequest> decode(const nlohmann::json& body);
  bool operator==(const StopAppRequest&) const = default;
};

struct AppStatusRequest {
  static constexpr std::string_view kType = "app_status";
  std::string app;  // empty: every instance

  nlohmann::json encode() const;
  static Result<AppStatusRequest> decode(const nlohmann::json& body);
  bool operator==(const AppStatusRequest&) const = default;
};

struct ExecRequest {
  static constexpr std::string_view kType = "exec";
  std::vector<std::string> argv;  // required
  std::map<std::string, std::string> env;
  std::optional<std::string> cwd;       // default: the app's, else "/"
  std::optional<std::string> app;       // run in the context of its newest instance
  std::optional<std::string> instance;  // run in this instance's context instead
  std::optional<std::string> stdin_data;  // bytes, wire name "stdin"
  std::uint64_t timeout_ms = 0;           // 0: none

  nlohmann::json encode() const;
  static Result<ExecRequest> decode(const nlohmann::json& body);
  bool operator==(const ExecRequest&) const = default;
};

struct CancelExecRequest {
  static constexpr std::string_view kType = "cancel_exec";
  std::uint64_t exec = 0;  // required: the id of the exec request

  nlohmann::json encode() const;
  static Result<CancelExecRequest> decode(const nlohmann::json& body);
  bool operator==(const CancelExecRequest&) const = default;
};

struct LogsRequest {
  static constexpr std::string_view kType = "logs";
  std::string app;          // required
  std::string instance;     // empty: `app` (the guest then falls back to its newest instance)
  std::uint64_t since = 0;  // first seq wanted

  nlohmann::json encode() const;
  static Result<LogsRequest> decode(const nlohmann::json& body);
  bool operator==(const LogsRequest&) const = default;
};

struct MetricsRequest {
  static constexpr std::string_view kType = "metrics";

  nlohmann::json encode() const;
  static Result<MetricsRequest> decode(const nlohmann::json& body);
};

struct ShutdownRequest {
  static constexpr std::string_view kType = "shutdown";
  std::uint64_t grace_ms = kDefaultGraceMs;

  nlohmann::json encode() const;
  static Result<ShutdownRequest> decode(const nlohmann::json& body);
  bool operator==(const ShutdownRequest&) const = default;
};

// ---- Guest -> host replies (the `result` of an ok reply): the guest encodes, the host
// decodes. shutdown's result is {}. ----

// One instance as hello, run_app, stop_app and app_status results carry it. Without an
// instance (stop_app's answer when nothing was left running) it is only `app` and `state`.
struct AppState {
  std::string app;                         // required
  std::string instance;                    // with it, restarts and log_seq are always written
  std::string state;                       // required: running | stopping | restarting | exited | stopped
  std::int64_t restarts = 0;
  std::optional<std::string> health;       // starting | healthy | unhealthy, with a health check
  std::string health_detail;
  std::optional<std::uint64_t> pid;        // while a process exists
  std::uint64_t started_ms = 0;            // guest monotonic ms; always written with pid
  std::optional<std::int64_t> last_exit;   // exit status or 128 + signal, once one has ended
  std::uint64_t log_seq = 0;               // the seq of the next log chunk

  nlohmann::json encode() const;
  static Result<AppState> decode(const nlohmann::json& result);
  bool operator==(const AppState&) const = default;
};

struct HelloReply {
  std::uint64_t version = kProtocolVersion;  // required
  std::string boot_id;                       // required
  std::string hostname;                      // always written
  std::vector<AppState> apps;                // always written: what runs now

  nlohmann::json encode() const;
  static Result<HelloReply> decode(const nlohmann::json& result);
  bool operator==(const HelloReply&) const = default;
};

struct PingReply {
  std::string boot_id;  // required

  nlohmann::json encode() const;
  static Result<PingReply> decode(const nlohmann::json& result);
  bool operator==(const PingReply&) const = default;
};

struct AppStatusReply {
  std::vector<AppState> apps;  // always written

  nlohmann::json encode() const;
  static Result<AppStatusReply> decode(const nlohmann::json& result);
  bool operator==(const AppStatusReply&) const = default;
};

// Sent once the process has exited and both of its pipes reached EOF; all fields always written.
struct ExecReply {
  std::int64_t exit_code = 0;  // 128 + signal when killed
  std::int64_t signal = 0;
  bool timed_out = false;

  nlohmann::json encode() const;
  static Result<ExecReply> decode(const nlohmann::json& result);
  bool operator==(const ExecReply&) const = default;
};

struct CancelExecReply {
  bool found = false;  // always written

  nlohmann::json encode() const;
  static Result<CancelExecReply> decode(const nlohmann::json& result);
  bool operator==(const CancelExecReply&) const = default;
};

struct LogsReply {
  std::uint64_t next = 0;  // always written: pass as `since` next time

  nlohmann::json encode() const;
  static Result<LogsReply> decode(const nlohmann::json& result);
  bool operator==(const LogsReply&) const = default;
};

// The VM's CPU (clock ticks), memory (KiB) and scratch disk (KiB), and each running app's share.
struct MetricsReply {
  struct App {
    std::string app;  // the instance
    std::uint64_t cpu_ticks = 0;
    std::uint64_t rss_kib = 0;
    bool operator==(const App&) const = default;
  };
  struct Disk {
    std::uint64_t total_kib = 0;
    std::uint64_t free_kib = 0;
    bool operator==(const Disk&) const = default;
  };
  std::uint64_t cpu_ticks_busy = 0;  // every field but disk always written
  std::uint64_t cpu_ticks_idle = 0;
  std::uint64_t ticks_per_second = 0;
  std::uint64_t memory_total_kib = 0;
  std::uint64_t memory_available_kib = 0;
  std::optional<Disk> disk;  // absent when the scratch disk cannot be read
  std::uint64_t init_rss_kib = 0;
  std::vector<App> apps;

  nlohmann::json encode() const;
  static Result<MetricsReply> decode(const nlohmann::json& result);
  bool operator==(const MetricsReply&) const = default;
};

// ---- Guest -> host notifications (id 0): the guest encodes, the host decodes. ----

// Sent whenever the host (re)connects.
struct GuestHello {
  static constexpr std::string_view kType = "hello";
  std::uint64_t version = kProtocolVersion;  // required
  std::string boot_id;                       // required: new on every boot
  std::string hostname;                      // always written
  std::vector<std::string> capabilities;     // always written

  nlohmann::json encode() const;
  static Result<GuestHello> decode(const nlohmann::json& body);
  bool operator==(const GuestHello&) const = default;
};

// One chunk of an app's output. `stream` is "stdout" or "stderr" (decode refuses others).
struct LogNotification {
  static constexpr std::string_view kType = "log";
  std::string app;       // required
  std::string instance;
  std::string stream;    // required
  std::uint64_t seq = 0;    // required
  std::uint64_t ts_ms = 0;  // required: guest wall clock, ms since the epoch
  std::string data;         // required, bytes

  nlohmann::json encode() const;
  static Result<LogNotification> decode(const nlohmann::json& body);
  bool operator==(const LogNotification&) const = default;
};

struct ExecOutputNotification {
  static constexpr std::string_view kType = "exec_output";
  std::uint64_t exec = 0;  // required: the exec request's id
  std::string stream;      // required: stdout | stderr
  std::string data;        // required, bytes

  nlohmann::json encode() const;
  static Result<ExecOutputNotification> decode(const nlohmann::json& body);
  bool operator==(const ExecOutputNotification&) const = default;
};

// An app's process ended; exactly one of code and signal is set by the guest.
struct AppExitedNotification {
  static constexpr std::string_view kType = "app_exited";
  std::string app;  // required
  std::string instance;
  std::uint64_t pid = 0;  // required
  std::optional<std::int64_t> code;
  std::optional<std::uint64_t> signal;

  nlohmann::json encode() const;
  static Result<AppExitedNotification> decode(const nlohmann::json& body);
  bool operator==(const AppExitedNotification&) const = default;
};

// An instance without a health check (re)started.
struct AppStartedNotification {
  static constexpr std::string_view kType = "app_started";
  std::string app;        // required
  std::string instance;   // required
  std::uint64_t pid = 0;  // required

  nlohmann::json encode() const;
  static Result<AppStartedNotification> decode(const nlohmann::json& body);
  bool operator==(const AppStartedNotification&) const = default;
};

// An instance's health changed. `health` and `from` are starting | healthy | unhealthy (decode
// refuses others).
struct AppHealthNotification {
  static constexpr std::string_view kType = "app_health";
  std::string app;       // required
  std::string instance;  // required
  std::string health;    // required
  std::string from;      // required
  std::string detail;    // the last failure's reason

  nlohmann::json encode() const;
  static Result<AppHealthNotification> decode(const nlohmann::json& body);
  bool operator==(const AppHealthNotification&) const = default;
};

}  // namespace berth::guest
