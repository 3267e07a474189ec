// Small text helpers shared by the parsers of outside input.
#pragma once

#include <string_view>

namespace peerchain::util {

// ASCII lower case; other bytes unchanged.
constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

// Equal ignoring ASCII case (URL schemes, HTTP auth schemes, host names).
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

}  // namespace peerchain::util
