// Chainstate: the node's view of the block chain. It owns the header tree (every valid
// header, with chain work), the active chain (the most-work fully valid chain), the UTXO
// set behind a write-back cache, and the stored blocks and undo data.
//
// Validation: headers are checked (proof of work, context) as they arrive; full blocks are
// checked, stored, and connected to the active chain in most-work order, with reorgs that
// disconnect to the fork point using undo data. A block that breaks a rule is marked
// failed with all its descendants and never becomes the tip; if connecting a branch fails
// half way, the best valid chain is activated instead.
//
// Durability: blocks and undo data are written as they are accepted; during
// initial sync (the best header far ahead of the tip) those of many blocks go in one write,
// and until then the blocks are served from memory. The coins set is flushed with the tip
// it belongs to in one atomic, synced batch, after every block record it needs, so the
// coins on disk always match some stored block; on open, the chain rolls forward from
// there through the stored blocks. A node killed at any instant reopens at a consistent
// tip (during initial sync, possibly behind the blocks it had connected: it fetches them
// again).
//
// Indexes: when a block is connected, its entries record where each of its transactions
// sits (by txid), which transactions pay or spend from each x-only key (by height), and
// the key's new coins. A thread of their own writes them a few milliseconds after the
// block, so that they are not on the path of the next one; every coins flush waits for
// them first, and every index query waits for those of the blocks already connected.
// Entries name their block, so a reader keeps those of the active chain and a reorg needs
// no deletion; the entries of a key's spent coins are dropped with the coins flush that
// erases the coins. The Chainstate
// calls its indexes (TxIndex, AddressIndex) through the Index interface (index.hpp) and
// answers their queries by delegating to them.
//
// Storage layout: one LevelDB database, one key prefix per kind ('z' block index, 'u'
// undo, 'c' coins, 'm' meta, 't' transactions, 'a' address history, 'o' address coins;
// 'b' the bodies an older format stored), and the block bodies in append-only files
// (store/flat_files.hpp) in options.blocks_dir. The grammars are in storage_format.hpp
// and docs/STORAGE.md.
//
// Thread-safety: every mutating call (process_header(s), process_block, flush, write_held,
// invalidate) must come from one thread, the node's chain executor. Queries may come from
// any thread: they take an internal lock, which is never held across a call to the
// observer or into another module. Returned BlockIndex pointers stay valid for the
// Chainstate's lifetime; returned blocks are immutable and shared.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "chain/address_index.hpp"
#include "chain/block_index.hpp"
#include "chain/chain_observer.hpp"
#include "chain/coin.hpp"
#include "chain/tx_index.hpp"
#include "core/amount.hpp"
#include "core/block.hpp"
#include "core/check.hpp"
#include "core/params.hpp"
#include "core/validation.hpp"
#include "store/database.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace peerchain::chain {

struct ChainstateOptions {
    // The directory of the block bodies' flat files (docs/STORAGE.md; the node's is
    // <data dir>/blocks). Required: opening fails without it.
    std::filesystem::path blocks_dir;
    // Flush the coins cache when it holds more than this many bytes, or after this many
    // blocks were connected since the last flush, whichever comes first.
    std::size_t coins_cache_bytes = 256u << 20;
    std::uint32_t flush_every_blocks = 5000;
    // Threads for checking a block's signatures (issue 3); 0 = hardware concurrency.
    unsigned script_threads = 0;
    // --assume-valid (issue 10): blocks of this block's chain, buried deep enough under the
    // best header, connect without their signatures checked (assume_valid.hpp says exactly
    // when). nullopt: every signature is checked.
    std::optional<core::Uint256> assume_valid;
    // Initial sync: while the best header is more than `sync_lag_blocks` ahead of the tip,
    // the records of up to `sync_batch_blocks` blocks, gathered for at most
    // `sync_batch_interval`, reach the store in one write (docs/STORAGE.md, section 3).
    // sync_batch_blocks <= 1 writes every block at once, as at the tip.
    std::uint32_t sync_lag_blocks = 144;
    std::uint32_t sync_batch_blocks = 1000;
    std::chrono::milliseconds sync_batch_interval{100};
    // Keep the transaction and address indexes (issue 10: --no-index turns them off). Off,
    // no index entry is written, the index queries answer nothing, and the store is marked
    // so that the next open with indexes rebuilds them (docs/STORAGE.md).
    bool indexes = true;
};

struct ChainStats {
    std::uint32_t height = 0;
    core::Uint256 tip_hash;
    core::ArithUint256 chain_work;
    std::uint32_t best_header_height = 0;
    std::size_t headers = 0;       // entries in the header tree
    std::size_t coins_cached = 0;  // entries in the coins cache
};

class Chainstate {
  public:
    // Opens the chain in `db` and the block files in options.blocks_dir: loads the header
    // tree, writes the genesis block if the database is new, and rolls the coins forward to
    // the best stored chain. Fails without a blocks directory, on a database of another
    // network (genesis mismatch), a newer store format, or a read error. A store whose
    // indexes are incomplete (an odd format: before the indexes, or last run without them)
    // has them built first from the stored blocks, undo data and coins (logged); an older
    // format is moved to the current one. Without indexes (options.indexes false) the store
    // is set to kUnindexedFormatVersion instead (docs/STORAGE.md, "Formats"). `db`, `params`,
    // `clock` and `observer` (may be null) must outlive it.
    static util::Result<std::unique_ptr<Chainstate>> open(store::Database& db,
                                                          const core::Params& params,
                                                          const util::Clock& clock,
                                                          ChainObserver* observer,
                                                          ChainstateOptions options = {});
    ~Chainstate();  // flushes

    // --- Mutations (chain executor only) -------------------------------------------------

    // Checks a header (proof of work, previous block known and not failed, bits, time) and
    // adds it to the tree. kDuplicate when known (and *out set), kMissingPrev when the
    // parent is unknown, kInvalid / kTimeFuture with the reason otherwise.
    core::ValidationResult process_header(const core::BlockHeader& header,
                                          const BlockIndex** out = nullptr);
    // A batch from one `headers` message, in order; stops at the first failure, which it
    // returns. *last is the last header accepted (or already known). `hashes`, when given,
    // are the headers' hashes, in order (a caller that computed them off this thread).
    core::ValidationResult process_headers(const std::vector<core::BlockHeader>& headers,
                                           const BlockIndex** last = nullptr,
                                           std::span<const core::Uint256> hashes = {});

    // Checks a full block (header as above, then check_block), stores it, and activates
    // the most-work chain, connecting this block and any stored descendants when they
    // make the best chain. Returns ok when the block was stored (*is_new tells whether we
    // had it before), else the reason it was refused. A block whose header is valid but
    // which loses a fork race is stored, not connected. A consensus failure found while
    // connecting (bad-cb-amount, bad-cb-height, a spend rule) marks the block failed and
    // returns the reason; the tip is then the best remaining valid chain.
    core::ValidationResult process_block(const core::BlockPtr& block, bool* is_new = nullptr);
    // The same for a block already put through core::check_block_alone (by the thread that
    // decoded it): its verdict and hashes are used, not computed again.
    core::ValidationResult process_block(const core::CheckedBlock& checked, bool* is_new = nullptr);

    // Writes the coins cache and its tip in one synced batch.
    util::Result<void> flush();
    // Writes the block records held back during initial sync (docs/STORAGE.md, section 3),
    // if any, and waits until the writer thread has them (and every record before them) in
    // the store. The node calls it every second, so that the blocks of a sync that stalls
    // wait in memory (where a kill loses them) no longer than that.
    util::Result<void> write_held();
    // Writes the indexes' history entries (the transaction index, the address histories)
    // of blocks connected during initial sync, which leaves them out to go at the chain's
    // speed (Bitcoin Core builds its indexes in the background the same way). Works for
    // about `budget` (at least one block), oldest block first, and returns whether more is
    // left that a call now would do: false when they are complete and while the sync is
    // still on. Progress is stored with the entries, so a restart goes on from there.
    util::Result<bool> build_indexes(std::chrono::milliseconds budget);

    // --- Queries (any thread) --------------------------------------------------------------

    const core::Params& params() const noexcept;
    const BlockIndex* tip() const;
    // The most-work header known that is not failed (may be ahead of tip() during sync).
    const BlockIndex* best_header() const;
    const BlockIndex* genesis() const;
    const BlockIndex* lookup(const core::Uint256& hash) const;
    // The block of the active chain at `height`, or nullptr.
    const BlockIndex* at_height(std::uint32_t height) const;
    bool in_active_chain(const BlockIndex* index) const;
    std::uint32_t status(const BlockIndex* index) const;
    ChainStats stats() const;

    // Bitcoin's block locator from `from` (tip() when null): the last 10 hashes, then
    // exponentially sparser, ending at genesis.
    std::vector<core::Uint256> locator(const BlockIndex* from = nullptr) const;
    // The last block of the active chain that appears in the locator (genesis if none).
    const BlockIndex* find_fork(const std::vector<core::Uint256>& locator) const;

    // The stored block, or kNotFound.
    util::Result<core::BlockPtr> read_block(const BlockIndex* index) const;
    // The stored block bytes as they go on the wire (no decode), or kNotFound.
    util::Result<util::Bytes> read_block_bytes(const BlockIndex* index) const;

    // The unspent output, if the active chain has it (the cache, then the store).
    std::optional<Coin> coin(const core::OutPoint& outpoint) const;

    // Whether the Chainstate keeps its indexes (ChainstateOptions::indexes). Without them
    // find_transaction, address_history and address_coins answer nothing.
    bool has_indexes() const noexcept;

    // Waits until the index entries of every block connected or disconnected so far are in
    // the store (the queries below do this themselves). Returns at once without indexes.
    void wait_for_index_entries() const;

    // How far the history entries reach: complete, or written for the blocks up to
    // `height` of the active chain and missing above it until build_indexes() gets there.
    // The address coin entries are always complete.
    struct IndexProgress {
        bool complete = true;
        std::uint32_t height = 0;  // the tip's height when complete
    };
    IndexProgress index_progress() const;

    // The transaction `txid` if a block of the active chain holds it, else nullopt (also on
    // a read error or damaged record, which is logged). The genesis coinbase is found too.
    std::optional<TxLocation> find_transaction(const core::Uint256& txid) const;

    // The transactions of the active chain that pay `key` or spend its coins, newest first
    // (by height, then by position in the block), at most `limit`. A read error ends the
    // list early (logged). Work: the key's entries down to the limit, plus entries of
    // blocks that left the active chain.
    std::vector<AddressTx> address_history(const core::XOnlyKey& key, std::size_t limit) const;

    // The unspent coins of `key` in the active chain (the coins cache included), in
    // outpoint order. Exact for one tip: when blocks connect during the call it starts over
    // (a few times; a chain that keeps moving gets the last attempt). Work: the key's
    // unspent coins plus its coins spent since the last coins flush. Empty on a read error
    // (logged).
    std::vector<std::pair<core::OutPoint, Coin>> address_coins(const core::XOnlyKey& key) const;

    // bits, time floor and height for a new block on the current tip (for the miner).
    struct NextBlockContext {
        const BlockIndex* parent;
        std::uint32_t height;
        std::uint32_t bits;
        std::int64_t min_time;  // median time past of the parent + min_time_above_median
    };
    NextBlockContext next_block_context() const;

  private:
    Chainstate();
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace peerchain::chain
