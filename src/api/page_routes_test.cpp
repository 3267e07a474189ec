// The explorer page's routes through the Router: the files built from web/ are served with
// their types and validators, and nothing else is.
#include "api/page_routes.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "api/page_assets.hpp"

namespace peerchain::api {
namespace {

std::optional<Response> get(const Router& router, std::string target) {
    Request r;
    r.method = Method::kGet;
    r.target = std::move(target);
    r.remote_address = "203.0.113.9";  // the page is open to anyone who can reach the port
    auto answer = std::make_shared<std::optional<Response>>();
    router.handle(std::move(r), Responder([answer](Response res) { *answer = std::move(res); }));
    return *answer;
}

std::string header(const Response& r, std::string_view name) {
    for (const auto& h : r.headers) {
        if (h.name == name) return h.value;
    }
    return {};
}

Router page_router() {
    Router router;
    add_page_routes(router);
    return router;
}

TEST(PageRoutes, EveryFileOfTheWebFolderIsBuiltIn) {
    for (const char* name : {"index.html", "app.js", "style.css"}) {
        bool found = false;
        for (const auto& asset : page_assets()) found = found || asset.name == name;
        EXPECT_TRUE(found) << name;
    }
}

TEST(PageRoutes, RootAnswersIndexHtml) {
    const Router router = page_router();
    auto res = get(router, "/");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200u);
    EXPECT_EQ(res->content_type, "text/html; charset=utf-8");
    EXPECT_NE(res->text.find("<!doctype html>"), std::string::npos);
    EXPECT_NE(res->text.find("/static/app.js"), std::string::npos);
    EXPECT_EQ(header(*res, "Cache-Control"), "no-cache");
    EXPECT_EQ(header(*res, "X-Content-Type-Options"), "nosniff");
    EXPECT_NE(header(*res, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
}

TEST(PageRoutes, StaticFilesHaveTheirTypesAndAStrongEtagOfTheirBytes) {
    const Router router = page_router();
    auto js = get(router, "/static/app.js");
    auto css = get(router, "/static/style.css");
    ASSERT_TRUE(js && css);
    EXPECT_EQ(js->status, 200u);
    EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
    const std::string etag = header(*js, "ETag");
    EXPECT_EQ(etag.size(), 18u);
    EXPECT_EQ(etag.front(), '"');
    EXPECT_NE(etag, header(*css, "ETag"));
    EXPECT_EQ(etag, header(*get(router, "/static/app.js"), "ETag"));
}

TEST(PageRoutes, UnknownFilesAndPathTricksAreNotFound) {
    const Router router = page_router();
    for (const char* target :
         {"/static/nope.js", "/static/index.html", "/static/..%2Fapp.js", "/static/%2e%2e",
          "/static/app.js%00", "/static/APP.JS", "/static/app.js/x", "/static/"}) {
        auto res = get(router, target);
        ASSERT_TRUE(res) << target;
        // 404, or 400 for a path the router cannot decode: never a file.
        EXPECT_TRUE(res->status == 404u || res->status == 400u) << target << " " << res->status;
        EXPECT_TRUE(res->content_type.empty()) << target;
    }
}

TEST(PageRoutes, ContentTypeByExtension) {
    EXPECT_EQ(page_content_type("a.html"), "text/html; charset=utf-8");
    EXPECT_EQ(page_content_type("a.svg"), "image/svg+xml");
    EXPECT_EQ(page_content_type(".js"), "application/octet-stream");
    EXPECT_EQ(page_content_type("js"), "application/octet-stream");
}

}  // namespace
}  // namespace peerchain::api
