#include "api/request.hpp"

#include <boost/json/parse.hpp>
#include <string>
#include <utility>

namespace peerchain::api {

namespace {

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string_view method_name(Method method) noexcept {
    switch (method) {
        case Method::kGet:
            return "GET";
        case Method::kHead:
            return "HEAD";
        case Method::kPost:
            return "POST";
        case Method::kPut:
            return "PUT";
        case Method::kDelete:
            return "DELETE";
        case Method::kPatch:
            return "PATCH";
        case Method::kOptions:
            return "OPTIONS";
    }
    return "UNKNOWN";
}

std::optional<Method> parse_method(std::string_view name) noexcept {
    for (Method m : {Method::kGet, Method::kHead, Method::kPost, Method::kPut, Method::kDelete,
                     Method::kPatch, Method::kOptions}) {
        if (method_name(m) == name) return m;
    }
    return std::nullopt;
}

util::Result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else if (c != '%') {
            out.push_back(c);
        } else {
            if (i + 2 >= text.size()) {
                return util::Unexpected(util::Errc::kDecode, "truncated percent escape");
            }
            const int hi = hex_digit(text[i + 1]);
            const int lo = hex_digit(text[i + 2]);
            if (hi < 0 || lo < 0) {
                return util::Unexpected(util::Errc::kDecode, "bad percent escape");
            }
            const char decoded = static_cast<char>((hi << 4) | lo);
            if (decoded == '\0') {
                return util::Unexpected(util::Errc::kDecode, "escaped NUL byte");
            }
            out.push_back(decoded);
            i += 2;
        }
    }
    return out;
}

util::Result<Params> parse_query(std::string_view query) {
    Params params;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view piece = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (piece.empty()) continue;
        if (params.size() == kMaxQueryParams) {
            return util::Unexpected(
                util::Errc::kDecode,
                "more than " + std::to_string(kMaxQueryParams) + " query parameters");
        }
        const std::size_t eq = piece.find('=');
        const std::string_view raw_key = piece.substr(0, eq);
        const std::string_view raw_value =
            eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
        // An escape shrinks three bytes to one, so raw sizes bound the work before decoding.
        if (raw_key.size() > 3 * kMaxQueryKeySize || raw_value.size() > 3 * kMaxQueryValueSize) {
            return util::Unexpected(util::Errc::kDecode, "query parameter too long");
        }
        auto key = percent_decode(raw_key, true);
        if (!key) return util::Unexpected(std::move(key).error());
        auto value = percent_decode(raw_value, true);
        if (!value) return util::Unexpected(std::move(value).error());
        if (key->empty()) return util::Unexpected(util::Errc::kDecode, "empty query key");
        if (key->size() > kMaxQueryKeySize || value->size() > kMaxQueryValueSize) {
            return util::Unexpected(util::Errc::kDecode, "query parameter too long");
        }
        if (params.contains(*key)) {
            return util::Unexpected(util::Errc::kDecode, "repeated query parameter " + *key);
        }
        params.emplace(std::move(*key), std::move(*value));
    }
    return params;
}

std::string_view Request::param(std::string_view name) const {
    const auto it = path_params.find(name);
    return it == path_params.end() ? std::string_view{} : std::string_view(it->second);
}

std::optional<std::string_view> Request::query_param(std::string_view name) const {
    const auto it = query.find(name);
    if (it == query.end()) return std::nullopt;
    return std::string_view(it->second);
}

util::Result<boost::json::value> Request::json_body() const {
    if (body.empty()) {
        return util::Unexpected(util::Errc::kDecode,
                                "the request body is empty; expected a "
                                "JSON object");
    }
    boost::json::error_code ec;
    // Default options: strict JSON, nesting bounded at 32 levels, no trailing bytes.
    boost::json::value value = boost::json::parse(body, ec);
    if (ec) {
        return util::Unexpected(util::Errc::kDecode,
                                "the request body is not valid JSON: " + ec.message());
    }
    if (!value.is_object()) {
        return util::Unexpected(util::Errc::kDecode, "the request body must be a JSON object");
    }
    return value;
}

}  // namespace peerchain::api
