// Miner: the multi-threaded nonce search, for the node's continuous mining (--mine) and for
// one-shot requests (POST /mineBlock {"data": ...}).
//
// Work: N worker threads hash the same template, each over its own slice of the 2^32
// nonces with its own crypto::HeaderScanner. A worker whose slice runs out bumps the
// coinbase extra nonce (a new merkle root) and starts its slice again; as the clock moves,
// it refreshes the header time. A coordinator thread builds the templates (BlockAssembler,
// on the context the chain gives) and samples the hash rate.
//
// What is mined: the oldest pending request, else the continuous spec, else nothing (the
// threads sleep). Requests are served one at a time in FIFO order and preempt continuous
// mining. A found block goes to the BlockSink; nothing else is mined until the chain's
// verdict comes back, so the next block builds on it. A request ends when its block was
// accepted and became the tip; if the tip moved first (a block from elsewhere), its
// template is rebuilt on the new tip with the same data, and if the chain refused its
// block, the request ends with the reason.
//
// Tip changes: on_tip_changed() bumps an atomic work generation that every worker checks
// between chunks of nonces sized to MinerOptions::chunk_time (2 ms of hashing), so
// stale work stops at once; the coordinator then builds a template on the new tip.
//
// Transactions: templates take theirs from MinerOptions::pool (BlockAssembler). The
// coordinator looks at the pool's generation as it samples the hash rate (every 250 ms)
// and builds a new template when the pool changed and the current one is at least
// MinerOptions::pool_refresh old: new transactions reach the work within about a second,
// without rebuilding for every one that arrives. The node must update the pool for a
// connected block before it calls on_tip_changed().
//
// Thread-safety: every public method may be called from any thread, except that stop() and
// the destructor must not be called from a request callback. The context source is called
// from the coordinator and from inside BlockSink's `done`. Request callbacks run without
// any miner lock held, on the thread that calls `done`, the one that calls stop() or the
// miner's own; they must not block. No exception leaves a miner thread: each is caught
// and logged.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "chain/chain_observer.hpp"
#include "chain/chainstate.hpp"
#include "core/block.hpp"
#include "core/params.hpp"
#include "core/validation.hpp"
#include "mempool/mempool.hpp"
#include "mining/block_assembler.hpp"
#include "mining/block_sink.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace peerchain::mining {

struct MinerOptions {
    unsigned threads = 0;  // worker threads; 0 = std::thread::hardware_concurrency()
    // Requests waiting or being mined; request() refuses more with kUnavailable.
    std::size_t max_requests = 64;
    // How long a worker hashes between two looks at the work generation and the clock:
    // it sizes its chunks of nonces to take about this long (2^16 nonces on one SHA-NI
    // core, 2^12 on the portable path), which bounds how late it drops stale work.
    std::chrono::microseconds chunk_time{2000};
    // Where templates take their transactions from; null: coinbase-only blocks. Must
    // outlive the miner.
    const mempool::Mempool* pool = nullptr;
    // How old a template must be before a change in the pool rebuilds it.
    std::chrono::milliseconds pool_refresh{1000};
};

struct MinerStats {
    std::uint64_t hashes = 0;           // nonces tried since the miner was made
    double hash_rate = 0;               // hashes per second over the last few seconds
    std::uint64_t blocks_found = 0;     // met their target and went to the sink
    std::uint64_t blocks_accepted = 0;  // of those, accepted by the chain
    bool running = false;               // threads started and not stopped
    bool continuous = false;            // continuous mining is on
    std::size_t requests = 0;           // requests waiting or being mined
    unsigned threads = 0;               // worker threads
    unsigned active_threads = 0;        // workers hashing right now
    // The template being hashed now: its parent and height; nullopt when idle.
    std::optional<core::Uint256> work_parent;
    std::uint32_t work_height = 0;
    // Transactions besides the coinbase in that template, and the fees they pay.
    std::size_t work_transactions = 0;
    core::Amount work_fees = 0;
};

// How a request ended; given to its callback exactly once.
struct MineResult {
    // The request's block, once one was found and submitted; null otherwise (`error` then
    // says why).
    core::BlockPtr block;
    std::uint32_t height = 0;
    // The chain's verdict on `block`: ok when the block was accepted and became the tip.
    core::ValidationResult verdict;
    // Set when the request ended without its block becoming the tip for another reason
    // than a refusal: kUnavailable when the miner stopped first, kInvalidArgument when no
    // template could be built for it (the chain gave bits that do not decode).
    std::optional<util::Error> error;

    bool accepted() const noexcept { return block != nullptr && !error && verdict.is_ok(); }
};

using MineCallback = std::function<void(MineResult)>;

class Miner final : public chain::ChainObserver {
  public:
    // The next block context on the current tip: Chainstate::next_block_context() in the
    // node.
    using ContextSource = std::function<chain::Chainstate::NextBlockContext()>;

    // `params`, `sink` and `clock` must outlive the miner; `next_block_context` must stay
    // callable until stop() returned and every submitted block's `done` ran. No thread
    // runs before start().
    Miner(const core::Params& params, ContextSource next_block_context, BlockSink& sink,
          const util::Clock& clock, MinerOptions options = {});
    ~Miner() override;  // stop()s
    Miner(const Miner&) = delete;
    Miner& operator=(const Miner&) = delete;

    // Starts the worker and coordinator threads; they idle until there is work. Once only;
    // not after stop(). Throws std::system_error when a thread cannot be made (startup).
    void start();
    // Ends the threads promptly, also in the middle of a hard target, and fails the
    // requests not yet submitted with kUnavailable. A request whose block is with the sink
    // still gets the chain's verdict. Safe to call twice.
    void stop();

    // Mines blocks on the current tip, one after another, paying to spec.reward_key with
    // spec.data in each coinbase, until stop_continuous(). Replaces an earlier spec.
    // kInvalidArgument when the data is too long, kUnavailable once stopped.
    util::Result<void> start_continuous(CoinbaseSpec spec);
    void stop_continuous();

    // Queues a request for one block with `spec`; `done` receives the result. Fails at once,
    // without calling `done`, with kInvalidArgument when the data is too long, and with
    // kUnavailable when max_requests are pending or the miner is stopped.
    util::Result<void> request(CoinbaseSpec spec, MineCallback done);

    // The active tip moved: drop the current work and build on the new tip. Called from the
    // chain executor; never blocks for longer than a short lock.
    void on_tip_changed();
    // chain::ChainObserver: the same, as a subscriber of the node's event bus (after the
    // pool, so the next template sees the pool of the new tip).
    void on_tip_changed(const chain::BlockIndex* new_tip, const chain::BlockIndex* old_tip,
                        const chain::BlockIndex* fork) override;

    MinerStats stats() const;

  private:
    class Impl;
    std::shared_ptr<Impl> impl_;  // shared with the `done` callbacks given to the sink
};

}  // namespace peerchain::mining
