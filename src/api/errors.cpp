#include "api/errors.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/object.hpp>
#include <string>
#include <utility>

#include "util/assert.hpp"

namespace peerchain::api {

namespace {

std::string_view default_code(unsigned status) noexcept {
    switch (status) {
        case 401:
            return error_code::kUnauthorized;
        case 404:
            return error_code::kNotFound;
        case 405:
            return error_code::kMethodNotAllowed;
        case 413:
            return error_code::kBodyTooLarge;
        case 431:
            return error_code::kHeadersTooLarge;
        case 501:
            return error_code::kNotImplemented;
        case 503:
            return error_code::kUnavailable;
        default:
            return status >= 500 ? error_code::kInternal : error_code::kBadRequest;
    }
}

}  // namespace

bool is_error_code(std::string_view code) noexcept {
    if (code.empty() || code.front() == '-' || code.back() == '-') return false;
    char prev = '\0';
    for (char c : code) {
        const bool word = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!word && (c != '-' || prev == '-')) return false;
        prev = c;
    }
    return true;
}

Response error_response(unsigned status, std::string_view code, std::string_view message) {
    NODE_ASSERT(status >= 400 && status <= 599);
    NODE_ASSERT(is_error_code(code));
    boost::json::object detail;
    detail["code"] = code;
    detail["message"] = message;
    boost::json::object body;
    body["error"] = std::move(detail);
    return Response{status, std::move(body), {}, {}, {}, nullptr};
}

Response error_response(const util::Error& error) {
    switch (error.code) {
        case util::Errc::kInvalidArgument:
        case util::Errc::kDecode:
            return bad_request(error.message);
        case util::Errc::kNotFound:
            return not_found(error.message);
        case util::Errc::kUnavailable:
            return error_response(503, error_code::kUnavailable, error.message);
        case util::Errc::kIo:
        case util::Errc::kCorruption:
            break;
    }
    spdlog::error("api: request failed: {}", error.to_string());
    return internal_error();
}

Response bad_request(std::string_view message) {
    return error_response(400, error_code::kBadRequest, message);
}

Response bad_json(const util::Error& error) {
    return error_response(400, error_code::kBadJson, error.message);
}

Response unauthorized(std::string_view message) {
    Response r = error_response(401, error_code::kUnauthorized, message);
    r.headers.push_back({"WWW-Authenticate", "Bearer realm=\"peerchain\""});
    return r;
}

Response not_found(std::string_view message) {
    return error_response(404, error_code::kNotFound, message);
}

Response method_not_allowed(std::string_view allow) {
    Response r = error_response(405, error_code::kMethodNotAllowed,
                                "this path answers only to " + std::string(allow));
    r.headers.push_back({"Allow", std::string(allow)});
    return r;
}

Response body_too_large(std::size_t limit) {
    return error_response(413, error_code::kBodyTooLarge,
                          "the request body exceeds " + std::to_string(limit) + " bytes");
}

Response headers_too_large(std::size_t limit) {
    return error_response(431, error_code::kHeadersTooLarge,
                          "the request headers exceed " + std::to_string(limit) + " bytes");
}

Response internal_error(std::string_view message) {
    return error_response(500, error_code::kInternal, message);
}

Response not_implemented(std::string_view method) {
    return error_response(501, error_code::kNotImplemented,
                          "the method " + std::string(method) + " is not supported");
}

Response shutting_down() {
    return error_response(503, error_code::kShuttingDown, "the node is shutting down");
}

Response too_many_connections() {
    return error_response(503, error_code::kTooManyConnections,
                          "too many open connections; try again later");
}

bool is_error_body(const boost::json::value& body) noexcept {
    const auto* top = body.if_object();
    if (top == nullptr) return false;
    const auto* it = top->if_contains("error");
    if (it == nullptr) return false;
    const auto* detail = it->if_object();
    if (detail == nullptr) return false;
    const auto* code = detail->if_contains("code");
    const auto* message = detail->if_contains("message");
    return code != nullptr && message != nullptr && code->is_string() && message->is_string() &&
           is_error_code(std::string_view(code->get_string()));
}

Response normalize_response(Response response) {
    if (response.status < 200 || response.status > 599) {
        spdlog::error("api: a handler answered with status {}", response.status);
        return internal_error();
    }
    if (response.status >= 300 && !is_error_body(response.body)) {
        // 3xx has no place in this API; it gets the generic 4xx/5xx treatment below.
        const unsigned status = response.status < 400 ? 500 : response.status;
        auto headers = std::move(response.headers);
        response = error_response(status, default_code(status),
                                  "request failed with status " + std::to_string(status));
        response.headers = std::move(headers);
    }
    return response;
}

}  // namespace peerchain::api
