// The JSON text of an answer. boost::json::serialize writes a double such as 1.0 as
// "1E0" and 10252.5 as "1.02525E4": valid JSON, but not what people or the tutorials'
// clients expect to read. to_json_text writes the same document with every double in its
// shortest round-trip decimal form, always with a decimal point or an exponent so that a
// double stays a double ("1.0", "10252.5", "1e+22"); a NaN or an infinity, which JSON
// cannot carry, becomes null. Integers and strings are written as boost::json writes them.
//
// Thread-safety: a pure function.
#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace peerchain::api {

std::string to_json_text(const boost::json::value& value);

// One double as to_json_text writes it.
std::string json_number_text(double value);

}  // namespace peerchain::api
