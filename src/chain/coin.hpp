// Coin: an unspent transaction output and where it came from.
#pragma once

#include <cstdint>

#include "core/transaction.hpp"

namespace peerchain::chain {

struct Coin {
    core::TxOut out;
    std::uint32_t height = 0;  // of the block that created it
    bool coinbase = false;     // coinbase outputs mature after Params::coinbase_maturity

    friend bool operator==(const Coin&, const Coin&) = default;
};

}  // namespace peerchain::chain
