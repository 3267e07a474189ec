// ChainObserver: how the chain tells the modules above it what happened, without knowing
// them. node/ implements it and fans the events out (peer announcements, mempool, miner,
// API event stream, logs).
//
// It also carries the one event of the memory pool that readers must see in order with
// the chain's (as Bitcoin Core's validationinterface has TransactionAddedToMempool): the
// pool, a module above the chain, calls on_transaction_added on the observer it is given
// (the node's event bus), so that a transaction's `tx` event always comes before the
// `tx-confirmed` of the block that mines it. Every method has a no-op default: an observer
// overrides what it needs.
//
// Thread-safety: called on the chain executor, after the chain state is updated and with no
// chain lock held, so an observer may call back into Chainstate. Observers must not block.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "chain/block_index.hpp"
#include "core/amount.hpp"
#include "core/block.hpp"
#include "core/transaction.hpp"
#include "core/validation.hpp"

namespace peerchain::chain {

class ChainObserver {
  public:
    virtual ~ChainObserver() = default;

    // A block joined the active chain (in order, also during a reorg).
    virtual void on_block_connected(const core::BlockPtr& /*block*/, const BlockIndex* /*index*/) {}
    // The block about to be reported connected took `took` to check and connect (loading
    // it, the contextual rules, coins, scripts and signatures, undo data; not the flush of
    // the coins cache). Called just before on_block_connected, for metrics.
    virtual void on_block_validated(const BlockIndex* /*index*/,
                                    std::chrono::nanoseconds /*took*/) {}
    // A block left the active chain during a reorg (tip first).
    virtual void on_block_disconnected(const core::BlockPtr& /*block*/,
                                       const BlockIndex* /*index*/) {}
    // The active tip moved. `fork` is the last block the old and new chains share; it is
    // old_tip itself when the chain simply grew. Called once per activation, after the
    // connect/disconnect events; a long activation (a deep reorg, a catch-up of many stored
    // blocks) delivers its events in batches of at most 32 blocks, each ending with this
    // call. Not called when the tip ends where it was (a branch that failed half way).
    virtual void on_tip_changed(const BlockIndex* /*new_tip*/, const BlockIndex* /*old_tip*/,
                                const BlockIndex* /*fork*/) {}
    // A block or header was refused. `hash` may be of a block not in the index.
    virtual void on_block_rejected(const core::Uint256& /*hash*/,
                                   const core::ValidationResult& /*why*/) {}
    // A transaction entered the memory pool (from a peer, the API or the wallet), paying
    // `fee`. Not called for transactions a reorg gives back to the pool, nor for those
    // loaded at start.
    virtual void on_transaction_added(const std::shared_ptr<const core::Transaction>& /*tx*/,
                                      core::Amount /*fee*/) {}
};

}  // namespace peerchain::chain
