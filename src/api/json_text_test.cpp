#include "api/json_text.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <limits>

namespace peerchain::api {
namespace {

namespace json = boost::json;

TEST(JsonText, DoublesReadAsDecimals) {
    EXPECT_EQ(json_number_text(1.0), "1.0");
    EXPECT_EQ(json_number_text(0.0), "0.0");
    EXPECT_EQ(json_number_text(-2.0), "-2.0");
    EXPECT_EQ(json_number_text(10252.52), "10252.52");
    EXPECT_EQ(json_number_text(0.1), "0.1");
    EXPECT_EQ(json_number_text(1e22), "1e+22");
    EXPECT_EQ(json_number_text(std::numeric_limits<double>::quiet_NaN()), "null");
    EXPECT_EQ(json_number_text(std::numeric_limits<double>::infinity()), "null");
}

TEST(JsonText, DocumentsKeepTheirShapeAndValues) {
    const json::value doc = {{"difficulty", 1.0},
                             {"height", 7},
                             {"name", "a \"quoted\"\n\x01 text"},
                             {"list", {1.5, 2, nullptr, true, json::object{}}},
                             {"empty", json::array{}}};
    const std::string text = to_json_text(doc);
    EXPECT_NE(text.find("\"difficulty\":1.0"), std::string::npos) << text;
    EXPECT_EQ(text.find("E0"), std::string::npos) << text;
    EXPECT_EQ(json::parse(text), doc);
}

TEST(JsonText, WithoutDoublesItIsBoostsText) {
    const json::value doc = {{"a", 1}, {"b", {"x", "y"}}, {"c", -5}};
    EXPECT_EQ(to_json_text(doc), json::serialize(doc));
}

TEST(JsonText, EveryDoubleRoundTrips) {
    for (double d : {3.141592653589793, 1e-300, 123456789.125, 5e-324, 1.7976931348623157e308}) {
        EXPECT_EQ(json::parse(to_json_text(json::value(d))).as_double(), d);
    }
}

}  // namespace
}  // namespace peerchain::api
