#include "api/request.hpp"

#include <gtest/gtest.h>

#include <string>

namespace peerchain::api {
namespace {

TEST(PercentDecode, DecodesEscapesAndPlus) {
    EXPECT_EQ(*percent_decode("a%20b%2Fc", false), "a b/c");
    EXPECT_EQ(*percent_decode("a+b", true), "a b");
    EXPECT_EQ(*percent_decode("a+b", false), "a+b");
    EXPECT_EQ(*percent_decode("%e2%82%AC", false), "\xe2\x82\xac");
    EXPECT_FALSE(percent_decode("%", false));
    EXPECT_FALSE(percent_decode("%2", false));
    EXPECT_FALSE(percent_decode("%zz", false));
    EXPECT_FALSE(percent_decode("%00", false));
}

TEST(Query, ParsesAndDecodes) {
    auto q = parse_query("a=1&b=hello%20world&c=x+y&flag&&d=");
    ASSERT_TRUE(q) << q.error().message;
    EXPECT_EQ(q->size(), 5u);
    EXPECT_EQ(q->at("a"), "1");
    EXPECT_EQ(q->at("b"), "hello world");
    EXPECT_EQ(q->at("c"), "x y");
    EXPECT_EQ(q->at("flag"), "");
    EXPECT_EQ(q->at("d"), "");
    EXPECT_TRUE(parse_query("")->empty());
    EXPECT_EQ(parse_query("k%3Dv=%26")->at("k=v"), "&");
}

TEST(Query, IsBounded) {
    std::string many;
    for (std::size_t i = 0; i < kMaxQueryParams; ++i) many += "k" + std::to_string(i) + "=v&";
    EXPECT_TRUE(parse_query(many));
    EXPECT_FALSE(parse_query(many + "one=more"));
    EXPECT_TRUE(parse_query(std::string(kMaxQueryKeySize, 'k') + "=v"));
    EXPECT_FALSE(parse_query(std::string(kMaxQueryKeySize + 1, 'k') + "=v"));
    EXPECT_TRUE(parse_query("k=" + std::string(kMaxQueryValueSize, 'v')));
    EXPECT_FALSE(parse_query("k=" + std::string(kMaxQueryValueSize + 1, 'v')));
    EXPECT_FALSE(parse_query("k=" + std::string(10 * kMaxQueryValueSize, 'v')));
}

TEST(Query, RejectsBadInput) {
    EXPECT_FALSE(parse_query("a=%zz"));
    EXPECT_FALSE(parse_query("%41=1&A=2"));  // the same key twice, once escaped
    EXPECT_FALSE(parse_query("=value"));
    EXPECT_EQ(parse_query("a=%4").error().code, util::Errc::kDecode);
}

TEST(Method, RoundTripsNames) {
    for (Method m : {Method::kGet, Method::kHead, Method::kPost, Method::kPut, Method::kDelete,
                     Method::kPatch, Method::kOptions}) {
        EXPECT_EQ(parse_method(method_name(m)), m);
    }
    EXPECT_FALSE(parse_method("get"));
    EXPECT_FALSE(parse_method("BREW"));
}

TEST(Request, JsonBodyAcceptsOnlyObjects) {
    Request r;
    r.body = R"({"data": "hello", "n": 2})";
    auto ok = r.json_body();
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->at("data").as_string(), "hello");

    for (const char* bad : {"", "{", "[1,2]", "\"text\"", "42", "{\"a\":1} trailing", "{'a':1}"}) {
        r.body = bad;
        auto result = r.json_body();
        ASSERT_FALSE(result) << bad;
        EXPECT_EQ(result.error().code, util::Errc::kDecode);
    }
    r.body = std::string(100, '[') + std::string(100, ']');
    EXPECT_FALSE(r.json_body());  // nesting is bounded
}

TEST(Request, ParamAccessors) {
    Request r;
    r.path_params = {{"id", "abc"}};
    r.query = {{"limit", "10"}};
    EXPECT_EQ(r.param("id"), "abc");
    EXPECT_EQ(r.param("nope"), "");
    EXPECT_EQ(r.query_param("limit"), "10");
    EXPECT_FALSE(r.query_param("offset"));
}

}  // namespace
}  // namespace peerchain::api
