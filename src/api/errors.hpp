// The one shape of every non-2xx answer of the HTTP API:
//
//   {"error": {"code": "<kebab-case token>", "message": "<human text>"}}
//
// with Content-Type application/json. The code is stable and meant for programs; the
// message is for people and may change. Routes may add their own codes (`unknown-block`);
// the framework's codes are listed in error_code below.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <string_view>

#include "api/response.hpp"
#include "util/result.hpp"

namespace peerchain::api {

namespace error_code {
inline constexpr std::string_view kBadRequest = "bad-request";                   // 400
inline constexpr std::string_view kBadJson = "bad-json";                         // 400
inline constexpr std::string_view kUnauthorized = "unauthorized";                // 401
inline constexpr std::string_view kNotFound = "not-found";                       // 404
inline constexpr std::string_view kMethodNotAllowed = "method-not-allowed";      // 405
inline constexpr std::string_view kBodyTooLarge = "body-too-large";              // 413
inline constexpr std::string_view kHeadersTooLarge = "headers-too-large";        // 431
inline constexpr std::string_view kInternal = "internal";                        // 500
inline constexpr std::string_view kNotImplemented = "not-implemented";           // 501
inline constexpr std::string_view kUnavailable = "unavailable";                  // 503
inline constexpr std::string_view kShuttingDown = "shutting-down";               // 503
inline constexpr std::string_view kTooManyConnections = "too-many-connections";  // 503
}  // namespace error_code

// True for a non-empty token of [a-z0-9] words joined by single '-'.
bool is_error_code(std::string_view code) noexcept;

// An error Response. Assumes `code` passes is_error_code (a literal in our code; checked by
// NODE_ASSERT) and 400 <= status <= 599.
Response error_response(unsigned status, std::string_view code, std::string_view message);

// Maps a util::Error: kInvalidArgument and kDecode give 400 bad-request, kNotFound 404
// not-found, kUnavailable 503 unavailable; kIo and kCorruption give 500 internal with a
// generic message (the detail goes to the log, not to the client).
Response error_response(const util::Error& error);

Response bad_request(std::string_view message);
// 400 bad-json with the error's message: what Request::json_body() failures become.
Response bad_json(const util::Error& error);
Response unauthorized(std::string_view message);  // adds WWW-Authenticate: Bearer
Response not_found(std::string_view message);
Response method_not_allowed(std::string_view allow);  // `allow`: the Allow header value
Response body_too_large(std::size_t limit);
Response headers_too_large(std::size_t limit);
Response internal_error(std::string_view message = "internal error");
Response not_implemented(std::string_view method);
Response shutting_down();
Response too_many_connections();

// True when `body` has the error shape above with a valid code and a string message.
bool is_error_body(const boost::json::value& body) noexcept;

// What the server sends for `response`: a status outside 200..599 becomes 500 internal, a
// non-2xx status without an error body gets the generic error body of that status (its
// headers are kept).
Response normalize_response(Response response);

}  // namespace peerchain::api
