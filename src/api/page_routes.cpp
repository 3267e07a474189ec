#include "api/page_routes.hpp"

#include <array>
#include <cstdint>
#include <utility>

#include "api/errors.hpp"
#include "api/page_assets.hpp"

namespace peerchain::api {

namespace {

struct TypeByExtension {
    std::string_view extension;
    std::string_view content_type;
};

constexpr std::array<TypeByExtension, 7> kTypes{{
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
}};

// The page loads nothing from elsewhere and runs no inline script, so a payload that
// slipped past the page's escaping could still neither run nor phone home.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// FNV-1a over the bytes: the ETag changes whenever a file does (a new binary), which is
// all a cache validator needs; it is not a security check.
std::string etag_of(std::string_view bytes) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : bytes) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    for (int shift = 60; shift >= 0; shift -= 4) out += kHex[(h >> shift) & 0xf];
    out += '"';
    return out;
}

}  // namespace

std::string_view page_content_type(std::string_view name) noexcept {
    for (const auto& t : kTypes) {
        if (name.size() > t.extension.size() && name.ends_with(t.extension)) {
            return t.content_type;
        }
    }
    return "application/octet-stream";
}

std::optional<Response> page_file_response(std::string_view name) {
    for (const PageAsset& asset : page_assets()) {
        if (asset.name != name) continue;
        Response res =
            Response::ok_text(std::string(asset.bytes), std::string(page_content_type(asset.name)));
        // no-cache: the browser may keep a copy but asks again each time, so a new binary's
        // page is never mixed with an old cached script.
        res.headers.push_back({"Cache-Control", "no-cache"});
        res.headers.push_back({"ETag", etag_of(asset.bytes)});
        res.headers.push_back({"X-Content-Type-Options", "nosniff"});
        res.headers.push_back({"Content-Security-Policy", std::string(kContentSecurityPolicy)});
        res.headers.push_back({"Referrer-Policy", "no-referrer"});
        return res;
    }
    return std::nullopt;
}

void add_page_routes(Router& router) {
    router.add(Method::kGet, "/", Access::kOpen, sync_handler([](const Request&) -> Response {
                   if (auto res = page_file_response("index.html")) return std::move(*res);
                   return error_response(404, "not-found", "this node was built without its page");
               }));
    router.add(Method::kGet, "/static/{file}", Access::kOpen,
               sync_handler([](const Request& req) -> Response {
                   // index.html is the page itself, served at / only.
                   const std::string_view file = req.param("file");
                   if (file != "index.html") {
                       if (auto res = page_file_response(file)) return std::move(*res);
                   }
                   return error_response(404, "not-found", "no such file of the page");
               }));
}

}  // namespace peerchain::api
