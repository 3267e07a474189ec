// PreparedMessage: a peer's message decoded, and a block message's block also put through
// core::check_block_alone (its proof of work, merkle root and transactions' own rules,
// with their hashes), none of which needs chain state. The transport's threads prepare
// each message before it queues for the chain executor, so that during a sync the
// decoding and hashing run beside the chain's work instead of inside it (issue 10), and
// the chain reuses the hashes instead of computing them again.
//
// Thread-safety: prepare_message is pure; a PreparedMessage is a value.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "core/check.hpp"
#include "core/params.hpp"
#include "net/wire/message.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace peerchain::net::peer_manager {

struct PreparedMessage {
    std::size_t size = 0;                                  // bytes on the wire
    util::Result<wire::Message> message{wire::Message{}};  // the error when it did not decode
    // For a block message, its block (moved out of `message`) and check_block's verdict.
    std::optional<core::CheckedBlock> block;
    // For a headers message, each header's hash, in order: the chain executor needs them
    // to check that the headers chain, to skip those it knows and to store the rest.
    std::vector<core::Uint256> header_hashes;

    // The memory it holds while it waits for the chain executor, at least its wire size:
    // what a peer's queue of unprocessed messages is bounded by.
    std::size_t memory() const noexcept;
};

PreparedMessage prepare_message(util::ByteSpan bytes, const wire::DecodeLimits& limits,
                                const core::Params& params);

}  // namespace peerchain::net::peer_manager
