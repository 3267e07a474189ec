#include "api/parsed.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cstdint>

#include "api/errors.hpp"

namespace peerchain::api {

namespace json = boost::json;

Parsed<std::size_t> parse_limit(const Request& req, std::size_t fallback, std::size_t max) {
    auto text = req.query_param("limit");
    if (!text) return std::min(fallback, max);
    const bool digits = !text->empty() && std::all_of(text->begin(), text->end(),
                                                      [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) return bad_request("'limit' must be a whole number");
    std::uint64_t v = 0;
    const auto parsed = std::from_chars(text->data(), text->data() + text->size(), v);
    // A number too large for 64 bits asks for everything: the cap.
    if (parsed.ec == std::errc::result_out_of_range) return max;
    return static_cast<std::size_t>(std::min<std::uint64_t>(v, max));
}

std::optional<std::int64_t> json_integer(const json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) {
        const std::uint64_t u = v.get_uint64();
        if (u <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(u);
    }
    return std::nullopt;
}

std::string json_kind(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null:
            return "null";
        case json::kind::bool_:
            return "a boolean";
        case json::kind::int64:
            return "an integer";
        case json::kind::uint64:
            // Only integers above the int64 range are kept as uint64.
            return "an integer too large";
        case json::kind::double_:
            return "a number with a fraction or exponent";
        case json::kind::string:
            return "a string";
        case json::kind::array:
            return "an array";
        case json::kind::object:
            return "an object";
    }
    return "unknown";
}

std::optional<Response> unknown_field(const json::object& body,
                                      std::initializer_list<std::string_view> known) {
    for (const auto& field : body) {
        bool ok = false;
        for (std::string_view k : known) ok = ok || field.key() == k;
        if (!ok) {
            std::string name(field.key().substr(0, 64));
            return bad_request("unknown field '" + name + "'");
        }
    }
    return std::nullopt;
}

}  // namespace peerchain::api
