#include "core/address.hpp"

#include <algorithm>

#include "crypto/bech32.hpp"
#include "crypto/schnorr.hpp"

namespace peerchain::core {

namespace {

// 256 bits in 5-bit groups, the last one holding 1 bit and 4 bits of padding.
constexpr std::size_t kKeyGroups = 52;

util::Unexpected fail(std::string message) {
    return util::Unexpected(util::Errc::kDecode, "address: " + std::move(message));
}

}  // namespace

std::string encode_address(const XOnlyKey& key, const Params& params) {
    return crypto::bech32_encode(crypto::Bech32Encoding::kBech32m, params.address_hrp,
                                 crypto::bytes_to_groups(key));
}

util::Result<XOnlyKey> decode_address(std::string_view address, const Params& params) {
    auto decoded = crypto::bech32_decode(address, crypto::Bech32Encoding::kBech32m);
    if (!decoded) return fail(decoded.error().message);
    if (decoded->hrp != params.address_hrp) {
        for (Network other : {Network::kDev, Network::kRegtest}) {
            const Params& p = core::params(other);
            if (decoded->hrp == p.address_hrp) {
                return fail("prefix '" + decoded->hrp + "' is for the " + p.name +
                            " network, this node is on " + params.name);
            }
        }
        return fail("unknown prefix '" + decoded->hrp + "', expected '" + params.address_hrp + "'");
    }
    if (decoded->data.size() != kKeyGroups) {
        return fail("holds " + std::to_string(decoded->data.size()) + " groups, expected " +
                    std::to_string(kKeyGroups));
    }
    auto bytes = crypto::groups_to_bytes(decoded->data);
    if (!bytes) return fail(bytes.error().message);
    NODE_ASSERT(bytes->size() == 32);
    XOnlyKey key;
    std::copy(bytes->begin(), bytes->end(), key.begin());
    if (!crypto::is_valid_xonly_key(key)) return fail("key is not a point on the curve");
    return key;
}

}  // namespace peerchain::core
