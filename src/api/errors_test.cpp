#include "api/errors.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace peerchain::api {
namespace {

std::string code_of(const Response& r) {
    return std::string(r.body.at("error").at("code").as_string());
}

TEST(Errors, HaveTheOneErrorShape) {
    const Response r = error_response(404, "unknown-block", "no block with that hash");
    EXPECT_EQ(r.status, 404u);
    EXPECT_TRUE(is_error_body(r.body));
    EXPECT_EQ(r.body,
              boost::json::parse(
                  R"({"error":{"code":"unknown-block","message":"no block with that hash"}})"));
}

TEST(Errors, AcceptOnlyKebabTokens) {
    EXPECT_TRUE(is_error_code("bad-json"));
    EXPECT_TRUE(is_error_code("internal"));
    EXPECT_TRUE(is_error_code("bip34-height"));
    EXPECT_FALSE(is_error_code(""));
    EXPECT_FALSE(is_error_code("Bad"));
    EXPECT_FALSE(is_error_code("-bad"));
    EXPECT_FALSE(is_error_code("bad-"));
    EXPECT_FALSE(is_error_code("bad--json"));
    EXPECT_FALSE(is_error_code("bad_json"));
}

TEST(Errors, HelpersCarryStatusCodeAndHeaders) {
    EXPECT_EQ(code_of(bad_json(util::Error{util::Errc::kDecode, "x"})), "bad-json");
    const Response u = unauthorized("no");
    EXPECT_EQ(u.status, 401u);
    ASSERT_EQ(u.headers.size(), 1u);
    EXPECT_EQ(u.headers[0].name, "WWW-Authenticate");
    EXPECT_EQ(u.headers[0].value.rfind("Bearer", 0), 0u);
    const Response m = method_not_allowed("GET, HEAD, OPTIONS");
    EXPECT_EQ(m.status, 405u);
    EXPECT_EQ(m.headers[0].name, "Allow");
    EXPECT_EQ(body_too_large(10).status, 413u);
    EXPECT_EQ(code_of(body_too_large(10)), "body-too-large");
    EXPECT_EQ(headers_too_large(10).status, 431u);
    EXPECT_EQ(code_of(shutting_down()), "shutting-down");
    EXPECT_EQ(shutting_down().status, 503u);
}

TEST(Errors, MapUtilErrors) {
    EXPECT_EQ(error_response(util::Error{util::Errc::kDecode, "odd hex"}).status, 400u);
    EXPECT_EQ(error_response(util::Error{util::Errc::kNotFound, "gone"}).status, 404u);
    EXPECT_EQ(error_response(util::Error{util::Errc::kUnavailable, "busy"}).status, 503u);
    const Response io = error_response(util::Error{util::Errc::kIo, "/secret/path: EIO"});
    EXPECT_EQ(io.status, 500u);
    EXPECT_EQ(io.body.at("error").at("message").as_string().find("secret"), std::string::npos);
}

TEST(Errors, NormalizeEnforcesTheErrorBody) {
    Response bare{404, nullptr, {{"X-Extra", "1"}}, {}, {}, nullptr};
    const Response fixed = normalize_response(bare);
    EXPECT_EQ(fixed.status, 404u);
    EXPECT_EQ(code_of(fixed), "not-found");
    EXPECT_EQ(fixed.headers.size(), 1u);

    EXPECT_EQ(normalize_response(Response{999, nullptr, {}, {}, {}, nullptr}).status, 500u);
    EXPECT_EQ(normalize_response(Response{302, nullptr, {}, {}, {}, nullptr}).status, 500u);
    const Response ok = normalize_response(Response::ok({{"height", 3}}));
    EXPECT_EQ(ok.status, 200u);
    EXPECT_EQ(ok.body.at("height").as_int64(), 3);
}

}  // namespace
}  // namespace peerchain::api
