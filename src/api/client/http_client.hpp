// HttpClient: one synchronous HTTP/1.1 request to a node's JSON API, for the command-line
// tools (`peerchain wallet ...`) that talk to a running node as bitcoin-cli does.
//
// Each request opens its own connection (Connection: close), so nothing is shared between
// calls. The whole exchange (connect, send, receive) must finish within the timeout, and
// the answer may be at most answer_limit bytes of body: a wrong port or a misbehaving
// server gives an error, never a hang or unbounded memory.
//
// Beast and Asio stay inside http_client.cpp.
//
// Thread-safety: an HttpClient is immutable after construction; request() may be called
// from several threads at once (each call has its own io_context and socket).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace peerchain::api::client {

struct HttpClientOptions {
    std::string host = "127.0.0.1";  // an IPv4 or IPv6 literal
    std::uint16_t port = 3001;
    std::chrono::milliseconds timeout{30'000};  // for the whole exchange
    std::size_t answer_limit = 8u << 20;        // body bytes
    std::size_t header_limit = 16u << 10;       // status line and header fields
};

struct HttpRequest {
    std::string method = "GET";  // an upper-case HTTP method
    std::string target = "/";    // absolute path and optional "?query"
    std::string body;            // sent with Content-Type: application/json when not empty
    // Sent as "Authorization: Bearer <token>" when not empty.
    std::string bearer_token;
    std::vector<std::pair<std::string, std::string>> headers;  // any others
};

struct HttpResponse {
    unsigned status = 0;
    std::string content_type;
    std::string body;

    bool ok() const noexcept { return status >= 200 && status < 300; }
};

class HttpClient {
  public:
    explicit HttpClient(HttpClientOptions options);

    const HttpClientOptions& options() const noexcept { return options_; }

    // Sends `request` and reads the whole answer, whatever its status. Fails with
    // kInvalidArgument for a request that cannot be sent (unknown method, a target or
    // header with control characters, a host that is not an IP literal); kUnavailable when
    // nothing accepts connections on the port or the exchange does not finish within the
    // timeout; kDecode when the answer is not HTTP or is over a limit; kIo for other
    // socket failures (the connection closed before an answer).
    util::Result<HttpResponse> request(const HttpRequest& request) const;

    // Sends `request` and follows a streamed answer (server-sent events): connecting,
    // sending and the headers must come within the timeout; then, for a 2xx answer, each
    // piece of the body is passed to `on_body` as it arrives, until the server ends the
    // body (ok), `on_body` returns false (ok), or nothing arrives for `idle_timeout`
    // (kUnavailable). The answer has the status and content type, and, when not 2xx, the
    // body (at most answer_limit bytes; on_body is not called). Other errors as request().
    util::Result<HttpResponse> stream(const HttpRequest& request,
                                      const std::function<bool(std::string_view)>& on_body,
                                      std::chrono::milliseconds idle_timeout) const;

    // "host:port" ("[::1]:3001" for IPv6), for messages.
    std::string authority() const;

  private:
    HttpClientOptions options_;
};

// The API's error body, {"error": {"code": "...", "message": "..."}} (api/errors.hpp).
struct ApiError {
    std::string code;
    std::string message;
};

// The error in `body`, or nullopt when it does not have that shape.
std::optional<ApiError> parse_api_error(std::string_view body);

}  // namespace peerchain::api::client
