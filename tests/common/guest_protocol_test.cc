#include "common/guest_protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace berth::guest {
namespace {

using nlohmann::json;

std::string payloadOf(const std::string& frame) { return frame.substr(4); }

std::string frameOfJson(const json& map) {
  std::vector<std::uint8_t> cbor = json::to_cbor(map);
  std::string frame(4, '\0');
  frame[0] = static_cast<char>(cbor.size() >> 24);
  frame[1] = static_cast<char>(cbor.size() >> 16);
  frame[2] = static_cast<char>(cbor.size() >> 8);
  frame[3] = static_cast<char>(cbor.size());
  frame.append(cbor.begin(), cbor.end());
  return frame;
}

TEST(GuestProtocolTest, RoundTripsARequestWithBytes) {
  Message exec{"exec", 7, json::object()};
  exec.body["argv"] = {"sh", "-c", "echo hi"};
  exec.body["stdin"] = json::binary({0x00, 0xff, 0x10});
  auto decoded = decodeMessage(payloadOf(encodeMessage(exec)), Sender::kHost);
  ASSERT_TRUE(decoded.isOk()) << decoded.status().toString();
  EXPECT_EQ(decoded->type, "exec");
  EXPECT_EQ(decoded->id, 7u);
  EXPECT_EQ(decoded->body["argv"][2], "echo hi");
  EXPECT_EQ(decoded->body["stdin"].get_binary(), std::vector<std::uint8_t>({0x00, 0xff, 0x10}));
}

TEST(GuestProtocolTest, EachSideAcceptsOnlyTheOthersTypes) {
  Message log{"log", 0, {{"app", "web"}, {"stream", "stdout"}, {"seq", 1u}, {"ts_ms", 5u}}};
  log.body["data"] = json::binary({'h', 'i'});
  EXPECT_TRUE(decodeMessage(payloadOf(encodeMessage(log)), Sender::kGuest).isOk());
  auto asHost = decodeMessage(payloadOf(encodeMessage(log)), Sender::kHost);
  ASSERT_FALSE(asHost.isOk());
  EXPECT_NE(asHost.status().message().find("unknown message type 'log'"), std::string::npos);
}

TEST(GuestProtocolTest, RejectsUnknownFieldsWrongKindsAndMissingFields) {
  auto decode = [](const json& map) { return decodeMessage(payloadOf(frameOfJson(map)), Sender::kGuest); };
  EXPECT_TRUE(decode({{"type", "hello"}, {"id", 0u}, {"version", 1u}, {"boot_id", "b"}}).isOk());
  auto unknown = decode({{"type", "hello"}, {"id", 0u}, {"version", 1u}, {"boot_id", "b"}, {"x", 1}});
  EXPECT_NE(unknown.status().message().find("unknown field 'x'"), std::string::npos);
  auto wrongKind = decode({{"type", "hello"}, {"id", 0u}, {"version", "1"}, {"boot_id", "b"}});
  EXPECT_NE(wrongKind.status().message().find("field 'version' has the wrong type"), std::string::npos);
  auto missing = decode({{"type", "hello"}, {"id", 0u}, {"version", 1u}});
  EXPECT_NE(missing.status().message().find("lacks field 'boot_id'"), std::string::npos);
  EXPECT_FALSE(decode({{"type", "hello"}, {"id", -1}, {"version", 1u}, {"boot_id", "b"}}).isOk());
  EXPECT_FALSE(decode(json::array({1, 2})).isOk());
  EXPECT_FALSE(decodeMessage("\xff\xff\xff", Sender::kGuest).isOk());
}

TEST(GuestProtocolTest, DeepNestingIsRefusedWithoutRecursing) {
  // 200,000 nested one-element arrays: 0x81 repeated, then a zero.
  std::string deep(200000, '\x81');
  deep.push_back('\x00');
  EXPECT_FALSE(decodeMessage(deep, Sender::kGuest).isOk());
}

TEST(GuestProtocolTest, HugeDeclaredContainerLengthsAreRefused) {
  // Found by fuzz/guest_protocol_fuzz: an array or map header claiming 2^63-1 items made the
  // DOM parser throw out of a no-exceptions parse and would end the agent.
  EXPECT_FALSE(decodeMessage(std::string("\x9b\x7f\xff\xff\xff\xff\xff\xff\xff", 9), Sender::kGuest).isOk());
  EXPECT_FALSE(decodeMessage(std::string("\xbb\x7f\xff\xff\xff\xff\xff\xff\xff", 9), Sender::kGuest).isOk());
  // Inside an otherwise valid ping.
  std::string ping = payloadOf(encodeMessage(Message{"ping", 1, json::object()}));
  ping[0] = static_cast<char>(static_cast<unsigned char>(ping[0]) + 1);  // one more map entry
  ping += std::string("\x61x\x9b\x7f\xff\xff\xff\xff\xff\xff\xff", 11);
  EXPECT_FALSE(decodeMessage(ping, Sender::kHost).isOk());
}

TEST(GuestProtocolTest, DecoderSplitsFramesAcrossArbitraryReads) {
  std::string stream;
  for (int i = 1; i <= 3; ++i) stream += encodeMessage(Message{"ping", std::uint64_t(i), json::object()});
  FrameDecoder decoder;
  std::vector<std::string> frames;
  for (char byte : stream) ASSERT_TRUE(decoder.feed(std::string_view(&byte, 1), frames).isOk());
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(decodeMessage(frames[2], Sender::kHost)->id, 3u);
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(GuestProtocolTest, OversizeAndZeroLengthsBreakTheStream) {
  for (std::string header : {std::string("\x00\x10\x00\x01", 4), std::string("\x00\x00\x00\x00", 4),
                             std::string("\xff\xff\xff\xff", 4)}) {
    FrameDecoder decoder;
    std::vector<std::string> frames;
    std::string stream = encodeMessage(Message{"ping", 1, json::object()}) + header;
    Status status = decoder.feed(stream, frames);
    EXPECT_FALSE(status.isOk());
    EXPECT_NE(status.message().find("outside 1..1048576"), std::string::npos);
    // Once broken, the stream stays broken and holds no memory.
    EXPECT_FALSE(decoder.feed("x", frames).isOk());
    EXPECT_EQ(decoder.buffered(), 0u);
  }
}

}  // namespace
}  // namespace berth::guest
