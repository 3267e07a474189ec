#include "api/json_text.hpp"

#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>

namespace peerchain::api {

namespace json = boost::json;

namespace {

bool has_double(const json::value& v) {
    switch (v.kind()) {
        case json::kind::double_:
            return true;
        case json::kind::array:
            for (const auto& e : v.get_array()) {
                if (has_double(e)) return true;
            }
            return false;
        case json::kind::object:
            for (const auto& e : v.get_object()) {
                if (has_double(e.value())) return true;
            }
            return false;
        default:
            return false;
    }
}

void write(const json::value& v, std::string& out) {
    switch (v.kind()) {
        case json::kind::double_:
            out += json_number_text(v.get_double());
            return;
        case json::kind::array: {
            out += '[';
            bool first = true;
            for (const auto& e : v.get_array()) {
                if (!first) out += ',';
                first = false;
                write(e, out);
            }
            out += ']';
            return;
        }
        case json::kind::object: {
            out += '{';
            bool first = true;
            for (const auto& e : v.get_object()) {
                if (!first) out += ',';
                first = false;
                out += json::serialize(json::string_view(e.key()));
                out += ':';
                write(e.value(), out);
            }
            out += '}';
            return;
        }
        default:
            // Strings, integers, booleans and null: boost's text is already the usual one.
            out += json::serialize(v);
            return;
    }
}

}  // namespace

std::string json_number_text(double value) {
    if (!std::isfinite(value)) return "null";
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
    if (ec != std::errc()) return "null";
    std::string text(buf, end);
    if (text.find_first_of(".e") == std::string::npos) text += ".0";
    return text;
}

std::string to_json_text(const json::value& value) {
    // Most answers hold no double: boost's own serializer writes those at full speed.
    if (!has_double(value)) return json::serialize(value);
    std::string out;
    write(value, out);
    return out;
}

}  // namespace peerchain::api
