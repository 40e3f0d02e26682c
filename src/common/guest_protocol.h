#pragma once
// The guest channel protocol between berth-agent (host) and berth-init (guest PID 1), written
// down in docs/guest-protocol.md. A frame is a big-endian u32 length (1..kMaxFrameBytes) and a
// CBOR map (RFC 8949) — CBOR rather than JSON because log chunks, exec streams and files are
// bytes, and CBOR carries bytes natively through the same well-kept library (nlohmann-json).
//
// Both ends link this file; the host treats every guest byte as hostile, so decoding is strict:
// a known type, known fields of the right kind, nothing else. Any error means "close the channel".

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/status.h"

namespace berth::guest {

inline constexpr std::uint32_t kProtocolVersion = 1;
inline constexpr std::uint32_t kMaxFrameBytes = 1u << 20;
inline constexpr std::string_view kPortName = "org.berth.agent.0";

// Who sent a message: each side accepts only the other side's message types.
enum class Sender { kHost, kGuest };

struct Message {
  std::string type;
  // Requests carry an id > 0 that their reply repeats; notifications carry 0.
  std::uint64_t id = 0;
  // Every field but `type` and `id`, already validated against the type's schema on decode.
  nlohmann::json body = nlohmann::json::object();
};

// Frames one message: length prefix + CBOR payload.
std::string encodeMessage(const Message& message);

// Builds the reply to request `id`: {"type":"reply","id":id,"ok":true,"result":result}.
Message makeReply(std::uint64_t id, nlohmann::json result = nlohmann::json::object());
Message makeErrorReply(std::uint64_t id, std::string_view message);

// Decodes and validates one frame payload sent by `from`.
Result<Message> decodeMessage(std::string_view payload, Sender from);

// Splits a byte stream into frame payloads. Memory is bounded: it holds at most one partial
// frame (kMaxFrameBytes plus one read). A bad length is a protocol error: the stream is
// unusable afterwards and the caller must close it.
class FrameDecoder {
 public:
  // Appends `bytes` and moves every frame payload they complete into `frames`.
  Status feed(std::string_view bytes, std::vector<std::string>& frames);
  std::size_t buffered() const { return buffer_.size(); }

 private:
  std::string buffer_;
  bool broken_ = false;
};

}  // namespace berth::guest
