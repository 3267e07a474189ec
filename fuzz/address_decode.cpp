// libFuzzer target: core::decode_address on arbitrary text, for each network. An address
// that decodes must hold a key on the curve and encode back to the input in lower case;
// no text is an address on both networks, since their prefixes differ.
// Seeds: fuzz/corpus/address_decode/.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/address.hpp"
#include "core/params.hpp"
#include "crypto/schnorr.hpp"
#include "util/assert.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace peerchain;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    int networks = 0;
    for (const auto network : {core::Network::kDev, core::Network::kRegtest}) {
        const core::Params& params = core::params(network);
        const auto key = core::decode_address(text, params);
        if (!key) continue;
        ++networks;
        NODE_ASSERT(crypto::is_valid_xonly_key(*key));
        NODE_ASSERT(core::encode_address(*key, params) == lower);
    }
    NODE_ASSERT(networks <= 1);
    return 0;
}
