// Addresses: the text form of an output's recipient key that users copy between wallets.
// An address carries the network's prefix, so a key meant for one network is not paid on
// another by mistake, and a bech32m checksum (BIP350) that catches typing errors.
//
//   address = hrp "1" key-groups checksum        ; bech32m, all lower case (or all upper)
//   hrp     = Params::address_hrp                ; "pc" on dev, "pcrt" on regtest
//   key-groups = 52 charset                       ; the 32-byte x-only key, 8 -> 5 bits,
//                                                 ; most significant first, 4 zero bits
//                                                 ; of padding at the end
//   checksum = 6 charset                          ; bech32m over hrp and key-groups
//
// So an address is 61 characters on dev and 63 on regtest. There is no version group: a
// later kind of address will take a new hrp or a new length.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/params.hpp"
#include "core/transaction.hpp"
#include "util/result.hpp"

namespace peerchain::core {

// The address of `key` on the network of `params`, in lower case.
std::string encode_address(const XOnlyKey& key, const Params& params);

// The key in `address`. kDecode, with the reason, when the string is not bech32m (bad
// characters, mixed case, too long, a bech32 rather than bech32m checksum, a wrong
// checksum), when its hrp is not `params.address_hrp` (naming the network when the hrp is
// one of ours), when it does not hold exactly 52 groups with zero padding, or when the key
// is not the x coordinate of a curve point (no output to it could ever be spent).
util::Result<XOnlyKey> decode_address(std::string_view address, const Params& params);

}  // namespace peerchain::core
