// libFuzzer target: crypto::bech32_decode on arbitrary text, in both variants. Whatever
// decodes must encode back to the input in lower case (a valid string has one case and
// one encoding), and its 5-bit groups, when they convert to bytes, must convert back to
// the same groups. Seeds: fuzz/corpus/bech32_decode/.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/bech32.hpp"
#include "util/assert.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace peerchain;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    int decoded_as = 0;
    for (const auto encoding :
         {crypto::Bech32Encoding::kBech32, crypto::Bech32Encoding::kBech32m}) {
        const auto decoded = crypto::bech32_decode(text, encoding);
        if (!decoded) continue;
        ++decoded_as;
        NODE_ASSERT(crypto::bech32_encode(encoding, decoded->hrp, decoded->data) == lower);
        const auto bytes = crypto::groups_to_bytes(decoded->data);
        if (bytes) NODE_ASSERT(crypto::bytes_to_groups(*bytes) == decoded->data);
    }
    // The two checksum constants differ, so no string carries both checksums.
    NODE_ASSERT(decoded_as <= 1);
    return 0;
}
