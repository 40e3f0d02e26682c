// Fuzzes the guest channel codec the way berth-agent meets it: a hostile guest's byte stream,
// arriving in reads of any size, split by FrameDecoder, each frame decoded and validated.
//
// Input: byte 0 chooses the read size (0 = everything at once, else 1..255 bytes); the rest is
// the stream. Every frame is decoded as if sent by either side; whatever decodes must survive
// encodeMessage → decodeMessage with the same type and id. Its typed form (common/
// guest_messages.h; for a reply, every reply struct is tried on its result) must decode
// without crashing, and what decodes must come back equal from its own encoding.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/guest_messages.h"
#include "common/guest_protocol.h"

namespace {

using berth::guest::decodeMessage;
using berth::guest::encodeMessage;
using berth::guest::FrameDecoder;
using berth::guest::Message;
using berth::guest::Sender;
using nlohmann::json;

void checkRoundTrip(const Message& message, Sender from) {
  const std::string frame = encodeMessage(message);
  if (frame.size() < 4) {
    std::fputs("guest_protocol_fuzz: encodeMessage produced no length prefix\n", stderr);
    std::abort();
  }
  const auto* p = reinterpret_cast<const unsigned char*>(frame.data());
  const std::uint32_t length = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                               (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
  if (length != frame.size() - 4) {
    std::fputs("guest_protocol_fuzz: length prefix disagrees with the payload\n", stderr);
    std::abort();
  }
  auto again = decodeMessage(std::string_view(frame).substr(4), from);
  if (!again.isOk()) {
    std::fprintf(stderr, "guest_protocol_fuzz: re-encoded '%s' no longer decodes: %s\n",
                 message.type.c_str(), again.status().toString().c_str());
    std::abort();
  }
  if (again->type != message.type || again->id != message.id) {
    std::fprintf(stderr, "guest_protocol_fuzz: round trip changed '%s' #%llu into '%s' #%llu\n",
                 message.type.c_str(), static_cast<unsigned long long>(message.id),
                 again->type.c_str(), static_cast<unsigned long long>(again->id));
    std::abort();
  }
}

template <typename T>
void checkTyped(const json& body, const char* name) {
  auto typed = T::decode(body);
  if (!typed.isOk()) return;
  auto again = T::decode(typed->encode());
  if (!again.isOk() || !(*again == *typed)) {
    std::fprintf(stderr, "guest_protocol_fuzz: %s changed on encode → decode\n", name);
    std::abort();
  }
}

// The typed decoders for what `from` sends; the structs without fields have nothing to check.
void checkTypedForms(const Message& message, Sender from) {
  using namespace berth::guest;
  const json& body = message.body;
  if (from == Sender::kHost) {
    if (message.type == HelloRequest::kType) checkTyped<HelloRequest>(body, "hello");
    if (message.type == RunAppRequest::kType) checkTyped<RunAppRequest>(body, "run_app");
    if (message.type == StopAppRequest::kType) checkTyped<StopAppRequest>(body, "stop_app");
    if (message.type == AppStatusRequest::kType) checkTyped<AppStatusRequest>(body, "app_status");
    if (message.type == ExecRequest::kType) checkTyped<ExecRequest>(body, "exec");
    if (message.type == CancelExecRequest::kType) checkTyped<CancelExecRequest>(body, "cancel_exec");
    if (message.type == LogsRequest::kType) checkTyped<LogsRequest>(body, "logs");
    if (message.type == ShutdownRequest::kType) checkTyped<ShutdownRequest>(body, "shutdown");
    return;
  }
  if (message.type == "reply") {
    auto result = body.find("result");
    if (result == body.end()) return;
    checkTyped<AppState>(*result, "app state");
    checkTyped<HelloReply>(*result, "hello reply");
    checkTyped<PingReply>(*result, "ping reply");
    checkTyped<AppStatusReply>(*result, "app_status reply");
    checkTyped<ExecReply>(*result, "exec reply");
    checkTyped<CancelExecReply>(*result, "cancel_exec reply");
    checkTyped<LogsReply>(*result, "logs reply");
    checkTyped<MetricsReply>(*result, "metrics reply");
    return;
  }
  if (message.type == GuestHello::kType) checkTyped<GuestHello>(body, "hello");
  if (message.type == LogNotification::kType) checkTyped<LogNotification>(body, "log");
  if (message.type == ExecOutputNotification::kType) checkTyped<ExecOutputNotification>(body, "exec_output");
  if (message.type == AppExitedNotification::kType) checkTyped<AppExitedNotification>(body, "app_exited");
  if (message.type == AppStartedNotification::kType) checkTyped<AppStartedNotification>(body, "app_started");
  if (message.type == AppHealthNotification::kType) checkTyped<AppHealthNotification>(body, "app_health");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = data[0] == 0 ? size : data[0];
  std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  FrameDecoder decoder;
  std::vector<std::string> frames;
  while (!stream.empty()) {
    const std::string_view read = stream.substr(0, chunk);
    stream.remove_prefix(read.size());
    if (!decoder.feed(read, frames).isOk()) break;  // the agent closes the channel here
    // The decoder's memory bound: one partial frame plus the current read.
    if (decoder.buffered() > 4 + berth::guest::kMaxFrameBytes + read.size()) {
      std::fputs("guest_protocol_fuzz: FrameDecoder holds more than one frame\n", stderr);
      std::abort();
    }
  }
  for (const std::string& payload : frames) {
    if (payload.empty() || payload.size() > berth::guest::kMaxFrameBytes) {
      std::fputs("guest_protocol_fuzz: FrameDecoder returned a frame outside 1..1 MiB\n", stderr);
      std::abort();
    }
    for (Sender from : {Sender::kHost, Sender::kGuest}) {
      auto message = decodeMessage(payload, from);
      if (!message.isOk()) continue;
      checkRoundTrip(*message, from);
      checkTypedForms(*message, from);
    }
  }
  return 0;
}
