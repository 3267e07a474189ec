// HeadersPresync against header chains built here: a lighter chain is dropped within the
// memory bound, a heavier one is redownloaded and stored exactly, and every way a peer can
// lie ends in a failure with the chain's token.
#include "net/peer_manager/headers_presync.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "chain/chain_test_util.hpp"
#include "core/pow.hpp"

namespace peerchain::net::peer_manager {
namespace {

using Kind = HeadersPresync::Outcome::Kind;
constexpr std::size_t kK = HeadersPresync::kCommitmentInterval;

const core::Params& regtest() { return core::params(core::Network::kRegtest); }
const core::Params& dev() { return core::params(core::Network::kDev); }

// A clock reading far past every header time the tests make.
std::int64_t test_now(const core::Params& p = regtest()) {
    return std::int64_t{p.genesis.header.time} + 100'000'000;
}

// A header on `prev` meeting its own `bits`; `tag` and `number` go into the merkle root, so
// that chains with different tags differ.
core::BlockHeader mine_header(const core::Params& p, const core::Uint256& prev, std::uint32_t time,
                              std::uint32_t bits, std::uint32_t tag, std::uint64_t number) {
    core::BlockHeader h;
    h.prev_hash = prev;
    h.time = time;
    h.bits = bits;
    for (int i = 0; i < 4; ++i) h.merkle_root.data()[i] = static_cast<std::uint8_t>(tag >> (8 * i));
    for (int i = 0; i < 8; ++i) {
        h.merkle_root.data()[4 + i] = static_cast<std::uint8_t>(number >> (8 * i));
    }
    while (!core::check_proof_of_work(h.hash(), h.bits, p)) ++h.nonce;
    return h;
}

// Its nonce changed so that it does NOT meet its bits.
core::BlockHeader unmined(core::BlockHeader h, const core::Params& p) {
    do {
        ++h.nonce;
    } while (core::check_proof_of_work(h.hash(), h.bits, p));
    return h;
}

// `n` regtest headers continuing `prev`, each 10 s after the one before.
std::vector<core::BlockHeader> make_chain(const core::BlockHeader& prev, std::size_t n,
                                          std::uint32_t tag) {
    std::vector<core::BlockHeader> out;
    out.reserve(n);
    core::Uint256 at = prev.hash();
    std::uint32_t time = prev.time;
    for (std::size_t i = 0; i < n; ++i) {
        time += 10;
        out.push_back(mine_header(regtest(), at, time, regtest().pow_limit_bits, tag, i + 1));
        at = out.back().hash();
    }
    return out;
}

std::vector<core::BlockHeader> from_genesis(std::size_t n, std::uint32_t tag) {
    return make_chain(regtest().genesis.header, n, tag);
}

// `chain[0, n)` followed by `m` headers of another tag on chain[n - 1].
std::vector<core::BlockHeader> diverge(const std::vector<core::BlockHeader>& chain, std::size_t n,
                                       std::size_t m, std::uint32_t tag) {
    std::vector<core::BlockHeader> out(chain.begin(), chain.begin() + static_cast<long>(n));
    const auto rest = make_chain(out.back(), m, tag);
    out.insert(out.end(), rest.begin(), rest.end());
    return out;
}

// Genesis and `n` regtest blocks' worth of chain work.
core::ArithUint256 work_of(std::size_t n) {
    core::ArithUint256 w;
    for (std::size_t i = 0; i <= n; ++i) w += core::block_work(regtest().pow_limit_bits);
    return w;
}

// BlockIndex entries for genesis and headers on it, as a Chainstate holds them (without
// skip pointers: ancestor() then walks prev).
class IndexChain {
  public:
    explicit IndexChain(const core::Params& p = regtest()) {
        chain::BlockIndex g;
        g.hash = p.genesis_hash;
        g.header = p.genesis.header;
        g.chain_work = core::block_work(g.header.bits);
        nodes_.push_back(g);
    }
    const chain::BlockIndex* extend(const std::vector<core::BlockHeader>& headers) {
        for (const auto& h : headers) {
            chain::BlockIndex b;
            b.hash = h.hash();
            b.header = h;
            b.prev = &nodes_.back();
            b.height = nodes_.back().height + 1;
            b.chain_work = nodes_.back().chain_work + core::block_work(h.bits);
            nodes_.push_back(b);
        }
        return &nodes_.back();
    }
    const chain::BlockIndex* genesis() const { return &nodes_.front(); }

  private:
    std::deque<chain::BlockIndex> nodes_;  // stable addresses
};

// The locator HeadersPresync wants: the fork first, genesis last.
std::vector<core::Uint256> fork_locator(const chain::BlockIndex* fork) {
    std::vector<core::Uint256> out{fork->hash};
    const chain::BlockIndex* g = fork;
    while (g->prev != nullptr) g = g->prev;
    if (g != fork) out.push_back(g->hash);
    return out;
}

// What an honest peer serving `chain` (the headers after the fork) did for a presync.
struct Served {
    std::vector<Kind> kinds;
    std::vector<std::size_t> released_sizes;  // one per call that released headers
    std::vector<core::BlockHeader> released;  // every release, in order
    HeadersPresync::Outcome last;
    std::size_t max_memory = 0;
};

// Answers each request with the headers of `chain` after presync.expected_prev(), in
// batches of the sizes in `sizes` (in turn); a batch is full when it has the size asked.
// `on_release` sees each release before the next request.
Served serve(HeadersPresync& presync, const std::vector<core::BlockHeader>& chain,
             const std::vector<std::size_t>& sizes, const core::ArithUint256& tip_work,
             const std::function<void(const std::vector<core::BlockHeader>&)>& on_release = {}) {
    std::map<core::Uint256, std::size_t> position;
    position[presync.fork()->hash] = 0;
    for (std::size_t i = 0; i < chain.size(); ++i) position[chain[i].hash()] = i + 1;
    Served s;
    s.max_memory = presync.memory_usage();
    for (std::size_t turn = 0; !presync.done(); ++turn) {
        const auto it = position.find(presync.expected_prev());
        EXPECT_NE(it, position.end());
        if (it == position.end()) break;
        const std::size_t from = it->second;
        const std::size_t want = sizes[turn % sizes.size()];
        const std::size_t n = std::min(want, chain.size() - from);
        const std::vector<core::BlockHeader> batch(chain.begin() + static_cast<long>(from),
                                                   chain.begin() + static_cast<long>(from + n));
        s.last = presync.process(batch, tip_work, test_now(), n == want);
        s.kinds.push_back(s.last.kind);
        s.max_memory = std::max(s.max_memory, presync.memory_usage());
        if (!s.last.headers_to_store.empty()) {
            EXPECT_LE(s.last.headers_to_store.size(), kK - 1 + n);
            s.released_sizes.push_back(s.last.headers_to_store.size());
            s.released.insert(s.released.end(), s.last.headers_to_store.begin(),
                              s.last.headers_to_store.end());
            if (on_release) on_release(s.last.headers_to_store);
        }
        if (turn > 100'000) {
            ADD_FAILURE() << "presync does not end";
            break;
        }
    }
    return s;
}

// Runs phase 1 of `presync` on `chain` in batches of 2000 until phase 2 begins.
void presync_until_redownload(HeadersPresync& presync, const std::vector<core::BlockHeader>& chain,
                              const core::ArithUint256& tip_work) {
    for (std::size_t from = 0; !presync.redownloading(); from += kK) {
        ASSERT_LT(from, chain.size());
        const std::size_t n = std::min(kK, chain.size() - from);
        const std::vector<core::BlockHeader> batch(chain.begin() + static_cast<long>(from),
                                                   chain.begin() + static_cast<long>(from + n));
        const auto out = presync.process(batch, tip_work, test_now(), n == kK);
        ASSERT_TRUE(out.kind == Kind::kContinue || out.kind == Kind::kRedownload)
            << out.reason << " " << out.detail;
    }
}

// The bytes the header promises for a default presync: fixed part, 5,000 commitments in
// pages of 64, a 2,000-header buffer, a 100-id locator.
constexpr std::size_t kDefaultBound = sizeof(HeadersPresync) + 5056 * 32 + 2000 * 80 + 100 * 32;

TEST(HeadersPresync, MemoryBoundIsTheFormulaOfTheHeader) {
    EXPECT_EQ(HeadersPresync::memory_bound(), kDefaultBound);
    EXPECT_LT(sizeof(HeadersPresync), 400u);  // as the header says
    EXPECT_LT(kDefaultBound, 330'000u);
    EXPECT_EQ(HeadersPresync::memory_bound(4000),
              sizeof(HeadersPresync) + 64 * 32 + 2000 * 80 + 100 * 32);
}

TEST(HeadersPresync, LighterChainIsAbandonedWithinTheMemoryBound) {
    IndexChain index;
    const auto peer = from_genesis(5000, 1);
    HeadersPresync presync(regtest(), index.genesis(), fork_locator(index.genesis()));
    const auto s = serve(presync, peer, {kK}, work_of(6000));
    EXPECT_EQ(s.kinds, (std::vector<Kind>{Kind::kContinue, Kind::kContinue, Kind::kAbandoned}));
    EXPECT_EQ(s.last.reason, "presync-lighter");
    EXPECT_TRUE(s.released.empty());
    EXPECT_EQ(presync.count(), 5000u);
    EXPECT_EQ(presync.work(), work_of(5000));
    EXPECT_LE(s.max_memory, kDefaultBound);
    // Phase 1 held two commitments (one page) and the one-id locator.
    EXPECT_EQ(s.max_memory, sizeof(HeadersPresync) + 64 * 32 + 1 * 32);
}

TEST(HeadersPresync, ChainEndingAtAFullBatchIsAbandonedOnTheEmptyAnswer) {
    IndexChain index;
    const auto peer = from_genesis(4000, 1);
    HeadersPresync presync(regtest(), index.genesis(), fork_locator(index.genesis()));
    const auto s = serve(presync, peer, {kK}, work_of(4000));  // equal work is not more
    EXPECT_EQ(s.kinds, (std::vector<Kind>{Kind::kContinue, Kind::kContinue, Kind::kAbandoned}));
    EXPECT_EQ(s.last.reason, "presync-lighter");
}

TEST(HeadersPresync, HeavierChainForkingAtGenesisIsRedownloadedAndStored) {
    chain::test::ChainHarness harness;
    chain::Chainstate& chain = harness.chain();
    harness.feed(chain::test::build_branch(chain::test::genesis_parent(), 3000, "ours"));
    ASSERT_EQ(chain.tip()->height, 3000u);
    const auto peer = from_genesis(3020, 7);

    HeadersPresync presync(regtest(), chain.genesis(), chain.locator(chain.genesis()));
    const auto s = serve(presync, peer, {kK}, chain.tip()->chain_work,
                         [&](const std::vector<core::BlockHeader>& headers) {
                             const auto r = chain.process_headers(headers);
                             EXPECT_TRUE(r.is_ok()) << r.to_string();
                         });
    EXPECT_EQ(s.kinds, (std::vector<Kind>{Kind::kContinue, Kind::kRedownload, Kind::kStore,
                                          Kind::kFinished}));
    // The first header with more work than our 3,000 blocks is the 3,001st.
    EXPECT_EQ(presync.target_count(), 3001u);
    EXPECT_EQ(s.released_sizes, (std::vector<std::size_t>{2000, 1020}));
    EXPECT_EQ(s.released, peer);
    EXPECT_EQ(chain.best_header()->hash, peer.back().hash());
    EXPECT_EQ(chain.best_header()->height, 3020u);
    EXPECT_EQ(chain.tip()->height, 3000u);  // the blocks are still to come
}

TEST(HeadersPresync, OddBatchSizesWorkInBothPhases) {
    IndexChain index;
    const auto peer = from_genesis(5000, 3);
    HeadersPresync presync(regtest(), index.genesis(), fork_locator(index.genesis()));
    std::size_t stored = 0;
    const auto s = serve(presync, peer, {1, 7, 1999, 500}, work_of(4500),
                         [&](const std::vector<core::BlockHeader>& headers) {
                             stored += headers.size();
                             // Every release but the last ends at a commitment.
                             if (stored < 4501) {
                                 EXPECT_EQ(stored % kK, 0u) << stored;
                             }
                         });
    EXPECT_EQ(s.last.kind, Kind::kFinished);
    EXPECT_EQ(presync.target_count(), 4501u);
    EXPECT_GE(presync.redownloaded(), 4501u);
    ASSERT_EQ(s.released.size(), presync.redownloaded());
    EXPECT_TRUE(std::equal(s.released.begin(), s.released.end(), peer.begin()));
    // Phase 2 asks 500, 1, 7, 1999 (crossing 2,000), 500, 1, 7, then 1999 of which the
    // last 1,985 come: they cross 4,000 and the target, and end the chain.
    EXPECT_EQ(s.released_sizes, (std::vector<std::size_t>{2000, 3000}));
    EXPECT_NE(std::find(s.kinds.begin(), s.kinds.end(), Kind::kContinue), s.kinds.end());
    EXPECT_LE(s.max_memory, kDefaultBound);
}

TEST(HeadersPresync, RedownloadOfAnotherValidChainFails) {
    IndexChain index;
    const auto peer = from_genesis(2600, 1);
    const auto other = from_genesis(2600, 2);
    HeadersPresync presync(regtest(), index.genesis(), fork_locator(index.genesis()));
    presync_until_redownload(presync, peer, work_of(2500));
    const auto s = serve(presync, other, {kK}, work_of(2500));
    EXPECT_EQ(s.kinds, (std::vector<Kind>{Kind::kFailed}));
    EXPECT_EQ(s.last.reason, "presync-mismatch");
    EXPECT_TRUE(s.released.empty());
}

TEST(HeadersPresync, HeaderSwappedBeforeOrAfterACommitmentFails) {
    IndexChain index;
    const auto peer = from_genesis(2600, 1);
    {
        // Swapped after the commitment at 2,000: the first chunk is proven and released,
        // the target is not met.
        HeadersPresync presync(regtest(), index.genesis(), fork_locator(index.genesis()));
        presync_until_redownload(presync, peer, work_of(2500));
        const auto s = serve(presync, diverge(peer, 2300, 300, 9), {kK}, work_of(2500));
        EXPECT_EQ(s.kinds, (std::vector<Kind>{Kind::kStore, Kind::kFailed}));
        EXPECT_EQ(s.last.reason, "presync-mismatch");
        EXPECT_EQ(s.released_sizes, (std::vector<std::size_t>{2000}));
    }
    {
        // Swapped before it: nothing is released.
        HeadersPresync presync(regtest(), index.genesis(), fork_locator(index.genesis()));
        presync_until_redownload(presync, peer, work_of(2500));
        const auto s = serve(presync, diverge(peer, 1000, 1600, 9), {kK}, work_of(2500));
        EXPECT_EQ(s.kinds, (std::vector<Kind>{Kind::kFailed}));
        EXPECT_EQ(s.last.reason, "presync-mismatch");
        EXPECT_TRUE(s.released.empty());
    }
}

TEST(HeadersPresync, TruncatedOrBrokenRedownloadFails) {
    IndexChain index;
    const auto peer = from_genesis(2600, 1);
    const std::vector<core::BlockHeader> first(peer.begin(), peer.begin() + 2000);
    {
        // A header left out of the chunk breaks the chain of ids.
        HeadersPresync presync(regtest(), index.genesis(), fork_locator(index.genesis()));
        presync_until_redownload(presync, peer, work_of(2500));
        auto gap = first;
        gap.erase(gap.begin() + 1500);
        const auto out = presync.process(gap, work_of(2500), test_now(), true);
        EXPECT_EQ(out.kind, Kind::kFailed);
        EXPECT_EQ(out.reason, "presync-non-continuous");
        EXPECT_TRUE(out.headers_to_store.empty());
    }
    {
        // The peer stops before the target it showed.
        HeadersPresync presync(regtest(), index.genesis(), fork_locator(index.genesis()));
        presync_until_redownload(presync, peer, work_of(2500));
        ASSERT_EQ(presync.process(first, work_of(2500), test_now(), true).kind, Kind::kStore);
        const std::vector<core::BlockHeader> short_batch(peer.begin() + 2000, peer.begin() + 2400);
        const auto out = presync.process(short_batch, work_of(2500), test_now(), false);
        EXPECT_EQ(out.kind, Kind::kFailed);
        EXPECT_EQ(out.reason, "presync-mismatch");
        EXPECT_TRUE(out.headers_to_store.empty());
    }
    {
        // An empty answer in phase 2 is the same.
        HeadersPresync presync(regtest(), index.genesis(), fork_locator(index.genesis()));
        presync_until_redownload(presync, peer, work_of(2500));
        const auto out = presync.process({}, work_of(2500), test_now(), false);
        EXPECT_EQ(out.kind, Kind::kFailed);
        EXPECT_EQ(out.reason, "presync-mismatch");
    }
    {
        // Past the target, a header that does not follow.
        HeadersPresync presync(regtest(), index.genesis(), fork_locator(index.genesis()));
        presync_until_redownload(presync, peer, work_of(2500));
        ASSERT_EQ(presync.process(first, work_of(2500), test_now(), true).kind, Kind::kStore);
        std::vector<core::BlockHeader> rest(peer.begin() + 2000, peer.end());
        rest.erase(rest.begin() + 550);  // header 2,551: the target is 2,501
        const auto out = presync.process(rest, work_of(2500), test_now(), false);
        EXPECT_EQ(out.kind, Kind::kFailed);
        EXPECT_EQ(out.reason, "presync-non-continuous");
    }
    {
        // Phase 1 checks continuity too.
        HeadersPresync presync(regtest(), index.genesis(), fork_locator(index.genesis()));
        auto gap = first;
        gap.erase(gap.begin() + 10);
        const auto out = presync.process(gap, work_of(2500), test_now(), true);
        EXPECT_EQ(out.kind, Kind::kFailed);
        EXPECT_EQ(out.reason, "presync-non-continuous");
    }
}

TEST(HeadersPresync, HeadersPastTheTargetAreReleasedWithTheLastChunk) {
    IndexChain index;
    const auto peer = from_genesis(2600, 1);
    HeadersPresync presync(regtest(), index.genesis(), fork_locator(index.genesis()));
    presync_until_redownload(presync, peer, work_of(2500));
    const auto s = serve(presync, peer, {kK}, work_of(2500));
    EXPECT_EQ(s.kinds, (std::vector<Kind>{Kind::kStore, Kind::kFinished}));
    EXPECT_EQ(presync.target_count(), 2501u);
    EXPECT_EQ(s.released_sizes, (std::vector<std::size_t>{2000, 600}));
    EXPECT_EQ(s.released, peer);
}

// Each broken header is refused by the presync with the token chain/ gives it.
TEST(HeadersPresync, InvalidHeadersFailWithTheChainsToken) {
    chain::test::ChainHarness harness;
    chain::Chainstate& chain = harness.chain();
    const auto ours = from_genesis(20, 1);
    ASSERT_TRUE(chain.process_headers(ours).is_ok());
    const chain::BlockIndex* fork = chain.lookup(ours.back().hash());
    ASSERT_NE(fork, nullptr);
    const std::int64_t now = harness.clock().now_seconds();
    const std::uint32_t bits = regtest().pow_limit_bits;
    // The median of the times of heights 10 to 20: the header at height 15.
    const std::uint32_t mtp = ours[14].time;
    ASSERT_EQ(fork->median_time_past(), mtp);

    struct Case {
        std::string name;
        core::BlockHeader header;
        Kind kind;
        std::string reason;
    };
    const auto drift = static_cast<std::uint32_t>(regtest().max_future_drift);
    const auto at = [&](std::uint32_t time, std::uint32_t b) {
        return mine_header(regtest(), fork->hash, time, b, 5, 21);
    };
    // Bits that do not decode cannot be mined for: set them after.
    const auto with_bits = [](core::BlockHeader h, std::uint32_t b) {
        h.bits = b;
        return h;
    };
    const std::vector<Case> cases = {
        {"good", at(mtp + 1, bits), Kind::kContinue, ""},
        {"unmined", unmined(at(fork->header.time + 10, bits), regtest()), Kind::kFailed,
         "presync-invalid-header: high-hash"},
        {"easier than the limit", with_bits(at(fork->header.time + 10, bits), 0x2100ffff),
         Kind::kFailed, "presync-invalid-header: bad-diffbits"},
        {"not the bits of the rule", at(fork->header.time + 10, 0x207ffffe), Kind::kFailed,
         "presync-invalid-header: bad-diffbits"},
        {"median time", at(mtp, bits), Kind::kContinue, ""},
        {"below the median time", at(mtp - 1, bits), Kind::kFailed,
         "presync-invalid-header: time-too-old"},
        {"at the drift", at(static_cast<std::uint32_t>(now) + drift, bits), Kind::kContinue, ""},
        {"past the drift", at(static_cast<std::uint32_t>(now) + drift + 1, bits), Kind::kAbandoned,
         "time-too-new"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        HeadersPresync presync(regtest(), fork, chain.locator(fork));
        const auto out = presync.process({c.header}, work_of(1000), now, true);
        EXPECT_EQ(out.kind, c.kind) << out.detail;
        EXPECT_EQ(out.reason, c.reason);
        const auto r = chain.process_header(c.header);
        if (c.kind == Kind::kContinue) {
            EXPECT_TRUE(r.is_ok()) << r.to_string();
        } else if (c.kind == Kind::kAbandoned) {
            EXPECT_EQ(r.code, core::ValidationCode::kTimeFuture);
            EXPECT_EQ(r.reason, c.reason);
        } else {
            EXPECT_EQ(r.code, core::ValidationCode::kInvalid);
            EXPECT_EQ("presync-invalid-header: " + r.reason, c.reason);
        }
    }
}

// Past the fork's ancestors the median is over the last 11 headers received.
TEST(HeadersPresync, MedianTimeFollowsTheLastElevenHeaders) {
    IndexChain index;
    const auto* fork = index.extend(from_genesis(3, 1));
    const auto peer = make_chain(fork->header, 30, 2);
    IndexChain reference;
    reference.extend(from_genesis(3, 1));
    const std::int64_t mtp = reference.extend(peer)->median_time_past();
    ASSERT_EQ(mtp, peer[24].time);
    // Regtest allows a time equal to the median: one second under it is the first refused.
    for (const std::uint32_t time : {static_cast<std::uint32_t>(mtp - 1), peer[24].time + 0u}) {
        HeadersPresync presync(regtest(), fork, fork_locator(fork));
        auto batch = peer;
        batch.push_back(
            mine_header(regtest(), peer.back().hash(), time, regtest().pow_limit_bits, 3, 31));
        const auto out = presync.process(batch, work_of(1000), test_now(), true);
        if (time < mtp) {
            EXPECT_EQ(out.reason, "presync-invalid-header: time-too-old");
        } else {
            EXPECT_EQ(out.kind, Kind::kContinue) << out.reason;
            EXPECT_EQ(presync.count(), 31u);
        }
    }
}

// dev retargets after every block; the block after genesis takes the grandparent time
// chain/ gives genesis (its time minus the spacing).
TEST(HeadersPresync, DevBitsFollowTheRuleFromGenesis) {
    const core::Params& p = dev();
    IndexChain index(p);
    const chain::BlockIndex* g = index.genesis();
    const std::int64_t gt = g->header.time;
    const std::uint32_t bits1 =
        core::next_work_required(g->header.bits, gt, gt - p.target_spacing, p);
    const auto h1 = mine_header(p, g->hash, g->header.time + 1, bits1, 1, 1);
    const std::uint32_t bits2 = core::next_work_required(h1.bits, h1.time, gt, p);
    ASSERT_NE(bits2, p.pow_limit_bits);  // solved in 1 s: harder
    const auto h2 = mine_header(p, h1.hash(), h1.time + 1, bits2, 1, 2);
    {
        HeadersPresync presync(p, g, fork_locator(g));
        const auto out = presync.process({h1, h2}, core::ArithUint256(~0ull), test_now(p), true);
        EXPECT_EQ(out.kind, Kind::kContinue) << out.reason << " " << out.detail;
        EXPECT_EQ(presync.count(), 2u);
    }
    {
        // The easiest bits after a 1 s block are wrong.
        const auto easy = mine_header(p, h1.hash(), h1.time + 1, p.pow_limit_bits, 1, 2);
        HeadersPresync presync(p, g, fork_locator(g));
        const auto out = presync.process({h1, easy}, core::ArithUint256(~0ull), test_now(p), true);
        EXPECT_EQ(out.kind, Kind::kFailed);
        EXPECT_EQ(out.reason, "presync-invalid-header: bad-diffbits");
    }
    {
        // Bits computed as if genesis had a grandparent of its own time are wrong.
        const std::uint32_t wrong = core::next_work_required(g->header.bits, gt, gt, p);
        ASSERT_NE(wrong, bits1);
        const auto bad = mine_header(p, g->hash, g->header.time + 1, wrong, 2, 1);
        HeadersPresync presync(p, g, fork_locator(g));
        const auto out = presync.process({bad}, core::ArithUint256(~0ull), test_now(p), true);
        EXPECT_EQ(out.kind, Kind::kFailed);
        EXPECT_EQ(out.reason, "presync-invalid-header: bad-diffbits");
    }
}

TEST(HeadersPresync, LengthCapEndsThePresync) {
    IndexChain index;
    const auto peer = from_genesis(4000, 1);
    {
        HeadersPresync presync(regtest(), index.genesis(), fork_locator(index.genesis()), 3000);
        const auto s = serve(presync, peer, {1000}, work_of(10'000));
        EXPECT_EQ(s.kinds, (std::vector<Kind>{Kind::kContinue, Kind::kContinue, Kind::kAbandoned}));
        EXPECT_EQ(s.last.reason, "presync-too-long");
        EXPECT_EQ(presync.count(), 3000u);
    }
    {
        // A batch that crosses the cap.
        HeadersPresync presync(regtest(), index.genesis(), fork_locator(index.genesis()), 3000);
        const auto s = serve(presync, peer, {kK}, work_of(10'000));
        EXPECT_EQ(s.kinds, (std::vector<Kind>{Kind::kContinue, Kind::kAbandoned}));
        EXPECT_EQ(s.last.reason, "presync-too-long");
        EXPECT_EQ(presync.count(), 3000u);
    }
    {
        // Overtaking our tip at the last header allowed is enough.
        HeadersPresync presync(regtest(), index.genesis(), fork_locator(index.genesis()), 3000);
        const auto s = serve(presync, peer, {1000}, work_of(2999));
        EXPECT_EQ(s.last.kind, Kind::kFinished);
        EXPECT_EQ(presync.target_count(), 3000u);
        EXPECT_LE(s.max_memory, HeadersPresync::memory_bound(3000));
    }
}

TEST(HeadersPresync, CommitmentsMemoryFollowsTheFormula) {
    IndexChain index;
    const auto* fork = index.extend(from_genesis(5, 1));
    const std::vector<core::Uint256> locator{fork->hash, index.genesis()->hash};
    HeadersPresync presync(regtest(), fork, locator);
    const std::size_t fixed = sizeof(HeadersPresync) + 2 * 32;
    EXPECT_EQ(presync.memory_usage(), fixed);

    // 65 commitments: two pages.
    const std::size_t total = 65 * kK + 10;
    const core::ArithUint256 tip_work = work_of(1'000'000);
    core::BlockHeader last = fork->header;
    for (std::size_t done = 0; done < total;) {
        const std::size_t n = std::min<std::size_t>(1999, total - done);
        const auto batch = make_chain(last, n, 4);
        last = batch.back();
        const auto out = presync.process(batch, tip_work, test_now(), true);
        ASSERT_EQ(out.kind, Kind::kContinue) << out.reason << " " << out.detail;
        done += n;
        const std::size_t commitments = done / kK;
        ASSERT_EQ(presync.commitments(), commitments);
        const std::size_t pages = (commitments + 63) / 64;
        ASSERT_EQ(presync.memory_usage(), fixed + pages * 64 * 32) << done;
    }
    EXPECT_EQ(presync.count(), total);

    // Our tip fell back below the work already seen: phase 2 adds the buffer.
    const auto out = presync.process(make_chain(last, 1, 4), work_of(5), test_now(), true);
    EXPECT_EQ(out.kind, Kind::kRedownload);
    EXPECT_EQ(presync.target_count(), total);
    EXPECT_EQ(presync.memory_usage(), fixed + 2 * 64 * 32 + kK * 80);
}

TEST(HeadersPresync, TipWorkIsReadOnEveryCall) {
    IndexChain index;
    const auto peer = from_genesis(3000, 1);
    HeadersPresync presync(regtest(), index.genesis(), fork_locator(index.genesis()));
    const std::vector<core::BlockHeader> a(peer.begin(), peer.begin() + 2000);
    const std::vector<core::BlockHeader> b(peer.begin() + 2000, peer.end());
    ASSERT_EQ(presync.process(a, work_of(2100), test_now(), true).kind, Kind::kContinue);
    // Our tip grew meanwhile: the target moves with it.
    ASSERT_EQ(presync.process(b, work_of(2500), test_now(), false).kind, Kind::kRedownload);
    EXPECT_EQ(presync.target_count(), 2501u);
}

TEST(HeadersPresync, LocatorLeadsThePeerBackToTheChainFollowed) {
    IndexChain index;
    const auto ours = from_genesis(20, 1);
    const auto* fork = index.extend(ours);
    const auto peer = make_chain(ours.back(), 2600, 2);
    // A long locator is cut to 100 ids, genesis kept last.
    std::vector<core::Uint256> long_locator{fork->hash};
    for (std::uint8_t i = 1; i < 150; ++i) {
        core::Uint256 h;
        h.data()[0] = i;
        long_locator.push_back(h);
    }
    long_locator.push_back(index.genesis()->hash);
    HeadersPresync presync(regtest(), fork, long_locator);

    auto loc = presync.locator();
    ASSERT_EQ(loc.size(), 100u);
    EXPECT_EQ(loc.front(), fork->hash);
    EXPECT_EQ(loc.back(), index.genesis()->hash);
    EXPECT_EQ(presync.expected_prev(), fork->hash);

    const std::vector<core::BlockHeader> a(peer.begin(), peer.begin() + 2000);
    ASSERT_EQ(presync.process(a, work_of(2500), test_now(), true).kind, Kind::kContinue);
    loc = presync.locator();
    ASSERT_EQ(loc.size(), 101u);
    EXPECT_EQ(loc[0], a.back().hash());
    EXPECT_EQ(loc[1], fork->hash);
    EXPECT_EQ(presync.expected_prev(), a.back().hash());

    const std::vector<core::BlockHeader> b(peer.begin() + 2000, peer.end());
    ASSERT_EQ(presync.process(b, work_of(2500), test_now(), false).kind, Kind::kRedownload);
    EXPECT_EQ(presync.expected_prev(), fork->hash);
    EXPECT_EQ(presync.locator().front(), fork->hash);
    ASSERT_EQ(presync.process(a, work_of(2500), test_now(), true).kind, Kind::kStore);
    EXPECT_EQ(presync.expected_prev(), a.back().hash());
    EXPECT_EQ(presync.locator().front(), a.back().hash());
}

}  // namespace
}  // namespace peerchain::net::peer_manager
