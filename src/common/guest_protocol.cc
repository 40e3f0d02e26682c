#include "common/guest_protocol.h"

#include <array>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace berth::guest {
namespace {

using nlohmann::json;

enum class Kind { kString, kUint, kInt, kBool, kBytes, kStringList, kStringMap, kMap, kFileList };

struct Field {
  const char* name;
  Kind kind;
  bool required;
};

struct Schema {
  const char* type;
  Sender sender;
  std::vector<Field> fields;
};

// The whole vocabulary. docs/guest-protocol.md describes each message; keep the two in step.
const std::vector<Schema>& schemas() {
  static const std::vector<Schema> kSchemas = {
      // host -> guest requests
      {"hello", Sender::kHost, {{"version", Kind::kUint, true}}},
      {"ping", Sender::kHost, {}},
      {"run_app",
       Sender::kHost,
       {{"app", Kind::kString, true},
        {"instance", Kind::kString, false},
        {"replace", Kind::kBool, false},
        {"health", Kind::kMap, false},
        {"argv", Kind::kStringList, true},
        {"env", Kind::kStringMap, false},
        {"cwd", Kind::kString, false},
        {"uid", Kind::kUint, false},
        {"gid", Kind::kUint, false},
        {"files", Kind::kFileList, false},
        {"image_digest", Kind::kString, false},
        {"image_size", Kind::kUint, false},
        {"image_source", Kind::kString, false},
        {"container", Kind::kBool, false},
        {"memory_max", Kind::kUint, false},
        {"cpu_max_millis", Kind::kUint, false},
        {"pids_max", Kind::kUint, false},
        {"restart", Kind::kString, false}}},
      {"stop_app",
       Sender::kHost,
       {{"app", Kind::kString, true},
        {"instance", Kind::kString, false},
        {"signal", Kind::kUint, false},
        {"grace_ms", Kind::kUint, false}}},
      {"app_status", Sender::kHost, {{"app", Kind::kString, false}}},
      {"exec",
       Sender::kHost,
       {{"argv", Kind::kStringList, true},
        {"env", Kind::kStringMap, false},
        {"cwd", Kind::kString, false},
        {"app", Kind::kString, false},
        {"instance", Kind::kString, false},
        {"stdin", Kind::kBytes, false},
        {"timeout_ms", Kind::kUint, false}}},
      {"cancel_exec", Sender::kHost, {{"exec", Kind::kUint, true}}},
      {"logs",
       Sender::kHost,
       {{"app", Kind::kString, true}, {"instance", Kind::kString, false}, {"since", Kind::kUint, false}}},
      {"metrics", Sender::kHost, {}},
      {"shutdown", Sender::kHost, {{"grace_ms", Kind::kUint, false}}},
      // guest -> host replies and notifications
      {"reply",
       Sender::kGuest,
       {{"ok", Kind::kBool, true}, {"error", Kind::kString, false}, {"result", Kind::kMap, false}}},
      {"hello",
       Sender::kGuest,
       {{"version", Kind::kUint, true},
        {"boot_id", Kind::kString, true},
        {"hostname", Kind::kString, false},
        {"capabilities", Kind::kStringList, false}}},
      {"app_exited",
       Sender::kGuest,
       {{"app", Kind::kString, true},
        {"instance", Kind::kString, false},
        {"pid", Kind::kUint, true},
        {"code", Kind::kInt, false},
        {"signal", Kind::kUint, false}}},
      {"app_started",
       Sender::kGuest,
       {{"app", Kind::kString, true}, {"instance", Kind::kString, true}, {"pid", Kind::kUint, true}}},
      {"app_health",
       Sender::kGuest,
       {{"app", Kind::kString, true},
        {"instance", Kind::kString, true},
        {"health", Kind::kString, true},
        {"from", Kind::kString, true},
        {"detail", Kind::kString, false}}},
      {"log",
       Sender::kGuest,
       {{"app", Kind::kString, true},
        {"instance", Kind::kString, false},
        {"stream", Kind::kString, true},
        {"seq", Kind::kUint, true},
        {"ts_ms", Kind::kUint, true},
        {"data", Kind::kBytes, true}}},
      {"exec_output",
       Sender::kGuest,
       {{"exec", Kind::kUint, true}, {"stream", Kind::kString, true}, {"data", Kind::kBytes, true}}},
      // The guest sends no requests today; a host reply is still well-formed.
      {"reply",
       Sender::kHost,
       {{"ok", Kind::kBool, true}, {"error", Kind::kString, false}, {"result", Kind::kMap, false}}},
  };
  return kSchemas;
}

const Schema* findSchema(std::string_view type, Sender sender) {
  for (const Schema& schema : schemas()) {
    if (schema.sender == sender && type == schema.type) return &schema;
  }
  return nullptr;
}

bool isKind(const json& value, Kind kind) {
  switch (kind) {
    case Kind::kString: return value.is_string();
    case Kind::kUint: return value.is_number_unsigned();
    case Kind::kInt: return value.is_number_integer();
    case Kind::kBool: return value.is_boolean();
    case Kind::kBytes: return value.is_binary();
    case Kind::kMap: return value.is_object();
    case Kind::kStringList:
      if (!value.is_array()) return false;
      for (const json& item : value) {
        if (!item.is_string()) return false;
      }
      return true;
    case Kind::kStringMap:
      if (!value.is_object()) return false;
      for (const auto& item : value.items()) {
        if (!item.value().is_string()) return false;
      }
      return true;
    case Kind::kFileList:
      if (!value.is_array()) return false;
      for (const json& file : value) {
        if (!file.is_object() || file.size() != 3) return false;
        auto path = file.find("path");
        auto mode = file.find("mode");
        auto data = file.find("data");
        if (path == file.end() || !path->is_string()) return false;
        if (mode == file.end() || !mode->is_number_unsigned()) return false;
        if (data == file.end() || !data->is_binary()) return false;
      }
      return true;
  }
  return false;
}

// Nesting is bounded before nlohmann's recursive CBOR reader descends: a 1 MiB frame of
// one-byte nested arrays would otherwise recurse a million frames deep.
constexpr int kMaxDepth = 6;

class BoundedDomParser : public nlohmann::detail::json_sax_dom_parser<json> {
 public:
  explicit BoundedDomParser(json& result)
      : nlohmann::detail::json_sax_dom_parser<json>(result, /*allow_exceptions=*/false) {}

  // A declared length beyond what a frame can hold is refused here: the DOM parser would
  // otherwise throw (even with exceptions "off") on lengths above max_size().
  static bool plausible(std::size_t len) { return len == static_cast<std::size_t>(-1) || len <= kMaxFrameBytes; }

  bool start_object(std::size_t len) {
    if (++depth_ > kMaxDepth || !plausible(len)) return false;
    return json_sax_dom_parser::start_object(len);
  }
  bool end_object() {
    --depth_;
    return json_sax_dom_parser::end_object();
  }
  bool start_array(std::size_t len) {
    if (++depth_ > kMaxDepth || !plausible(len)) return false;
    return json_sax_dom_parser::start_array(len);
  }
  bool end_array() {
    --depth_;
    return json_sax_dom_parser::end_array();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

 private:
  int depth_ = 0;
};

void putBigEndian32(std::string& out, std::uint32_t value) {
  out.push_back(static_cast<char>((value >> 24) & 0xff));
  out.push_back(static_cast<char>((value >> 16) & 0xff));
  out.push_back(static_cast<char>((value >> 8) & 0xff));
  out.push_back(static_cast<char>(value & 0xff));
}

}  // namespace

std::string encodeMessage(const Message& message) {
  json map = message.body.is_object() ? message.body : json::object();
  map["type"] = message.type;
  map["id"] = message.id;
  std::vector<std::uint8_t> cbor = json::to_cbor(map);
  std::string frame;
  frame.reserve(4 + cbor.size());
  putBigEndian32(frame, static_cast<std::uint32_t>(cbor.size()));
  frame.append(reinterpret_cast<const char*>(cbor.data()), cbor.size());
  return frame;
}

Message makeReply(std::uint64_t id, json result) {
  Message reply{"reply", id, json::object()};
  reply.body["ok"] = true;
  reply.body["result"] = std::move(result);
  return reply;
}

Message makeErrorReply(std::uint64_t id, std::string_view message) {
  Message reply{"reply", id, json::object()};
  reply.body["ok"] = false;
  reply.body["error"] = std::string(message);
  return reply;
}

Result<Message> decodeMessage(std::string_view payload, Sender from) {
  json map;
  BoundedDomParser parser(map);
  bool parsed = false;
  try {
    parsed = json::sax_parse(payload.begin(), payload.end(), &parser, nlohmann::detail::input_format_t::cbor,
                             /*strict=*/true);
  } catch (const nlohmann::json::exception&) {
    parsed = false;  // any library exception is a malformed frame, never a crash
  }
  if (!parsed || parser.is_errored()) {
    return invalidArgument("frame is not a CBOR map within the nesting limit");
  }
  if (!map.is_object()) return invalidArgument("frame is not a CBOR map");
  auto type = map.find("type");
  if (type == map.end() || !type->is_string()) return invalidArgument("frame has no string 'type'");
  const Schema* schema = findSchema(type->get_ref<const std::string&>(), from);
  if (schema == nullptr) {
    return invalidArgument("unknown message type '" + type->get<std::string>() + "'");
  }
  auto id = map.find("id");
  if (id == map.end() || !id->is_number_unsigned()) {
    return invalidArgument("message '" + std::string(schema->type) + "' has no unsigned 'id'");
  }

  Message message{schema->type, id->get<std::uint64_t>(), json::object()};
  for (auto& [key, value] : map.items()) {
    if (key == "type" || key == "id") continue;
    const Field* field = nullptr;
    for (const Field& candidate : schema->fields) {
      if (key == candidate.name) field = &candidate;
    }
    if (field == nullptr) {
      return invalidArgument("message '" + message.type + "' has unknown field '" + key + "'");
    }
    if (!isKind(value, field->kind)) {
      return invalidArgument("message '" + message.type + "' field '" + key + "' has the wrong type");
    }
    message.body[key] = std::move(value);
  }
  for (const Field& field : schema->fields) {
    if (field.required && !message.body.contains(field.name)) {
      return invalidArgument("message '" + message.type + "' lacks field '" + field.name + "'");
    }
  }
  return message;
}

Status FrameDecoder::feed(std::string_view bytes, std::vector<std::string>& frames) {
  if (broken_) return invalidArgument("channel already failed");
  buffer_.append(bytes);
  std::size_t offset = 0;
  while (buffer_.size() - offset >= 4) {
    const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + offset);
    const std::uint32_t length = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                                 (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
    if (length == 0 || length > kMaxFrameBytes) {
      broken_ = true;
      buffer_.clear();
      buffer_.shrink_to_fit();
      return invalidArgument("frame length " + std::to_string(length) + " is outside 1.." +
                             std::to_string(kMaxFrameBytes));
    }
    if (buffer_.size() - offset < 4 + std::size_t{length}) break;
    frames.emplace_back(buffer_, offset + 4, length);
    offset += 4 + length;
  }
  buffer_.erase(0, offset);
  return Status::ok();
}

}  // namespace berth::guest
