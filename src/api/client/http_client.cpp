#include "api/client/http_client.hpp"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <limits>

namespace peerchain::api::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// Bytes a header name may hold (RFC 9110 tchar).
bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') ||
                        std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
        if (!ok) return false;
    }
    return true;
}

// Visible ASCII and spaces/tabs only: no CR, LF or NUL can reach the wire.
bool is_field_value(std::string_view s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
    }
    return true;
}

bool is_target(std::string_view s) {
    if (s.empty() || s.front() != '/') return false;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f) return false;
    }
    return true;
}

// A request checked and built: every field a caller gave is validated (no CR, LF or NUL
// can reach the wire), and the host must be an IP literal.
struct Prepared {
    asio::ip::address address;
    http::request<http::string_body> message;
};

util::Result<Prepared> prepare(const HttpRequest& req, const std::string& host,
                               const std::string& authority, const char* accept) {
    auto invalid = [](std::string message) {
        return util::Unexpected(util::Errc::kInvalidArgument, std::move(message));
    };
    const http::verb verb = http::string_to_verb(req.method);
    if (verb == http::verb::unknown) return invalid("unknown HTTP method '" + req.method + "'");
    if (!is_target(req.target)) return invalid("bad request target '" + req.target + "'");
    if (!is_field_value(req.bearer_token)) return invalid("bad token");
    for (const auto& [name, value] : req.headers) {
        if (!is_token(name) || !is_field_value(value)) return invalid("bad header '" + name + "'");
    }
    boost::system::error_code ec;
    Prepared out;
    out.address = asio::ip::make_address(host, ec);
    if (ec) return invalid("'" + host + "' is not an IP address");

    http::request<http::string_body>& message = out.message;
    message = http::request<http::string_body>{verb, req.target, 11};
    message.set(http::field::host, authority);
    message.set(http::field::user_agent, "peerchain-cli");
    message.set(http::field::accept, accept);
    message.set(http::field::connection, "close");
    if (!req.bearer_token.empty()) {
        message.set(http::field::authorization, "Bearer " + req.bearer_token);
    }
    for (const auto& [name, value] : req.headers) message.set(name, value);
    if (!req.body.empty()) {
        if (message[http::field::content_type].empty()) {
            message.set(http::field::content_type, "application/json");
        }
        message.body() = req.body;
    }
    message.prepare_payload();
    return out;
}

}  // namespace

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {}

std::string HttpClient::authority() const {
    const bool v6 = options_.host.find(':') != std::string::npos;
    return (v6 ? "[" + options_.host + "]" : options_.host) + ":" + std::to_string(options_.port);
}

util::Result<HttpResponse> HttpClient::request(const HttpRequest& req) const {
    auto prepared = prepare(req, options_.host, authority(), "application/json");
    if (!prepared) return util::Unexpected(prepared.error());
    const asio::ip::address address = prepared->address;
    http::request<http::string_body>& message = prepared->message;

    asio::io_context io;
    beast::tcp_stream stream(io);
    beast::flat_buffer buffer(options_.header_limit + 64 * 1024);
    http::response_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options_.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(options_.answer_limit);

    // One deadline for the whole exchange; tcp_stream applies it to each operation in turn.
    const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
    enum class Stage { kConnect, kSend, kReceive, kDone };
    Stage stage = Stage::kConnect;
    boost::system::error_code failure;

    stream.expires_at(deadline);
    stream.async_connect(asio::ip::tcp::endpoint(address, options_.port), [&](beast::error_code e) {
        if (e) {
            failure = e;
            return;
        }
        stage = Stage::kSend;
        stream.expires_at(deadline);
        http::async_write(stream, message, [&](beast::error_code e2, std::size_t) {
            if (e2) {
                failure = e2;
                return;
            }
            stage = Stage::kReceive;
            stream.expires_at(deadline);
            http::async_read(stream, buffer, parser, [&](beast::error_code e3, std::size_t) {
                if (e3) {
                    failure = e3;
                    return;
                }
                stage = Stage::kDone;
            });
        });
    });
    io.run();
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);

    if (stage != Stage::kDone) {
        const std::string where = authority();
        if (failure == beast::error::timeout) {
            return util::Unexpected(util::Errc::kUnavailable,
                                    "no answer from " + where + " within " +
                                        std::to_string(options_.timeout.count()) + " ms");
        }
        if (stage == Stage::kConnect) {
            return util::Unexpected(util::Errc::kUnavailable,
                                    "cannot connect to " + where + ": " + failure.message());
        }
        if (failure == http::error::body_limit) {
            return util::Unexpected(util::Errc::kDecode,
                                    "the answer from " + where + " is larger than " +
                                        std::to_string(options_.answer_limit) + " bytes");
        }
        if (failure == http::error::header_limit) {
            return util::Unexpected(util::Errc::kDecode,
                                    "the answer from " + where + " has headers over " +
                                        std::to_string(options_.header_limit) + " bytes");
        }
        if (failure == http::error::end_of_stream || failure == http::error::partial_message ||
            failure == asio::error::eof || failure == asio::error::connection_reset) {
            return util::Unexpected(util::Errc::kIo,
                                    where + " closed the connection before it answered");
        }
        if (failure.category() == http::make_error_code(http::error::bad_version).category()) {
            return util::Unexpected(util::Errc::kDecode, "the answer from " + where +
                                                             " is not HTTP: " + failure.message());
        }
        return util::Unexpected(util::Errc::kIo,
                                (stage == Stage::kSend ? "sending to " : "reading from ") + where +
                                    ": " + failure.message());
    }

    auto answer = parser.release();
    HttpResponse response;
    response.status = answer.result_int();
    response.content_type = std::string(answer[http::field::content_type]);
    response.body = std::move(answer.body());
    return response;
}

util::Result<HttpResponse> HttpClient::stream(const HttpRequest& req,
                                              const std::function<bool(std::string_view)>& on_body,
                                              std::chrono::milliseconds idle_timeout) const {
    auto prepared = prepare(req, options_.host, authority(), "text/event-stream");
    if (!prepared) return util::Unexpected(prepared.error());
    const asio::ip::address address = prepared->address;
    http::request<http::string_body>& message = prepared->message;

    // One operation at a time, each run to completion with its own deadline.
    asio::io_context io;
    beast::tcp_stream stream(io);
    auto run = [&io](auto start) {
        beast::error_code result;
        start([&result](beast::error_code e, auto&&...) { result = e; });
        io.restart();
        io.run();
        return result;
    };
    const std::string where = authority();
    const auto deadline = std::chrono::steady_clock::now() + options_.timeout;

    stream.expires_at(deadline);
    beast::error_code failure = run([&](auto done) {
        stream.async_connect(asio::ip::tcp::endpoint(address, options_.port), done);
    });
    if (failure) {
        return util::Unexpected(util::Errc::kUnavailable,
                                "cannot connect to " + where + ": " + failure.message());
    }
    stream.expires_at(deadline);
    failure = run([&](auto done) { http::async_write(stream, message, done); });
    if (failure)
        return util::Unexpected(util::Errc::kIo, "sending to " + where + ": " + failure.message());

    beast::flat_buffer buffer(options_.header_limit + 64 * 1024);
    http::response_parser<http::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options_.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(boost::none);
    stream.expires_at(deadline);
    failure = run([&](auto done) { http::async_read_header(stream, buffer, parser, done); });
    if (failure == beast::error::timeout) {
        return util::Unexpected(util::Errc::kUnavailable,
                                "no answer from " + where + " within " +
                                    std::to_string(options_.timeout.count()) + " ms");
    }
    if (failure) {
        return util::Unexpected(util::Errc::kIo,
                                "reading from " + where + ": " + failure.message());
    }
    HttpResponse response;
    response.status = parser.get().result_int();
    response.content_type = std::string(parser.get()[http::field::content_type]);
    const bool deliver = response.ok();

    char piece[16 * 1024];
    while (!parser.is_done()) {
        parser.get().body().data = piece;
        parser.get().body().size = sizeof piece;
        stream.expires_after(idle_timeout);
        failure = run([&](auto done) { http::async_read_some(stream, buffer, parser, done); });
        if (failure == http::error::need_buffer) failure = {};
        const std::size_t got = sizeof piece - parser.get().body().size;
        if (got > 0) {
            if (deliver) {
                if (!on_body(std::string_view(piece, got))) break;
            } else if (response.body.size() + got <= options_.answer_limit) {
                response.body.append(piece, got);
            }
        }
        if (failure == beast::error::timeout) {
            return util::Unexpected(
                util::Errc::kUnavailable,
                "nothing from " + where + " for " + std::to_string(idle_timeout.count()) + " ms");
        }
        if (failure == http::error::end_of_stream || failure == http::error::partial_message ||
            failure == asio::error::eof || failure == asio::error::connection_reset) {
            break;
        }
        if (failure) {
            return util::Unexpected(util::Errc::kIo,
                                    "reading from " + where + ": " + failure.message());
        }
    }
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    return response;
}

std::optional<ApiError> parse_api_error(std::string_view body) {
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(body, ec);
    if (ec || !doc.is_object()) return std::nullopt;
    const auto* error = doc.as_object().if_contains("error");
    if (error == nullptr || !error->is_object()) return std::nullopt;
    const auto* code = error->as_object().if_contains("code");
    const auto* message = error->as_object().if_contains("message");
    if (code == nullptr || !code->is_string() || message == nullptr || !message->is_string()) {
        return std::nullopt;
    }
    return ApiError{std::string(code->as_string()), std::string(message->as_string())};
}

}  // namespace peerchain::api::client
