// Coin: an unspent transaction output and where it came from. The chain keeps the set of
// them (chain/coins_cache.hpp); the spending rules (core/tx_verify.hpp) read them.
//
// Thread-safety: a plain value type.
#pragma once

#include <cstdint>

#include "core/transaction.hpp"

namespace peerchain::core {

struct Coin {
    TxOut out;
    std::uint32_t height = 0;  // of the block that created it
    bool coinbase = false;     // coinbase outputs mature after Params::coinbase_maturity

    friend bool operator==(const Coin&, const Coin&) = default;
};

}  // namespace peerchain::core
