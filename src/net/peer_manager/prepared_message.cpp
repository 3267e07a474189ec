#include "net/peer_manager/prepared_message.hpp"

#include <memory>
#include <utility>
#include <variant>

namespace peerchain::net::peer_manager {

std::size_t PreparedMessage::memory() const noexcept {
    std::size_t bytes = sizeof(PreparedMessage) + size;
    if (block && block->block) {
        // A decoded transaction holds more than its serialization: the vectors, and the
        // allocator's bookkeeping for each.
        constexpr std::size_t kPerAllocation = 16;
        bytes += sizeof(core::Block) + block->txids.capacity() * sizeof(core::Uint256);
        for (const auto& tx : block->block->txs) {
            bytes += sizeof(core::Transaction) + 2 * kPerAllocation +
                     tx.inputs.capacity() * sizeof(core::TxIn) +
                     tx.outputs.capacity() * sizeof(core::TxOut);
        }
    }
    return bytes + header_hashes.capacity() * sizeof(core::Uint256);
}

PreparedMessage prepare_message(util::ByteSpan bytes, const wire::DecodeLimits& limits,
                                const core::Params& params) {
    PreparedMessage out;
    out.size = bytes.size();
    out.message = wire::decode_message(bytes, limits);
    if (out.message) {
        if (auto* m = std::get_if<wire::BlockMessage>(&*out.message)) {
            out.block = core::check_block_alone(
                std::make_shared<const core::Block>(std::move(m->block)), params);
        } else if (auto* h = std::get_if<wire::HeadersMessage>(&*out.message)) {
            out.header_hashes.reserve(h->headers.size());
            for (const auto& header : h->headers) out.header_hashes.push_back(header.hash());
        }
    }
    return out;
}

}  // namespace peerchain::net::peer_manager
