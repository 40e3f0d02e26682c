#pragma once
// The CLI's (and a remote berth-agent's) only way to Berth: the REST API over HTTP/1.1. API errors
// ({"error":{"code","message"}}) become Status values carrying the server's message.

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace berth::client {

struct ApiResponse {
  int status = 0;
  nlohmann::json body;  // null for 204
};

// One server-sent event; `event` is empty when the server named none.
struct SseEvent {
  std::string id, event, data;
};

struct StreamRequest {
  std::string method = "GET";  // or "POST", with `body`
  std::string path;
  std::optional<nlohmann::json> body;
  std::string last_event_id;  // resume point, sent as Last-Event-ID
};

class ApiClient {
 public:
  // `url` is "http://HOST:PORT" (a trailing slash is fine).
  static Result<std::unique_ptr<ApiClient>> create(const std::string& url, std::string token);
  virtual ~ApiClient() = default;

  virtual Result<ApiResponse> get(const std::string& path) = 0;
  virtual Result<ApiResponse> post(const std::string& path, const nlohmann::json& body) = 0;
  virtual Result<ApiResponse> patch(const std::string& path, const nlohmann::json& body) = 0;
  virtual Result<ApiResponse> del(const std::string& path) = 0;
  // Sends raw bytes (an upload) and expects a JSON answer.
  virtual Result<ApiResponse> postBytes(const std::string& path, const std::string& content_type,
                                        const std::string& body) = 0;
  // Fetches a raw body of at most max_bytes.
  virtual Result<std::string> download(const std::string& path, std::uint64_t max_bytes) = 0;
  // Sends `request` and reads the text/event-stream it answers, calling on_event per event until
  // it returns false, the server ends the stream, or the connection drops (an error). An error
  // status before the stream starts is the API's error.
  virtual Status stream(const StreamRequest& request, const std::function<bool(const SseEvent&)>& on_event) = 0;
  virtual const std::string& url() const = 0;
};

// Maps an API error body and HTTP status to a Status with the server's message.
Status apiError(int http_status, const nlohmann::json& body);

// Percent-encodes one query or path component.
std::string urlEncode(const std::string& s);

}  // namespace berth::client
