#include "client/api_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <limits>

namespace berth::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxResponseBytes = 64 << 20;
// SSE streams get a keepalive every 15 s, long-polls answer within 15 s.
constexpr time_t kIoTimeoutSeconds = 60;

StatusCode codeFor(int http_status, const std::string& code) {
  if (code == "invalid_argument" || code == "unsupported_media_type" || code == "payload_too_large") {
    return StatusCode::kInvalidArgument;
  }
  if (code == "not_found") return StatusCode::kNotFound;
  if (code == "already_exists") return StatusCode::kAlreadyExists;
  if (code == "failed_precondition") return StatusCode::kFailedPrecondition;
  if (code == "conflict") return StatusCode::kConflict;
  if (code == "version_mismatch") return StatusCode::kVersionMismatch;
  if (code == "permission_denied") return StatusCode::kPermissionDenied;
  if (code == "unauthenticated") return StatusCode::kUnauthenticated;
  if (code == "rate_limited") return StatusCode::kResourceExhausted;
  if (http_status == 503) return StatusCode::kUnavailable;
  return http_status >= 500 ? StatusCode::kInternal : StatusCode::kInvalidArgument;
}

class BeastClient final : public ApiClient {
 public:
  BeastClient(std::string url, std::string host, std::string port, std::string token)
      : url_(std::move(url)), host_(std::move(host)), port_(std::move(port)), token_(std::move(token)) {}

  Result<ApiResponse> get(const std::string& path) override { return call(http::verb::get, path, nullptr); }
  Result<ApiResponse> post(const std::string& path, const nlohmann::json& body) override {
    return call(http::verb::post, path, &body);
  }
  Result<ApiResponse> patch(const std::string& path, const nlohmann::json& body) override {
    return call(http::verb::patch, path, &body);
  }
  Result<ApiResponse> del(const std::string& path) override { return call(http::verb::delete_, path, nullptr); }
  Result<ApiResponse> postBytes(const std::string& path, const std::string& content_type,
                                const std::string& body) override {
    return callRaw(http::verb::post, path, content_type, body);
  }
  Result<std::string> download(const std::string& path, std::uint64_t max_bytes) override {
    BERTH_ASSIGN_OR_RETURN(auto raw, exchange(http::verb::get, path, "", "", max_bytes));
    if (raw.first >= 400) {
      return apiError(raw.first, nlohmann::json::parse(raw.second, nullptr, false));
    }
    return std::move(raw.second);
  }
  const std::string& url() const override { return url_; }

  Status stream(const StreamRequest& request, const std::function<bool(const SseEvent&)>& on_event) override {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    BERTH_RETURN_IF_ERROR(connect(ioc, socket));
    http::request<http::string_body> req{http::string_to_verb(request.method), request.path, 11};
    setHeaders(req);
    req.set(http::field::accept, "text/event-stream");
    if (!request.last_event_id.empty()) req.set("Last-Event-ID", request.last_event_id);
    if (request.body) {
      req.set(http::field::content_type, "application/json");
      req.body() = request.body->dump();
    }
    req.prepare_payload();
    beast::error_code ec;
    http::write(socket, req, ec);
    if (ec) return unavailable("cannot send to berthd at " + url_ + ": " + ec.message());

    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // a stream has no end in sight
    http::read_header(socket, buffer, parser, ec);
    if (ec) return unavailable("lost berthd at " + url_ + ": " + ec.message());
    int status = static_cast<int>(parser.get().result_int());
    if (status != 200) {
      http::response_parser<http::string_body> rest(std::move(parser));
      rest.body_limit(kMaxResponseBytes);
      http::read(socket, buffer, rest, ec);
      return apiError(status, nlohmann::json::parse(rest.get().body(), nullptr, false));
    }
    std::string pending;
    SseEvent event;
    char chunk[4096];
    while (!parser.is_done()) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof chunk;
      // read_some returns as soon as bytes arrive, so each event is shown when it happens.
      http::read_some(socket, buffer, parser, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return unavailable("the stream from " + url_ + " broke: " + ec.message());
      pending.append(chunk, sizeof chunk - parser.get().body().size);
      size_t nl;
      while ((nl = pending.find('\n')) != std::string::npos) {
        std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        if (line.empty()) {
          if (!event.data.empty() && !on_event(event)) return Status::ok();
          event.data.clear();
          event.event.clear();
        } else if (line.rfind("id: ", 0) == 0) {
          event.id = line.substr(4);
        } else if (line.rfind("event: ", 0) == 0) {
          event.event = line.substr(7);
        } else if (line.rfind("data: ", 0) == 0) {
          event.data += line.substr(6);
        }
      }
    }
    return Status::ok();
  }

 private:
  template <typename Request>
  void setHeaders(Request& req) {
    req.set(http::field::host, host_ + ":" + port_);
    req.set(http::field::user_agent, "berth-cli/" BERTH_VERSION);
    if (!token_.empty()) req.set(http::field::authorization, "Bearer " + token_);
  }

  Status connect(asio::io_context& ioc, tcp::socket& socket) {
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(host_, port_, ec);
    if (ec) return unavailable("cannot resolve '" + host_ + "' of " + url_ + ": " + ec.message());
    asio::connect(socket, endpoints, ec);
    if (ec) return unavailable("cannot reach berthd at " + url_ + ": " + ec.message());
    // A silent server must not hang a caller (the agent's loop above all): reads and writes
    // give up after kIoTimeout, longer than the longest long-poll berthd holds (15 s).
    timeval tv{kIoTimeoutSeconds, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return Status::ok();
  }

  Result<ApiResponse> call(http::verb verb, const std::string& path, const nlohmann::json* body) {
    if (body) return callRaw(verb, path, "application/json", body->dump());
    return callRaw(verb, path, "", "");
  }

  Result<ApiResponse> callRaw(http::verb verb, const std::string& path, const std::string& content_type,
                              const std::string& body) {
    BERTH_ASSIGN_OR_RETURN(auto raw, exchange(verb, path, content_type, body, kMaxResponseBytes));
    ApiResponse out;
    out.status = raw.first;
    if (!raw.second.empty()) {
      out.body = nlohmann::json::parse(raw.second, nullptr, false);
      if (out.body.is_discarded()) {
        return internalError("berthd at " + url_ + " answered " + std::to_string(out.status) + " with a body that is not JSON");
      }
    }
    if (out.status >= 400) return apiError(out.status, out.body);
    return out;
  }

  // One request on a fresh connection: the HTTP status and the raw body.
  Result<std::pair<int, std::string>> exchange(http::verb verb, const std::string& path,
                                               const std::string& content_type, const std::string& body,
                                               std::uint64_t max_response_bytes) {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    BERTH_RETURN_IF_ERROR(connect(ioc, socket));
    http::request<http::string_body> req{verb, path, 11};
    setHeaders(req);
    if (!content_type.empty()) {
      req.set(http::field::content_type, content_type);
      req.body() = body;
    }
    req.prepare_payload();
    beast::error_code ec;
    http::write(socket, req, ec);
    if (ec) return unavailable("cannot send to berthd at " + url_ + ": " + ec.message());
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_response_bytes);
    http::read(socket, buffer, parser, ec);
    if (ec) return unavailable("no answer from berthd at " + url_ + ": " + ec.message());
    return std::make_pair(static_cast<int>(parser.get().result_int()), std::move(parser.get().body()));
  }

  std::string url_, host_, port_, token_;
};

}  // namespace

Status apiError(int http_status, const nlohmann::json& body) {
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const auto& e = body["error"];
    std::string code = e.value("code", "");
    std::string message = e.value("message", "");
    if (!message.empty()) return Status(codeFor(http_status, code), message);
  }
  return Status(codeFor(http_status, ""), "berthd answered HTTP " + std::to_string(http_status));
}

std::string urlEncode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Result<std::unique_ptr<ApiClient>> ApiClient::create(const std::string& url, std::string token) {
  std::string rest = url;
  if (rest.rfind("http://", 0) == 0) {
    rest = rest.substr(7);
  } else if (rest.rfind("https://", 0) == 0) {
    return invalidArgument("https URLs are not supported yet; use http:// (berthd serves plain HTTP)");
  } else {
    return invalidArgument("the server URL must start with http://, not '" + url + "'");
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) return invalidArgument("the server URL must not have a path: '" + url + "'");
  size_t colon = rest.rfind(':');
  std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
  std::string port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  if (host.empty() || port.empty()) return invalidArgument("the server URL '" + url + "' has no host or port");
  std::string clean = "http://" + rest;
  return std::unique_ptr<ApiClient>(new BeastClient(clean, host, port, std::move(token)));
}

}  // namespace berth::client
