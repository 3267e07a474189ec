// JSON views of core types, the only place the API decides how a block or transaction
// looks to a client. Names follow the seeds (`index`, `hash`, `previousHash`, `timestamp`,
// `data`) next to the header fields. Hashes are hex in display order; amounts are integers
// in base units; `data` is the payload as UTF-8 text (invalid sequences replaced by
// U+FFFD) and `dataHex` the exact bytes.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>

#include "core/block.hpp"
#include "core/params.hpp"

namespace peerchain::api {

struct BlockPlacement {
    std::uint32_t height = 0;
    std::int64_t confirmations = 0;  // 0: not in the active chain
};

boost::json::object transaction_json(const core::Transaction& tx);
boost::json::object block_json(const core::Block& block, const BlockPlacement& placement,
                               const core::Params& params);

// Payload bytes as JSON-safe UTF-8 text.
std::string payload_text(const util::Bytes& data);
// "1f00ffff"
std::string bits_hex(std::uint32_t bits);

}  // namespace peerchain::api
