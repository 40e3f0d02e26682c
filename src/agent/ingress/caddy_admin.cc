#include "agent/ingress/caddy_admin.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "agent/ingress/caddy_config.h"

namespace berth::agent {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {
constexpr std::uint64_t kMaxReplyBytes = 1 << 20;
}

Result<AdminReply> caddyAdminRequest(const std::string& socket_path, const std::string& method,
                                     const std::string& target, const std::string& body,
                                     std::chrono::milliseconds timeout) {
  asio::io_context ioc;
  beast::basic_stream<asio::local::stream_protocol> stream(ioc);
  beast::error_code ec;
  stream.expires_after(timeout);
  stream.socket().connect(asio::local::stream_protocol::endpoint(socket_path), ec);
  if (ec)
    return unavailable("Caddy's admin socket " + socket_path + " does not answer: " + ec.message());

  http::request<http::string_body> request(method == "POST" ? http::verb::post : http::verb::get,
                                           target, 11);
  request.set(http::field::host, kCaddyAdminOrigin);
  if (method == "POST") {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
    request.prepare_payload();
  }
  // Reads and writes below run in ioc under the stream's deadline: a Caddy that stops
  // answering times the request out instead of blocking the agent.
  Status outcome = Status::ok();
  AdminReply reply;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxReplyBytes);
  http::async_write(stream, request, [&](beast::error_code wrote, std::size_t) {
    if (wrote) {
      outcome = unavailable("writing to Caddy's admin API: " + wrote.message());
      return;
    }
    http::async_read(stream, buffer, parser, [&](beast::error_code read, std::size_t) {
      if (read) outcome = unavailable("reading Caddy's admin API: " + read.message());
    });
  });
  ioc.run();
  BERTH_RETURN_IF_ERROR(outcome);
  reply.status = static_cast<int>(parser.get().result_int());
  reply.body = std::move(parser.get().body());
  return reply;
}

}  // namespace berth::agent
