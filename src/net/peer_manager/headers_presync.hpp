// HeadersPresync: follows one peer's header chain that forks from our header tree with less
// work than our active tip, without storing it, until it proves to have more work than our
// tip; then downloads it again and hands it over in chunks that are proven equal to what was
// checked. So a peer cannot make us keep headers of a low-work chain: the memory it can make
// us spend on them is a constant per peer (Bitcoin Core's headers presync,
// src/headerssync.cpp, with exact instead of probabilistic commitments).
//
// Phase 1, presync: each header is checked as chain/ checks it (continuity, bits that decode
// and are not easier than the limit, proof of work, the bits of the difficulty rule after its
// parent, time above the median of the last 11, time at most max_future_drift ahead) against
// constant state: the last header, the last 11 times, the work so far, the count, and the
// full id of every kCommitmentInterval-th header counted from the fork. When the work exceeds
// the tip's, that header becomes the target and phase 2 begins. A chain that ends first is
// lighter than ours and is dropped.
//
// Phase 2, redownload: the peer is asked again from the fork. Headers are buffered until the
// next commitment index (at most kCommitmentInterval headers); the header there must have
// exactly the committed id, and then the chunk is released to be stored. Ids chain through
// prev_hash, so an equal id proves that the chunk is the one phase 1 checked. At the target
// the rest is released (with what the same batch brings past the target) and it is over.
//
// Length cap: phase 1 follows at most kMaxPresyncHeaders (10,000,000) headers past the fork;
// a fork must overtake our tip within that many headers to be followed.
//
// Memory (memory_usage(), bounded by memory_bound(max_headers)), with
// c = floor(max_headers / 2000) commitments at most:
//   sizeof(HeadersPresync)               fixed: under 400 bytes
//   + 32 * commitment capacity           <= 32 * 64 * ceil(c / 64)
//   + 80 * buffer capacity               == 80 * 2000, in phase 2 only
//   + 32 * fork locator entries          <= 32 * 100
// With the default cap that is at most 161,792 bytes of commitments (5,000 ids, allocated
// 64 at a time), 160,000 bytes of buffer and 3,200 bytes of locator: about 325 KB per peer.
// Phase 1 alone costs 16 bytes per 1,000 headers past the fork. What process() returns to
// be stored is the caller's, and lives as long as one `headers` message does.
//
// Ownership: one per peer that presyncs, owned by what handles that peer's headers. `params` and
// the Chainstate that owns `fork` must outlive it. Thread-safety: none; called on the chain
// executor only. It reads the immutable fields of `fork` and its ancestors, and never changes the
// Chainstate.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "chain/block_index.hpp"
#include "core/arith_uint256.hpp"
#include "core/block.hpp"
#include "core/params.hpp"
#include "core/uint256.hpp"

namespace peerchain::net::peer_manager {

class HeadersPresync {
  public:
    // A commitment (a full 32-byte id) every this many headers from the fork; also the most
    // headers buffered in phase 2.
    static constexpr std::size_t kCommitmentInterval = 2000;
    // Phase 1 follows at most this many headers past the fork.
    static constexpr std::uint64_t kMaxPresyncHeaders = 10'000'000;
    // Commitments are allocated this many at a time (2 KiB), so that memory_usage() is exact
    // and growing them copies little.
    static constexpr std::size_t kCommitmentPage = 64;

    struct Outcome {
        enum class Kind {
            kContinue,    // send getheaders with locator()
            kRedownload,  // phase 2 began (the rest of the batch is not needed): send
                          // getheaders with locator()
            kStore,       // store headers_to_store, then send getheaders with locator()
            kFinished,    // store headers_to_store; the presync is over: sync normally from
                          // the last header stored
            kAbandoned,   // over, nothing to store, nobody to punish (see reason)
            kFailed,      // misbehaviour: disconnect and discourage (see reason)
        };
        Kind kind = Kind::kContinue;
        // In chain order, continuing the chain from the fork or the last release; at most
        // kCommitmentInterval - 1 + headers.size() of one call.
        std::vector<core::BlockHeader> headers_to_store;
        // kAbandoned: "presync-lighter" (the chain ended before it had more work than our
        // tip), "presync-too-long" (not more work within the length cap), "time-too-new"
        // (may be valid later, as chain/ treats it).
        // kFailed: "presync-invalid-header: <token>" (the token chain/ would give:
        // bad-diffbits, high-hash, time-too-old), "presync-non-continuous" (a header whose
        // prev_hash is not the id of the one before), "presync-mismatch" (the redownloaded
        // chain is not the one of phase 1, or ends before the target).
        std::string reason;
        std::string detail;  // free text for the log: which header, which ids
    };

    // Follows the chain that continues from `fork`, a header of our tree (non-null),
    // whose locator (Chainstate::locator(fork), newest first, `fork`'s id first) is
    // `fork_locator`; it is cut to leave room for one more id in a getheaders message.
    // Tests may lower `max_headers`.
    HeadersPresync(const core::Params& params, const chain::BlockIndex* fork,
                   std::vector<core::Uint256> fork_locator,
                   std::uint64_t max_headers = kMaxPresyncHeaders);

    // One `headers` batch from the peer. Assumes the caller checked that a non-empty batch
    // starts after expected_prev() (a batch that does not may be an announcement or a
    // reorg of the peer, which is not misbehaviour), and that the presync is not done()
    // (asserted).
    // `tip_work` is our active tip's chain work now (read in phase 1 only); `now` the
    // node's clock; `full_batch` whether the peer has more after this batch (as the caller
    // decides it for a normal sync: a batch of its maximum size, or one that ends below
    // the height the peer claimed). An empty batch ends the chain.
    Outcome process(const std::vector<core::BlockHeader>& headers,
                    const core::ArithUint256& tip_work, std::int64_t now, bool full_batch);

    const chain::BlockIndex* fork() const noexcept { return fork_; }
    // The id the next batch must start after: the last header received in this phase, or
    // the fork's.
    const core::Uint256& expected_prev() const noexcept;
    // For the next getheaders: expected_prev() (unless it is the fork's), then the fork's
    // locator. At most 101 ids.
    std::vector<core::Uint256> locator() const;

    bool redownloading() const noexcept { return phase_ == Phase::kRedownload; }
    // True once process() returned kFinished, kAbandoned or kFailed.
    bool done() const noexcept { return phase_ == Phase::kDone; }
    // Headers past the fork checked in phase 1, and their work plus the fork's chain work.
    std::uint64_t count() const noexcept { return count_; }
    const core::ArithUint256& work() const noexcept { return work_; }
    // Phase 2: the number past the fork of the header whose chain first had more work than
    // our tip (0 before phase 2), and how many headers were redownloaded so far.
    std::uint64_t target_count() const noexcept { return target_count_; }
    std::uint64_t redownloaded() const noexcept { return redownloaded_; }
    std::size_t commitments() const noexcept { return commitments_.size(); }

    // Bytes held by this object and its containers (their capacities, not their sizes).
    std::size_t memory_usage() const noexcept;
    // The most memory_usage() can reach with this length cap (see the top of this file).
    static std::size_t memory_bound(std::uint64_t max_headers = kMaxPresyncHeaders) noexcept;

  private:
    enum class Phase { kPresync, kRedownload, kDone };

    Outcome presync(const std::vector<core::BlockHeader>& headers,
                    const core::ArithUint256& tip_work, std::int64_t now, bool full_batch);
    Outcome redownload(const std::vector<core::BlockHeader>& headers, bool full_batch);
    Outcome start_redownload();
    Outcome finish(Outcome::Kind kind, std::string reason, std::string detail);
    std::int64_t median_time_past() const noexcept;
    void push_time(std::int64_t time) noexcept;
    void add_commitment(const core::Uint256& id);

    const core::Params& params_;
    const chain::BlockIndex* fork_;
    std::vector<core::Uint256> fork_locator_;
    std::uint64_t max_headers_;
    Phase phase_ = Phase::kPresync;

    // Phase 1: the last header checked (the fork's, before the first).
    core::Uint256 last_hash_;
    std::uint32_t last_bits_ = 0;
    std::int64_t last_time_ = 0;
    std::int64_t grandparent_time_ = 0;  // of the next header, as chain/ defines it
    // The times of the last 11 headers, from the fork's ancestors on; a ring once full.
    std::array<std::int64_t, 11> times_{};
    std::size_t times_size_ = 0;
    std::size_t times_next_ = 0;
    std::uint64_t count_ = 0;
    core::ArithUint256 work_;
    // The id of header number (i + 1) * kCommitmentInterval past the fork, for each i.
    std::vector<core::Uint256> commitments_;

    // Phase 2.
    std::uint64_t target_count_ = 0;
    core::Uint256 target_hash_;
    std::uint64_t redownloaded_ = 0;
    core::Uint256 redownload_last_;
    std::vector<core::BlockHeader> buffer_;
};

}  // namespace peerchain::net::peer_manager
