// What every route parser shares: Parsed<T> (a value, or the 4xx answer to send instead),
// ?limit=, and the checks of JSON body fields. The area parsers (tx_requests.hpp, the peer
// routes) build on these, so that a number, a limit or a stray field is judged the same
// way on every route.
//
// JSON numbers must be integers as written (no fraction, no exponent, no quotes); a body
// with a field the route does not know is refused, so a typo never passes as a default.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "api/request.hpp"
#include "api/response.hpp"

namespace peerchain::api {

// A parsed value, or the error answer.
template <typename T>
class Parsed {
  public:
    Parsed(T value) : value_(std::move(value)) {}         // NOLINT: implicit on purpose
    Parsed(Response error) : error_(std::move(error)) {}  // NOLINT: implicit on purpose
    explicit operator bool() const noexcept { return value_.has_value(); }
    T& operator*() { return *value_; }
    const T& operator*() const { return *value_; }
    T* operator->() { return &*value_; }
    Response& error() { return error_; }

  private:
    std::optional<T> value_;
    Response error_;
};

// ?limit=: `fallback` when absent, at most `max` (a larger number, however large, gives
// `max`); 400 bad-request unless a whole number.
Parsed<std::size_t> parse_limit(const Request& req, std::size_t fallback, std::size_t max);

// A JSON integer (as written: 5, not 5.0, 5e0 or "5") that fits in an int64, else nullopt.
std::optional<std::int64_t> json_integer(const boost::json::value& v);

// What `v` is, for messages: "a string", "a number with a fraction or exponent", ...
std::string json_kind(const boost::json::value& v);

// 400 bad-request naming the first field of `body` that is not in `known`; nullopt when
// every field is known.
std::optional<Response> unknown_field(const boost::json::object& body,
                                      std::initializer_list<std::string_view> known);

}  // namespace peerchain::api
