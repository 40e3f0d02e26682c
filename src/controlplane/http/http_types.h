#pragma once
// Transport-neutral request and response values: the API layer sees these, never Beast, so the
// heavy HTTP library is compiled in one file and handlers stay testable without sockets.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::controlplane {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded path without the query, e.g. "/v1/projects/demo"
  std::map<std::string, std::string> query;    // decoded query parameters; the last of a repeated key wins
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string remote_address;  // peer IP, for rate limits
  // True once the server is shutting down: long-polls return early. Always set by the server.
  std::function<bool()> server_stopping = [] { return false; };

  // The header's value, if present.
  std::optional<std::string> header(const std::string& lowercase_name) const;
};

// Lets a streaming response (SSE) write as events happen. write() returns false once the client
// has gone; stopping() turns true when the server shuts down. Both are called from the thread
// that serves the connection.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  virtual bool write(const std::string& chunk) = 0;
  virtual bool stopping() const = 0;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type = "application/json";
  // When set, the body is streamed (chunked) by calling this after the headers are sent.
  std::function<void(StreamWriter&)> stream;

  void setHeader(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

// Handles one parsed request; called concurrently from connection threads.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// {"error":{"code":...,"message":...}} with the given HTTP status.
HttpResponse jsonError(int status, std::string_view code, std::string_view message);

// Splits "a=1&b=x%20y" into decoded pairs. Malformed percent escapes are kept literally.
std::map<std::string, std::string> parseQuery(const std::string& query);
// Decodes %XX escapes (and '+' as space when `plus_is_space`).
std::string percentDecode(const std::string& s, bool plus_is_space);

}  // namespace berth::controlplane
