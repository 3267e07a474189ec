#include "net/peer_manager/headers_presync.hpp"

#include <algorithm>
#include <utility>

#include "core/check.hpp"
#include "core/pow.hpp"
#include "net/wire/message.hpp"
#include "util/assert.hpp"

namespace peerchain::net::peer_manager {

namespace {

// The memory bound in the header counts a header as 80 bytes and an id as 32.
static_assert(sizeof(core::BlockHeader) == 80);
static_assert(sizeof(core::Uint256) == 32);

// Room for the id of the last header received in front of the fork's locator.
constexpr std::size_t kMaxForkLocator = wire::kMaxLocatorHashes - 1;

std::string describe(std::uint64_t number, const chain::BlockIndex* fork, const core::Uint256& id) {
    return "header " + std::to_string(number) + " past the fork (height " +
           std::to_string(fork->height + number) + ") " + id.to_hex();
}

}  // namespace

HeadersPresync::HeadersPresync(const core::Params& params, const chain::BlockIndex* fork,
                               std::vector<core::Uint256> fork_locator, std::uint64_t max_headers)
    : params_(params), fork_(fork), max_headers_(max_headers) {
    NODE_ASSERT(fork != nullptr);
    NODE_ASSERT(!fork_locator.empty() && fork_locator.front() == fork->hash);
    if (fork_locator.size() > kMaxForkLocator) {
        // Keep the last entry (genesis): it lets any peer on our network find a common block.
        fork_locator[kMaxForkLocator - 1] = fork_locator.back();
        fork_locator.resize(kMaxForkLocator);
    }
    // A fresh vector: the one given may carry spare capacity (cut above, or grown by push_back).
    fork_locator_.reserve(fork_locator.size());
    fork_locator_.assign(fork_locator.begin(), fork_locator.end());

    last_hash_ = fork->hash;
    last_bits_ = fork->header.bits;
    last_time_ = fork->header.time;
    // The same grandparent as chain/ uses for the block after `fork`, genesis included.
    grandparent_time_ = fork->prev != nullptr ? std::int64_t{fork->prev->header.time}
                                              : last_time_ - params.target_spacing;
    std::array<std::int64_t, 11> newest_first{};
    std::size_t n = 0;
    for (const chain::BlockIndex* b = fork; b != nullptr && n < newest_first.size(); b = b->prev) {
        newest_first[n++] = b->header.time;
    }
    while (n > 0) push_time(newest_first[--n]);
    work_ = fork->chain_work;
    redownload_last_ = fork->hash;
}

HeadersPresync::Outcome HeadersPresync::process(const std::vector<core::BlockHeader>& headers,
                                                const core::ArithUint256& tip_work,
                                                std::int64_t now, bool full_batch) {
    NODE_ASSERT(phase_ != Phase::kDone);
    if (phase_ == Phase::kPresync) return presync(headers, tip_work, now, full_batch);
    return redownload(headers, full_batch);
}

HeadersPresync::Outcome HeadersPresync::presync(const std::vector<core::BlockHeader>& headers,
                                                const core::ArithUint256& tip_work,
                                                std::int64_t now, bool full_batch) {
    // The tip may have lost work since the last batch (a block was invalidated): what we
    // already checked may be enough.
    if (count_ > 0 && work_ > tip_work) {
        target_count_ = count_;
        target_hash_ = last_hash_;
        return start_redownload();
    }
    bool capped = false;
    for (const auto& header : headers) {
        if (count_ >= max_headers_) {
            capped = true;
            break;
        }
        const core::Uint256 hash = header.hash();
        const std::uint64_t number = count_ + 1;
        if (header.prev_hash != last_hash_) {
            return finish(
                Outcome::Kind::kFailed, "presync-non-continuous",
                describe(number, fork_, hash) + " does not follow " + last_hash_.to_hex());
        }
        // The checks and their order are those of chain/ (Chainstate's accept_header):
        // proof of work first, then the context.
        if (!core::decode_target(header.bits, params_)) {
            return finish(Outcome::Kind::kFailed, "presync-invalid-header: bad-diffbits",
                          describe(number, fork_, hash) + ": bits do not encode a valid target");
        }
        if (!core::check_proof_of_work(hash, header.bits, params_)) {
            return finish(
                Outcome::Kind::kFailed, "presync-invalid-header: high-hash",
                describe(number, fork_, hash) + ": proof of work does not meet its target");
        }
        const core::HeaderContext ctx{
            static_cast<std::uint32_t>(fork_->height + number), median_time_past(),
            core::next_work_required(last_bits_, last_time_, grandparent_time_, params_), now};
        if (auto r = core::check_header_context(header, ctx, params_); !r) {
            if (r.code == core::ValidationCode::kTimeFuture) {
                // Not the peer's fault yet (chain/ does not punish it either); the chain may
                // be followed again later.
                return finish(Outcome::Kind::kAbandoned, r.reason,
                              describe(number, fork_, hash) + ": " + r.detail);
            }
            return finish(Outcome::Kind::kFailed, "presync-invalid-header: " + r.reason,
                          describe(number, fork_, hash) + ": " + r.detail);
        }
        count_ = number;
        work_ += core::block_work(header.bits);
        grandparent_time_ = last_time_;
        last_time_ = header.time;
        last_bits_ = header.bits;
        last_hash_ = hash;
        push_time(header.time);
        if (count_ % kCommitmentInterval == 0) add_commitment(hash);
        if (work_ > tip_work) {
            // The rest of the batch is not needed: the redownload starts over at the fork.
            target_count_ = count_;
            target_hash_ = hash;
            return start_redownload();
        }
    }
    if (capped || (full_batch && !headers.empty() && count_ >= max_headers_)) {
        return finish(Outcome::Kind::kAbandoned, "presync-too-long",
                      "no more work than our tip within " + std::to_string(max_headers_) +
                          " headers past the fork");
    }
    if (headers.empty() || !full_batch) {
        return finish(Outcome::Kind::kAbandoned, "presync-lighter",
                      "the chain ends " + std::to_string(count_) +
                          " headers past the fork with no more work than our tip");
    }
    return Outcome{};
}

HeadersPresync::Outcome HeadersPresync::start_redownload() {
    phase_ = Phase::kRedownload;
    redownloaded_ = 0;
    redownload_last_ = fork_->hash;
    buffer_.reserve(kCommitmentInterval);
    Outcome out;
    out.kind = Outcome::Kind::kRedownload;
    return out;
}

HeadersPresync::Outcome HeadersPresync::redownload(const std::vector<core::BlockHeader>& headers,
                                                   bool full_batch) {
    Outcome out;
    for (const auto& header : headers) {
        const core::Uint256 hash = header.hash();
        const std::uint64_t number = redownloaded_ + 1;
        if (header.prev_hash != redownload_last_) {
            return finish(
                Outcome::Kind::kFailed, "presync-non-continuous",
                describe(number, fork_, hash) + " does not follow " + redownload_last_.to_hex());
        }
        redownloaded_ = number;
        redownload_last_ = hash;
        if (number > target_count_) {
            // Past the target the chain has more work than our tip had: nothing to prove,
            // chain/ validates these as any others.
            out.headers_to_store.push_back(header);
            continue;
        }
        // The buffer starts right after the fork or a commitment, so it holds at most
        // kCommitmentInterval headers when the next commitment index is reached.
        buffer_.push_back(header);
        const core::Uint256* expected = nullptr;
        if (number == target_count_) {
            expected = &target_hash_;
        } else if (number % kCommitmentInterval == 0) {
            const std::size_t i = number / kCommitmentInterval - 1;
            NODE_ASSERT(i < commitments_.size());
            expected = &commitments_[i];
        }
        if (expected == nullptr) continue;
        if (hash != *expected) {
            return finish(
                Outcome::Kind::kFailed, "presync-mismatch",
                describe(number, fork_, hash) + ", but presync saw " + expected->to_hex());
        }
        // Ids chain through prev_hash: an equal id here proves the whole chunk equal to
        // what phase 1 checked.
        out.headers_to_store.insert(out.headers_to_store.end(), buffer_.begin(), buffer_.end());
        buffer_.clear();
    }
    if (redownloaded_ >= target_count_) {
        Outcome done = finish(Outcome::Kind::kFinished, {}, {});
        done.headers_to_store = std::move(out.headers_to_store);
        return done;
    }
    if (headers.empty() || !full_batch) {
        // The peer showed a chain reaching the target and now cannot back it up.
        return finish(Outcome::Kind::kFailed, "presync-mismatch",
                      "the redownload ended " + std::to_string(redownloaded_) +
                          " headers past the fork, before the target at " +
                          std::to_string(target_count_));
    }
    out.kind = out.headers_to_store.empty() ? Outcome::Kind::kContinue : Outcome::Kind::kStore;
    return out;
}

HeadersPresync::Outcome HeadersPresync::finish(Outcome::Kind kind, std::string reason,
                                               std::string detail) {
    phase_ = Phase::kDone;
    std::vector<core::Uint256>().swap(commitments_);
    std::vector<core::BlockHeader>().swap(buffer_);
    Outcome out;
    out.kind = kind;
    out.reason = std::move(reason);
    out.detail = std::move(detail);
    return out;
}

const core::Uint256& HeadersPresync::expected_prev() const noexcept {
    return phase_ == Phase::kRedownload ? redownload_last_ : last_hash_;
}

std::vector<core::Uint256> HeadersPresync::locator() const {
    std::vector<core::Uint256> out;
    const core::Uint256& last = expected_prev();
    out.reserve(fork_locator_.size() + 1);
    if (last != fork_->hash) out.push_back(last);
    out.insert(out.end(), fork_locator_.begin(), fork_locator_.end());
    return out;
}

std::int64_t HeadersPresync::median_time_past() const noexcept {
    // As chain::BlockIndex::median_time_past: the middle of the last (up to) 11 times.
    std::array<std::int64_t, 11> sorted = times_;
    const auto end = sorted.begin() + static_cast<std::ptrdiff_t>(times_size_);
    std::sort(sorted.begin(), end);
    return sorted[times_size_ / 2];
}

void HeadersPresync::push_time(std::int64_t time) noexcept {
    times_[times_next_] = time;
    times_next_ = (times_next_ + 1) % times_.size();
    times_size_ = std::min(times_size_ + 1, times_.size());
}

void HeadersPresync::add_commitment(const core::Uint256& id) {
    if (commitments_.size() == commitments_.capacity()) {
        commitments_.reserve(commitments_.size() + kCommitmentPage);
    }
    commitments_.push_back(id);
}

std::size_t HeadersPresync::memory_usage() const noexcept {
    return sizeof(HeadersPresync) + commitments_.capacity() * sizeof(core::Uint256) +
           buffer_.capacity() * sizeof(core::BlockHeader) +
           fork_locator_.capacity() * sizeof(core::Uint256);
}

std::size_t HeadersPresync::memory_bound(std::uint64_t max_headers) noexcept {
    const std::uint64_t commitments = max_headers / kCommitmentInterval;
    const std::uint64_t pages = (commitments + kCommitmentPage - 1) / kCommitmentPage;
    return sizeof(HeadersPresync) +
           static_cast<std::size_t>(pages) * kCommitmentPage * sizeof(core::Uint256) +
           kCommitmentInterval * sizeof(core::BlockHeader) +
           kMaxForkLocator * sizeof(core::Uint256);
}

}  // namespace peerchain::net::peer_manager
