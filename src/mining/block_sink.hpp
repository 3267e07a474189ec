// BlockSink: where the miner hands the blocks it finds. The miner never touches chain
// state; node/ implements this interface by posting the block to the chain executor,
// calling Chainstate::process_block there, and then calling `done` with the verdict.
//
// Thread-safety: submit() is called from miner threads, with no miner lock held.
#pragma once

#include <functional>

#include "core/block.hpp"
#include "core/validation.hpp"

namespace peerchain::mining {

class BlockSink {
  public:
    virtual ~BlockSink() = default;

    // Hands over a block whose proof of work meets its bits. Must not block. `done` must be
    // called exactly once, from any thread and with no lock held that the miner could
    // wait for, after the chain state reflects the block: with process_block's result, or
    // with a kInternal result when the block could not be processed (shutting down). The
    // miner queries the chain's next block context from inside `done`.
    virtual void submit(core::BlockPtr block, std::function<void(core::ValidationResult)> done) = 0;
};

}  // namespace peerchain::mining
