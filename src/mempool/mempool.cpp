#include "mempool/mempool.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <queue>
#include <set>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "core/check.hpp"
#include "core/coin.hpp"
#include "core/serialize.hpp"
#include "core/tx_verify.hpp"
#include "util/assert.hpp"
#include "util/file.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::mempool {

using core::Amount;
using core::OutPoint;
using core::Uint256;
using core::ValidationCode;
using core::ValidationResult;

namespace {

// Fee rates are compared as fee_a * size_b against fee_b * size_a: a fee (up to 2^51) times
// a package size (up to 2^22) does not fit 64 bits.
__extension__ typedef __int128 Wide;

bool rate_above(Amount fee_a, std::size_t size_a, Amount fee_b, std::size_t size_b) {
    return static_cast<Wide>(fee_a) * static_cast<Wide>(size_b) >
           static_cast<Wide>(fee_b) * static_cast<Wide>(size_a);
}

std::string outpoint_text(const OutPoint& o) {
    return o.txid.to_hex() + ":" + std::to_string(o.index);
}

ValidationResult policy(std::string reason, std::string detail) {
    return ValidationResult::fail(ValidationCode::kPolicy, std::move(reason), std::move(detail));
}

constexpr std::array<std::uint8_t, 4> kFileMagic = {'p', 'c', 'm', 'p'};
constexpr std::uint32_t kFileVersion = 1;
util::Unexpected io_error(const std::string& what, const std::filesystem::path& path) {
    return util::Unexpected(util::Errc::kIo,
                            what + " " + path.string() + ": " + std::strerror(errno));
}

}  // namespace

class Mempool::Impl {
  public:
    Impl(const chain::Chainstate& chain, const util::Clock& clock, Options options)
        : chain_(chain), clock_(clock), options_(options) {}

    ValidationResult accept(const TxPtr& tx, std::int64_t time, Uint256* txid_out);
    std::int64_t now() const { return clock_.now_seconds(); }
    void remove_for_block(const core::Block& block);
    void add_disconnected(const core::BlockPtr& block);
    std::size_t update_after_reorg();
    util::Result<void> save(const std::filesystem::path& path) const;
    util::Result<std::size_t> load(const std::filesystem::path& path);

    std::size_t size() const {
        util::LockGuard lock(mutex_);
        return nodes_.size();
    }
    std::size_t bytes() const {
        util::LockGuard lock(mutex_);
        return bytes_;
    }
    std::uint64_t generation() const {
        util::LockGuard lock(mutex_);
        return generation_;
    }
    bool contains(const Uint256& txid) const {
        util::LockGuard lock(mutex_);
        return nodes_.contains(txid);
    }
    std::optional<Entry> get(const Uint256& txid) const {
        util::LockGuard lock(mutex_);
        auto it = nodes_.find(txid);
        if (it == nodes_.end()) return std::nullopt;
        return make_entry(it->second);
    }
    std::vector<Entry> entries() const;
    std::optional<Uint256> spender(const OutPoint& outpoint) const {
        util::LockGuard lock(mutex_);
        auto it = spenders_.find(outpoint);
        if (it == spenders_.end()) return std::nullopt;
        return it->second;
    }
    std::optional<core::TxOut> output(const OutPoint& outpoint) const {
        util::LockGuard lock(mutex_);
        auto it = nodes_.find(outpoint.txid);
        if (it == nodes_.end() || outpoint.index >= it->second.tx->outputs.size()) {
            return std::nullopt;
        }
        return it->second.tx->outputs[outpoint.index];
    }
    Selection select(std::size_t max_bytes) const;

  private:
    struct Node {
        TxPtr tx;
        Uint256 txid;
        Amount fee = 0;
        std::size_t size = 0;
        std::int64_t time = 0;
        // Order of entry. A transaction enters only after its pool parents, so parents
        // always have smaller sequences: sorting by it puts parents first.
        std::uint64_t sequence = 0;
        std::set<Uint256> parents;   // pool transactions it spends
        std::set<Uint256> children;  // pool transactions that spend it
    };

    // What `txid` reaches along `edges` (Node::parents: its ancestors; Node::children: its
    // descendants), not itself unless already there, added to `out`; `stop(id)` keeps the
    // walk from entering `id`. The ancestor and descendant limits keep these walks short,
    // so the pool derives package figures on demand instead of caching them in every entry.
    template <typename Stop>
    void walk(const Uint256& txid, std::set<Uint256> Node::*edges, std::set<Uint256>& out,
              Stop stop) const REQUIRES(mutex_) {
        std::vector<Uint256> stack = {txid};
        while (!stack.empty()) {
            const Uint256 id = stack.back();
            stack.pop_back();
            for (const Uint256& next : nodes_.at(id).*edges) {
                if (!stop(next) && out.insert(next).second) stack.push_back(next);
            }
        }
    }
    void collect_ancestors(const Uint256& txid, std::set<Uint256>& out) const REQUIRES(mutex_) {
        walk(txid, &Node::parents, out, [](const Uint256&) { return false; });
    }
    void collect_descendants(const Uint256& txid, std::set<Uint256>& out) const REQUIRES(mutex_) {
        walk(txid, &Node::children, out, [](const Uint256&) { return false; });
    }
    Entry make_entry(const Node& n) const REQUIRES(mutex_) {
        Entry e;
        e.tx = n.tx;
        e.txid = n.txid;
        e.fee = n.fee;
        e.size = n.size;
        e.time = n.time;
        std::set<Uint256> ancestors;
        collect_ancestors(n.txid, ancestors);
        std::set<Uint256> descendants;
        collect_descendants(n.txid, descendants);
        e.ancestors = ancestors.size();
        e.descendants = descendants.size();
        e.ancestor_fee = n.fee;
        e.ancestor_size = n.size;
        for (const Uint256& a : ancestors) {
            const Node& an = nodes_.at(a);
            e.ancestor_fee += an.fee;
            e.ancestor_size += an.size;
        }
        return e;
    }
    // Unlinks and drops `txids`; what stays keeps consistent parent/child links.
    void remove_all(const std::set<Uint256>& txids) REQUIRES(mutex_) {
        for (const Uint256& id : txids) {
            auto it = nodes_.find(id);
            if (it == nodes_.end()) continue;
            Node& n = it->second;
            for (const auto& in : n.tx->inputs) {
                auto s = spenders_.find(in.prevout);
                if (s != spenders_.end() && s->second == id) spenders_.erase(s);
            }
            for (const Uint256& parent : n.parents) {
                if (auto p = nodes_.find(parent); p != nodes_.end()) p->second.children.erase(id);
            }
            for (const Uint256& child : n.children) {
                if (auto c = nodes_.find(child); c != nodes_.end()) c->second.parents.erase(id);
            }
            bytes_ -= n.size;
            nodes_.erase(it);
        }
        if (!txids.empty()) ++generation_;
    }
    // Every transaction with its entry time, parents first; and the pool emptied.
    std::vector<std::pair<TxPtr, std::int64_t>> ordered() const REQUIRES(mutex_) {
        std::vector<const Node*> nodes;
        nodes.reserve(nodes_.size());
        for (const auto& [id, n] : nodes_) nodes.push_back(&n);
        std::sort(nodes.begin(), nodes.end(),
                  [](const Node* a, const Node* b) { return a->sequence < b->sequence; });
        std::vector<std::pair<TxPtr, std::int64_t>> out;
        out.reserve(nodes.size());
        for (const Node* n : nodes) out.emplace_back(n->tx, n->time);
        return out;
    }

    const chain::Chainstate& chain_;
    const util::Clock& clock_;
    const Options options_;

    mutable util::Mutex mutex_;
    std::unordered_map<Uint256, Node, core::Uint256Hasher> nodes_ GUARDED_BY(mutex_);
    std::unordered_map<OutPoint, Uint256, core::OutPointHasher> spenders_ GUARDED_BY(mutex_);
    std::size_t bytes_ GUARDED_BY(mutex_) = 0;
    std::uint64_t generation_ GUARDED_BY(mutex_) = 0;
    std::uint64_t next_sequence_ GUARDED_BY(mutex_) = 0;

    // Chain executor only: transactions of disconnected blocks, one vector per block, tip
    // first, waiting for update_after_reorg().
    std::vector<std::vector<TxPtr>> disconnected_;
    std::size_t disconnected_bytes_ = 0;
};

ValidationResult Mempool::Impl::accept(const TxPtr& tx, std::int64_t time, Uint256* txid_out) {
    NODE_ASSERT(tx != nullptr);
    const Uint256 txid = tx->txid();
    if (txid_out != nullptr) *txid_out = txid;
    const core::Params& p = chain_.params();
    // check_transaction() lets a coinbase through (blocks check where it sits); alone it
    // spends nothing and creates coins from nothing.
    if (tx->is_coinbase()) {
        return ValidationResult::invalid("coinbase", "a coinbase is valid only first in a block");
    }
    if (auto r = core::check_transaction(*tx, p); !r) return r;
    const std::size_t size = tx->serialized_size();

    // What the pool holds: conflicts and unconfirmed parents. Only this thread mutates the
    // pool or the chain, so nothing read here moves before the entry is added below; the
    // lock is for the readers on other threads, and is not held across calls into chain.
    std::vector<std::optional<core::Coin>> spent(tx->inputs.size());
    std::set<Uint256> parents;
    {
        util::LockGuard lock(mutex_);
        if (nodes_.contains(txid)) {
            return ValidationResult::fail(ValidationCode::kDuplicate, "txn-already-in-mempool",
                                          txid.to_hex());
        }
        for (std::size_t k = 0; k < tx->inputs.size(); ++k) {
            const OutPoint& prevout = tx->inputs[k].prevout;
            if (auto s = spenders_.find(prevout); s != spenders_.end()) {
                return policy("txn-mempool-conflict", "double spend: input " + std::to_string(k) +
                                                          " spends " + outpoint_text(prevout) +
                                                          ", already spent by pool transaction " +
                                                          s->second.to_hex());
            }
            auto it = nodes_.find(prevout.txid);
            if (it != nodes_.end() && prevout.index < it->second.tx->outputs.size()) {
                spent[k] = core::Coin{it->second.tx->outputs[prevout.index], 0, false};
                parents.insert(prevout.txid);
            }
        }
    }

    const std::uint32_t spend_height = chain_.tip()->height + 1;
    std::vector<core::Coin> coins;
    coins.reserve(spent.size());
    for (std::size_t k = 0; k < spent.size(); ++k) {
        const OutPoint& prevout = tx->inputs[k].prevout;
        if (spent[k]) {
            spent[k]->height = spend_height;  // unconfirmed: would confirm in the next block
        } else {
            spent[k] = chain_.coin(prevout);
        }
        if (!spent[k]) {
            for (std::uint32_t i = 0; i < tx->outputs.size(); ++i) {
                if (chain_.coin({txid, i})) {
                    return ValidationResult::fail(ValidationCode::kDuplicate, "txn-already-known",
                                                  txid.to_hex());
                }
            }
            // Say which: a spend of a spent output is a double spend of the chain; an
            // unknown one may be an orphan whose parent has not arrived. (Only on this
            // refusal path: the lookup reads the block holding the parent.)
            std::string detail = "input " + std::to_string(k) + " spends " + outpoint_text(prevout);
            if (auto parent = chain_.find_transaction(prevout.txid);
                parent && prevout.index < parent->tx.outputs.size()) {
                detail += ", already spent in the chain (double spend)";
            } else {
                detail += ", which is not in the chain or the pool";
            }
            return ValidationResult::fail(ValidationCode::kMissingPrev,
                                          "bad-txns-inputs-missingorspent", std::move(detail));
        }
        coins.push_back(*spent[k]);
    }

    Amount fee = 0;
    if (auto r = core::check_tx_inputs(*tx, coins, spend_height, p, &fee); !r) {
        // Valid in a block a few heights on, or after a reorg: not the sender's fault.
        if (r.reason == "bad-txns-premature-spend-of-coinbase") r.code = ValidationCode::kPolicy;
        return r;
    }
    if (static_cast<Wide>(fee) < static_cast<Wide>(options_.min_fee_rate) * size) {
        return policy("min-fee-not-met", "fee " + std::to_string(fee) + " for " +
                                             std::to_string(size) + " bytes, needs " +
                                             std::to_string(options_.min_fee_rate) + " per byte");
    }
    // Signatures last: the dearest check, after the cheap refusals (as Bitcoin runs its
    // policy checks before the scripts).
    if (auto r = core::check_tx_signatures(*tx, coins, p); !r) return r;

    util::LockGuard lock(mutex_);
    std::set<Uint256> ancestors;
    for (const Uint256& parent : parents) {
        ancestors.insert(parent);
        collect_ancestors(parent, ancestors);
    }
    if (ancestors.size() > options_.max_ancestors) {
        return policy("too-long-mempool-chain", std::to_string(ancestors.size()) +
                                                    " unconfirmed ancestors, at most " +
                                                    std::to_string(options_.max_ancestors));
    }
    for (const Uint256& a : ancestors) {
        std::set<Uint256> descendants;
        collect_descendants(a, descendants);
        if (descendants.size() + 1 > options_.max_descendants) {
            return policy("too-long-mempool-chain", "ancestor " + a.to_hex() + " would get " +
                                                        std::to_string(descendants.size() + 1) +
                                                        " descendants, at most " +
                                                        std::to_string(options_.max_descendants));
        }
    }

    // Room: evict the packages (an entry with its descendants) of the lowest fee rate
    // until the newcomer fits, but never for a newcomer that pays no more than they do
    // (an equal rate would let a sender churn the pool for nothing). The newcomer's own
    // ancestors stay. A linear scan per eviction: the pool is full only under load, and
    // each step frees at least one transaction.
    std::set<Uint256> evict;
    if (bytes_ + size > options_.max_bytes) {
        if (size > options_.max_bytes) {
            return policy("mempool-full", "transaction larger than the whole pool");
        }
        std::size_t freed = 0;
        while (bytes_ - freed + size > options_.max_bytes) {
            const Node* worst = nullptr;
            Amount worst_fee = 0;
            std::size_t worst_size = 0;
            std::set<Uint256> worst_package;
            for (const auto& [id, n] : nodes_) {
                if (evict.contains(id) || ancestors.contains(id)) continue;
                std::set<Uint256> package;
                collect_descendants(id, package);
                package.insert(id);
                Amount pfee = 0;
                std::size_t psize = 0;
                for (const Uint256& d : package) {
                    const Node& dn = nodes_.at(d);
                    pfee += dn.fee;
                    psize += dn.size;
                }
                if (worst == nullptr || rate_above(worst_fee, worst_size, pfee, psize) ||
                    (!rate_above(pfee, psize, worst_fee, worst_size) && n.txid < worst->txid)) {
                    worst = &n;
                    worst_fee = pfee;
                    worst_size = psize;
                    worst_package = std::move(package);
                }
            }
            if (worst == nullptr || !rate_above(fee, size, worst_fee, worst_size)) {
                return policy("mempool-full",
                              "fee " + std::to_string(fee) + " for " + std::to_string(size) +
                                  " bytes does not beat the lowest fee rate in the full pool");
            }
            for (const Uint256& d : worst_package) {
                if (evict.insert(d).second) freed += nodes_.at(d).size;
            }
        }
        spdlog::debug("mempool: evicting {} transactions for {}", evict.size(), txid.to_hex());
        remove_all(evict);
    }

    Node n;
    n.tx = tx;
    n.txid = txid;
    n.fee = fee;
    n.size = size;
    n.time = time;
    n.sequence = next_sequence_++;
    n.parents = std::move(parents);
    for (const Uint256& parent : n.parents) nodes_.at(parent).children.insert(txid);
    for (const auto& in : tx->inputs) spenders_[in.prevout] = txid;
    nodes_.emplace(txid, std::move(n));
    bytes_ += size;
    ++generation_;
    return ValidationResult::ok();
}

void Mempool::Impl::remove_for_block(const core::Block& block) {
    util::LockGuard lock(mutex_);
    // Nothing to confirm or to conflict with (the rule during a sync): no txids to hash.
    if (nodes_.empty()) return;
    std::set<Uint256> confirmed;
    std::set<Uint256> conflicts;
    for (std::size_t t = 1; t < block.txs.size(); ++t) {
        const core::Transaction& tx = block.txs[t];
        const Uint256 txid = tx.txid();
        if (nodes_.contains(txid)) confirmed.insert(txid);
        for (const auto& in : tx.inputs) {
            auto s = spenders_.find(in.prevout);
            if (s == spenders_.end() || s->second == txid) continue;
            // Spends a coin the block spent: it can never confirm, nor can what spends it.
            conflicts.insert(s->second);
            collect_descendants(s->second, conflicts);
        }
    }
    for (const Uint256& id : confirmed) conflicts.erase(id);
    if (!conflicts.empty()) {
        spdlog::debug("mempool: block {} conflicts with {} pool transactions",
                      block.hash().to_hex(), conflicts.size());
    }
    confirmed.merge(conflicts);
    remove_all(confirmed);
}

void Mempool::Impl::add_disconnected(const core::BlockPtr& block) {
    // Bounded like the pool itself: a reorg deeper than that gives up the oldest blocks'
    // transactions (their outputs' spenders then fail as orphans).
    std::vector<TxPtr> txs;
    for (std::size_t t = 1; t < block->txs.size(); ++t) {
        const std::size_t size = block->txs[t].serialized_size();
        if (disconnected_bytes_ + size > options_.max_bytes) break;
        disconnected_bytes_ += size;
        txs.push_back(std::make_shared<const core::Transaction>(block->txs[t]));
    }
    disconnected_.push_back(std::move(txs));
}

std::size_t Mempool::Impl::update_after_reorg() {
    // Everything is checked again from scratch: the disconnected blocks' transactions
    // first, oldest block first (so they win over pool transactions that conflict with
    // them, and become parents of pool transactions that spend them), then the old pool
    // in its order. Reorgs are rare; re-checking signatures is the price of simplicity.
    std::vector<std::pair<TxPtr, std::int64_t>> old;
    {
        util::LockGuard lock(mutex_);
        old = ordered();
        nodes_.clear();
        spenders_.clear();
        bytes_ = 0;
        ++generation_;
    }
    auto blocks = std::exchange(disconnected_, {});
    disconnected_bytes_ = 0;
    const std::int64_t now = clock_.now_seconds();
    std::size_t back = 0;
    for (auto block = blocks.rbegin(); block != blocks.rend(); ++block) {
        for (const TxPtr& tx : *block) {
            if (accept(tx, now, nullptr).is_ok()) ++back;
        }
    }
    std::size_t kept = 0;
    for (const auto& [tx, time] : old) {
        if (accept(tx, time, nullptr).is_ok()) ++kept;
    }
    spdlog::debug("mempool: after a reorg {} transactions came back, {} of {} stayed", back, kept,
                  old.size());
    return back;
}

std::vector<Entry> Mempool::Impl::entries() const {
    util::LockGuard lock(mutex_);
    std::vector<Entry> out;
    out.reserve(nodes_.size());
    for (const auto& [id, n] : nodes_) out.push_back(make_entry(n));
    std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
        if (rate_above(a.ancestor_fee, a.ancestor_size, b.ancestor_fee, b.ancestor_size)) {
            return true;
        }
        if (rate_above(b.ancestor_fee, b.ancestor_size, a.ancestor_fee, a.ancestor_size)) {
            return false;
        }
        return a.txid < b.txid;
    });
    return out;
}

Selection Mempool::Impl::select(std::size_t max_bytes) const {
    // Bitcoin's ancestor-feerate selection (BlockAssembler::addPackageTxs), simplified: a
    // heap of candidates ranked by the fee rate of the package each would bring in (itself
    // and its ancestors not yet selected). Taking a package lowers the package of every
    // descendant, which is pushed again with its new figures; stale heap items are skipped.
    util::LockGuard lock(mutex_);
    Selection out;
    struct Candidate {
        Amount fee;
        std::size_t size;
        Uint256 txid;
        std::uint64_t version;
    };
    auto worse = [](const Candidate& a, const Candidate& b) {
        if (rate_above(a.fee, a.size, b.fee, b.size)) return false;
        if (rate_above(b.fee, b.size, a.fee, a.size)) return true;
        return b.txid < a.txid;  // ties: the smaller txid first, so the result is stable
    };
    std::priority_queue<Candidate, std::vector<Candidate>, decltype(worse)> heap(worse);
    std::unordered_map<Uint256, std::uint64_t, core::Uint256Hasher> version;
    std::set<Uint256> taken;

    // The candidate's package: itself and its ancestors not taken yet. Taken sets are
    // closed under ancestors, so the walk stops at a taken parent.
    auto package_of = [&](const Uint256& txid) REQUIRES(mutex_) {
        std::set<Uint256> package = {txid};
        walk(txid, &Node::parents, package,
             [&](const Uint256& parent) { return taken.contains(parent); });
        return package;
    };
    auto push = [&](const Uint256& txid) REQUIRES(mutex_) {
        Amount fee = 0;
        std::size_t size = 0;
        for (const Uint256& id : package_of(txid)) {
            fee += nodes_.at(id).fee;
            size += nodes_.at(id).size;
        }
        heap.push({fee, size, txid, ++version[txid]});
    };
    for (const auto& [id, n] : nodes_) push(id);

    // As Bitcoin: once the block is nearly full, stop after many packages in a row that
    // do not fit instead of trying every one.
    constexpr int kMaxConsecutiveFailures = 1000;
    constexpr std::size_t kNearlyFull = 4000;
    int failures = 0;
    while (!heap.empty()) {
        const Candidate top = heap.top();
        heap.pop();
        if (taken.contains(top.txid) || version[top.txid] != top.version) continue;
        if (out.bytes + top.size > max_bytes) {
            if (++failures > kMaxConsecutiveFailures && out.bytes + kNearlyFull > max_bytes) break;
            continue;
        }
        failures = 0;
        const std::set<Uint256> package = package_of(top.txid);
        std::vector<const Node*> members;
        for (const Uint256& id : package) members.push_back(&nodes_.at(id));
        std::sort(members.begin(), members.end(),
                  [](const Node* a, const Node* b) { return a->sequence < b->sequence; });
        std::set<Uint256> affected;
        for (const Node* m : members) {
            taken.insert(m->txid);
            out.txs.push_back(m->tx);
            out.fees += m->fee;
            out.bytes += m->size;
        }
        for (const Node* m : members) collect_descendants(m->txid, affected);
        for (const Uint256& d : affected) {
            if (!taken.contains(d)) push(d);
        }
    }
    return out;
}

util::Result<void> Mempool::Impl::save(const std::filesystem::path& path) const {
    util::Bytes bytes;
    {
        util::LockGuard lock(mutex_);
        const auto txs = ordered();
        core::Writer w(bytes);
        w.bytes(kFileMagic);
        w.u32(kFileVersion);
        w.compact_size(txs.size());
        for (const auto& [tx, time] : txs) {
            w.i64(time);
            w.var_bytes(tx->encode());
        }
    }
    return util::write_file_atomic(path, bytes);
}

util::Result<std::size_t> Mempool::Impl::load(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::size_t{0};
        return io_error("cannot open", path);
    }
    // A pool never saves more than its bound; a bigger file is not one we wrote.
    const std::size_t max_file = 2 * options_.max_bytes + 4096;
    util::Bytes bytes;
    bool ok = true;
    for (;;) {
        std::uint8_t buf[1 << 16];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ok = false;
            break;
        }
        if (n == 0) break;
        bytes.insert(bytes.end(), buf, buf + n);
        if (bytes.size() > max_file) break;
    }
    const int saved_errno = errno;
    ::close(fd);
    if (!ok) {
        errno = saved_errno;
        return io_error("cannot read", path);
    }
    auto corrupt = [&](const std::string& what, std::size_t kept) {
        return util::Unexpected(util::Errc::kCorruption, path.string() + ": " + what + " (" +
                                                             std::to_string(kept) +
                                                             " transactions read before it)");
    };
    if (bytes.size() > max_file) return corrupt("larger than the pool could save", 0);

    core::Reader r(bytes);
    std::array<std::uint8_t, 4> magic{};
    std::uint32_t version = 0;
    if (!r.array(magic) || magic != kFileMagic) return corrupt("not a mempool file", 0);
    if (!r.u32(version) || version != kFileVersion) {
        return corrupt("unknown version " + std::to_string(version), 0);
    }
    std::uint64_t count = 0;
    // Nothing is allocated by the count; it only has to be possible. A file cut short
    // still gives back the entries before the cut.
    if (!r.compact_size(count, r.remaining())) {
        return corrupt("bad transaction count", 0);
    }
    std::size_t kept = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
        std::int64_t time = 0;
        std::uint64_t len = 0;
        if (!r.i64(time) || !r.compact_size(len, chain_.params().max_tx_size)) {
            return corrupt("entry " + std::to_string(i) + " cut short", kept);
        }
        const std::size_t start = r.position();
        if (!r.skip(static_cast<std::size_t>(len))) {
            return corrupt("entry " + std::to_string(i) + " cut short", kept);
        }
        auto tx = core::decode_transaction(r.consumed_since(start));
        if (!tx) return corrupt("entry " + std::to_string(i) + ": " + tx.error().message, kept);
        // Each one is checked as if it came from a peer: the file is not trusted.
        if (accept(std::make_shared<const core::Transaction>(std::move(*tx)), time, nullptr)) {
            ++kept;
        }
    }
    if (!r.at_end()) return corrupt("trailing bytes", kept);
    return kept;
}

Mempool::Mempool(const chain::Chainstate& chain, const util::Clock& clock, Options options)
    : impl_(std::make_unique<Impl>(chain, clock, options)) {}

Mempool::~Mempool() = default;

core::ValidationResult Mempool::accept(const TxPtr& tx, core::Uint256* txid_out) {
    core::Uint256 txid;
    auto result = impl_->accept(tx, impl_->now(), &txid);
    if (txid_out != nullptr) *txid_out = txid;
    if (result && observer_ != nullptr) {
        if (auto entry = get(txid)) observer_->on_transaction_added(tx, entry->fee);
    }
    return result;
}
void Mempool::remove_for_block(const core::Block& block) { impl_->remove_for_block(block); }
void Mempool::add_disconnected(const core::BlockPtr& block) { impl_->add_disconnected(block); }
std::size_t Mempool::update_after_reorg() { return impl_->update_after_reorg(); }

void Mempool::on_block_connected(const core::BlockPtr& block, const chain::BlockIndex*) {
    if (block) remove_for_block(*block);
}
void Mempool::on_block_disconnected(const core::BlockPtr& block, const chain::BlockIndex*) {
    if (block) add_disconnected(block);
}
void Mempool::on_tip_changed(const chain::BlockIndex*, const chain::BlockIndex* old_tip,
                             const chain::BlockIndex* fork) {
    if (fork == old_tip) return;  // the chain only grew
    const std::size_t back = update_after_reorg();
    if (back > 0) spdlog::info("mempool: {} transactions back from the old branch", back);
}
util::Result<void> Mempool::save(const std::filesystem::path& path) const {
    return impl_->save(path);
}
util::Result<std::size_t> Mempool::load(const std::filesystem::path& path) {
    return impl_->load(path);
}
std::size_t Mempool::size() const { return impl_->size(); }
std::size_t Mempool::bytes() const { return impl_->bytes(); }
bool Mempool::contains(const core::Uint256& txid) const { return impl_->contains(txid); }
std::optional<Entry> Mempool::get(const core::Uint256& txid) const { return impl_->get(txid); }
std::vector<Entry> Mempool::entries() const { return impl_->entries(); }
std::optional<core::Uint256> Mempool::spender(const core::OutPoint& outpoint) const {
    return impl_->spender(outpoint);
}
std::optional<core::TxOut> Mempool::output(const core::OutPoint& outpoint) const {
    return impl_->output(outpoint);
}
Selection Mempool::select(std::size_t max_bytes) const { return impl_->select(max_bytes); }
std::uint64_t Mempool::generation() const { return impl_->generation(); }

}  // namespace peerchain::mempool
