// Coin: an unspent transaction output and where it came from (core/coin.hpp).
#pragma once

#include "core/coin.hpp"

namespace peerchain::chain {

using core::Coin;

}  // namespace peerchain::chain
