// Request: what a route handler is given. Built by the HTTP server from the bytes a client
// sent (or by a test, field by field); the router fills `path`, `path_params` and `query`.
//
// Every field comes from an untrusted client and is bounded by the server's limits; the
// helpers here bound what they decode as well.
//
// Thread-safety: a value type. A handler gets it by const reference, valid only during the
// handler call: an asynchronous handler copies what its later answer needs.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace peerchain::api {

enum class Method { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions };

// "GET", "HEAD", ...
std::string_view method_name(Method method) noexcept;
// The Method with that exact (upper-case) name, or nullopt.
std::optional<Method> parse_method(std::string_view name) noexcept;

// Decoded names to decoded values; lookups accept string_view.
using Params = std::map<std::string, std::string, std::less<>>;

inline constexpr std::size_t kMaxQueryParams = 32;
inline constexpr std::size_t kMaxQueryKeySize = 128;     // bytes, after decoding
inline constexpr std::size_t kMaxQueryValueSize = 2048;  // bytes, after decoding

// Decodes %XX escapes, and '+' as a space when `plus_is_space` (query strings, as HTML forms
// encode them: a literal '+' must be sent as %2B).
// Fails with kDecode on a truncated or non-hex escape and on an escaped NUL.
util::Result<std::string> percent_decode(std::string_view text, bool plus_is_space);

// Parses `a=1&b=x%20y` (without the leading '?'): empty pieces are skipped, a piece without
// '=' has an empty value. Fails with kDecode on a bad escape, more than kMaxQueryParams
// parameters, a key or value over its bound, an empty key or a repeated key.
util::Result<Params> parse_query(std::string_view query);

struct Request {
    Method method = Method::kGet;
    // The request target as received: an absolute path and an optional "?query".
    std::string target;
    // Filled by the router: the path part of `target`, still percent-encoded.
    std::string path;
    // Filled by the router: the {named} segments of the matched pattern, decoded.
    Params path_params;
    // Filled by the router: the query string, decoded (see parse_query).
    Params query;
    std::string body;

    // Header values, empty when absent.
    std::string authorization;
    std::string content_type;
    std::string host;
    std::string origin;
    // Last-Event-ID (GET /events resumes after it), at most 32 bytes kept; empty when absent.
    std::string last_event_id;

    // The client's IP address as text ("127.0.0.1", "::1") and port.
    std::string remote_address;
    std::uint16_t remote_port = 0;
    // True when the client connects from 127.0.0.0/8 or ::1 (also IPv4-mapped).
    bool remote_is_loopback = false;

    // The path parameter `name`, or an empty view when the route has none by that name.
    std::string_view param(std::string_view name) const;
    // The query parameter `name`, or nullopt when the client did not send it.
    std::optional<std::string_view> query_param(std::string_view name) const;

    // The body parsed as JSON. Fails with kDecode when the body is empty, is not JSON, or
    // is not a JSON object (every request body of this API is an object); pass the error
    // to bad_json() (errors.hpp) for the 400 answer. Parses on each call.
    util::Result<boost::json::value> json_body() const;
};

}  // namespace peerchain::api
