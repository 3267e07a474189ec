#include "mining/miner.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/pow.hpp"
#include "crypto/header_scanner.hpp"
#include "util/assert.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::mining {

namespace {

using SteadyClock = std::chrono::steady_clock;

// The hash rate is the hashes of the last kRateWindow, sampled every kSampleEvery.
constexpr auto kRateWindow = std::chrono::seconds(5);
constexpr auto kSampleEvery = std::chrono::milliseconds(250);
// Before building again after the chain's time floor ran ahead of the clock.
constexpr auto kRetryDelay = std::chrono::milliseconds(500);
// Before mining again after the chain refused a block mined continuously: something is
// wrong with our templates, and a tight loop would only fill the log.
constexpr auto kRefusedDelay = std::chrono::seconds(1);

constexpr std::uint64_t kNonceSpace = std::uint64_t{1} << 32;
// Bounds of a worker's chunk, which it sizes to take MinerOptions::chunk_time. The floor
// keeps the per-chunk cost (an atomic load, a clock read, a counter) under 0.1% even on
// the portable path.
constexpr std::uint32_t kMinChunk = 1u << 12;
constexpr std::uint32_t kMaxChunk = 1u << 24;

struct Request {
    CoinbaseSpec spec;
    MineCallback done;
};

struct Job {
    std::uint64_t generation;
    BlockTemplate tmpl;
    std::shared_ptr<Request> request;  // null for continuous mining
    SteadyClock::time_point built;
};

// A found block waiting for the chain's verdict.
struct Submitted {
    core::BlockPtr block;
    std::uint32_t height;
    std::shared_ptr<Request> request;  // null for continuous mining
};

void name_thread(const std::string& name) {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

void run_callback(const MineCallback& done, MineResult result) noexcept {
    try {
        done(std::move(result));
    } catch (const std::exception& e) {
        spdlog::error("miner: request callback threw: {}", e.what());
    } catch (...) {
        spdlog::error("miner: request callback threw");
    }
}

MineResult unavailable(std::string why) {
    MineResult result;
    result.error = util::Error{util::Errc::kUnavailable, std::move(why)};
    return result;
}

}  // namespace

class Miner::Impl : public std::enable_shared_from_this<Miner::Impl> {
  public:
    Impl(const core::Params& params, ContextSource context, BlockSink& sink,
         const util::Clock& clock, MinerOptions options)
        : params_(params),
          context_(std::move(context)),
          sink_(sink),
          assembler_(params, clock),
          options_(options),
          workers_(options.threads != 0 ? options.threads
                                        : std::max(1u, std::thread::hardware_concurrency())) {
        NODE_ASSERT(options_.chunk_time.count() > 0);
    }

    ~Impl() {
        // The sink never answered (the node went down first): the request must still end.
        if (submitted_ && submitted_->request) {
            run_callback(submitted_->request->done, unavailable("the miner stopped"));
        }
    }

    void start();
    void stop();
    util::Result<void> start_continuous(CoinbaseSpec spec);
    void stop_continuous();
    util::Result<void> request(CoinbaseSpec spec, MineCallback done);
    void on_tip_changed();
    MinerStats stats() const;

  private:
    void coordinator_main();
    // Unlocks mutex_ while it builds the template and while a refused request's callback runs.
    void rebuild() REQUIRES(mutex_);
    void worker_main(unsigned index);
    // `chunk` is the worker's chunk size, carried from job to job.
    void hash_job(const Job& job, unsigned index, std::uint32_t& chunk);
    void found(const Job& job, core::Block block, std::uint32_t height);
    void on_verdict(const core::BlockPtr& block, core::ValidationResult verdict);
    void sample(SteadyClock::time_point now) REQUIRES(mutex_);
    // The job being hashed is older than pool_refresh and the pool changed since it was
    // built.
    bool pool_changed(SteadyClock::time_point now) const REQUIRES(mutex_) {
        return options_.pool != nullptr && job_ && !submitted_ &&
               now - job_->built >= options_.pool_refresh &&
               options_.pool->generation() != job_->tmpl.pool_generation;
    }
    double hash_rate(SteadyClock::time_point now) const REQUIRES(mutex_);
    // Drops the job being hashed and has the coordinator build the next one.
    void invalidate() REQUIRES(mutex_) {
        generation_.fetch_add(1);
        dirty_ = true;
    }

    const core::Params& params_;
    const ContextSource context_;
    BlockSink& sink_;
    const BlockAssembler assembler_;
    const MinerOptions options_;
    const unsigned workers_;

    // Bumped whenever the job being hashed goes stale; workers compare it with their job's
    // between chunks.
    std::atomic<std::uint64_t> generation_{1};
    std::atomic<std::uint64_t> hashes_{0};
    std::atomic<std::uint64_t> blocks_found_{0};
    std::atomic<std::uint64_t> blocks_accepted_{0};
    std::atomic<unsigned> active_{0};

    mutable util::Mutex mutex_;
    std::condition_variable work_cv_;         // workers: a new job, or stopping
    std::condition_variable coordinator_cv_;  // coordinator: dirty_, or stopping
    std::vector<std::thread> threads_ GUARDED_BY(mutex_);
    bool started_ GUARDED_BY(mutex_) = false;
    bool stopping_ GUARDED_BY(mutex_) = false;
    bool dirty_ GUARDED_BY(mutex_) = false;  // job_ must be rebuilt
    std::deque<std::shared_ptr<Request>> requests_ GUARDED_BY(mutex_);
    std::optional<CoinbaseSpec> continuous_ GUARDED_BY(mutex_);
    std::shared_ptr<const Job> job_ GUARDED_BY(mutex_);
    std::optional<Submitted> submitted_ GUARDED_BY(mutex_);
    SteadyClock::time_point not_before_ GUARDED_BY(mutex_);  // no template before then
    std::string last_build_error_ GUARDED_BY(mutex_);
    std::deque<std::pair<SteadyClock::time_point, std::uint64_t>> samples_ GUARDED_BY(mutex_);
};

void Miner::Impl::start() {
    util::LockGuard lock(mutex_);
    NODE_ASSERT(!started_ && !stopping_);
    started_ = true;
    dirty_ = true;
    try {
        threads_.emplace_back([this] { coordinator_main(); });
        for (unsigned i = 0; i < workers_; ++i) {
            threads_.emplace_back([this, i] { worker_main(i); });
        }
    } catch (...) {
        // The threads made so far wait on mutex_; stop() ends them.
        stopping_ = true;
        throw;
    }
}

void Miner::Impl::stop() {
    std::vector<std::thread> threads;
    std::vector<std::shared_ptr<Request>> failed;
    {
        util::LockGuard lock(mutex_);
        stopping_ = true;
        generation_.fetch_add(1);
        job_.reset();
        std::deque<std::shared_ptr<Request>> kept;
        for (auto& r : requests_) {
            if (submitted_ && submitted_->request == r) {
                kept.push_back(std::move(r));  // the sink will give its verdict
            } else {
                failed.push_back(std::move(r));
            }
        }
        requests_ = std::move(kept);
        threads.swap(threads_);
    }
    work_cv_.notify_all();
    coordinator_cv_.notify_all();
    for (auto& t : threads) t.join();
    for (const auto& r : failed) run_callback(r->done, unavailable("the miner stopped"));
}

util::Result<void> Miner::Impl::start_continuous(CoinbaseSpec spec) {
    if (auto ok = check_coinbase_spec(spec, params_); !ok) return ok;
    {
        util::LockGuard lock(mutex_);
        if (stopping_) return util::Unexpected(util::Errc::kUnavailable, "the miner is stopped");
        continuous_ = std::move(spec);
        if (requests_.empty() && !submitted_) invalidate();
    }
    coordinator_cv_.notify_one();
    return {};
}

void Miner::Impl::stop_continuous() {
    {
        util::LockGuard lock(mutex_);
        if (!continuous_) return;
        continuous_.reset();
        if (requests_.empty() && !submitted_) invalidate();
    }
    coordinator_cv_.notify_one();
}

util::Result<void> Miner::Impl::request(CoinbaseSpec spec, MineCallback done) {
    if (auto ok = check_coinbase_spec(spec, params_); !ok) return ok;
    {
        util::LockGuard lock(mutex_);
        if (stopping_) return util::Unexpected(util::Errc::kUnavailable, "the miner is stopped");
        if (requests_.size() >= options_.max_requests) {
            return util::Unexpected(
                util::Errc::kUnavailable,
                std::to_string(requests_.size()) + " mining requests are pending; try again later");
        }
        requests_.push_back(std::make_shared<Request>(Request{std::move(spec), std::move(done)}));
        // The first request preempts continuous mining; later ones wait their turn, and
        // while a block is with the sink its verdict starts the next job.
        if (requests_.size() == 1 && !submitted_) invalidate();
    }
    coordinator_cv_.notify_one();
    return {};
}

void Miner::Impl::on_tip_changed() {
    // Workers see this before the coordinator even wakes.
    generation_.fetch_add(1);
    {
        util::LockGuard lock(mutex_);
        if (stopping_) return;
        // Idle: nothing to rebuild (a node that syncs without mining would otherwise wake
        // the coordinator for every block). The next request builds on the tip of its time.
        if (requests_.empty() && !continuous_ && !submitted_ && !job_) return;
        dirty_ = true;
    }
    coordinator_cv_.notify_one();
}

MinerStats Miner::Impl::stats() const {
    MinerStats s;
    s.hashes = hashes_.load();
    s.blocks_found = blocks_found_.load();
    s.blocks_accepted = blocks_accepted_.load();
    s.threads = workers_;
    s.active_threads = active_.load();
    util::LockGuard lock(mutex_);
    s.hash_rate = hash_rate(SteadyClock::now());
    s.running = started_ && !stopping_;
    s.continuous = continuous_.has_value();
    s.requests = requests_.size();
    if (job_ && job_->generation == generation_.load()) {
        s.work_parent = job_->tmpl.block.header.prev_hash;
        s.work_height = job_->tmpl.height;
        s.work_transactions = job_->tmpl.block.txs.size() - 1;
        s.work_fees = job_->tmpl.fees;
    }
    return s;
}

void Miner::Impl::sample(SteadyClock::time_point now) {
    if (!samples_.empty() && now - samples_.back().first < kSampleEvery) return;
    samples_.emplace_back(now, hashes_.load());
    while (samples_.size() > 1 && now - samples_.front().first > kRateWindow) {
        samples_.pop_front();
    }
}

double Miner::Impl::hash_rate(SteadyClock::time_point now) const {
    if (samples_.empty()) return 0;
    const std::chrono::duration<double> elapsed = now - samples_.front().first;
    if (elapsed.count() <= 0) return 0;
    return static_cast<double>(hashes_.load() - samples_.front().second) / elapsed.count();
}

void Miner::Impl::coordinator_main() {
    name_thread("miner-coord");
    util::UniqueLock lock(mutex_);
    while (!stopping_) {
        try {
            const auto now = SteadyClock::now();
            sample(now);
            if (!dirty_ && pool_changed(now)) dirty_ = true;
            const bool can_build = dirty_ && !submitted_;
            if (can_build && now >= not_before_) {
                rebuild();
                continue;
            }
            auto wake = now + kSampleEvery;
            if (can_build) wake = std::min(wake, not_before_);
            coordinator_cv_.wait_until(lock, wake);
        } catch (const std::exception& e) {
            // Still locked: rebuild() takes mutex_ back when an exception leaves it.
            spdlog::error("miner-coord: {} (retrying)", e.what());
            dirty_ = true;
            not_before_ = SteadyClock::now() + kRetryDelay;
        }
    }
}

void Miner::Impl::rebuild() {
    dirty_ = false;
    // Whatever was hashed before is stale from here on.
    const std::uint64_t generation = generation_.fetch_add(1) + 1;
    std::shared_ptr<Request> request;
    std::optional<CoinbaseSpec> spec;
    if (!requests_.empty()) {
        request = requests_.front();
        spec = request->spec;
    } else if (continuous_) {
        spec = *continuous_;
    }
    if (!spec) {
        job_.reset();
        return;
    }

    util::Result<BlockTemplate> tmpl = util::Unexpected(util::Errc::kUnavailable, "");
    {
        util::ReverseLock unlocked(mutex_);
        try {
            tmpl = assembler_.create(context_(), *spec, options_.pool);
        } catch (const std::exception& e) {
            tmpl =
                util::Unexpected(util::Errc::kUnavailable, std::string("exception: ") + e.what());
        } catch (...) {
            tmpl = util::Unexpected(util::Errc::kUnavailable, "exception");
        }
    }

    if (stopping_) return;
    if (dirty_ || submitted_ || generation_.load() != generation) {
        dirty_ = true;  // the tip or the work changed while we built: build again
        return;
    }
    if (!tmpl) {
        const util::Error& error = tmpl.error();
        if (request && error.code == util::Errc::kInvalidArgument) {
            requests_.erase(std::find(requests_.begin(), requests_.end(), request));
            MineResult result;
            result.error = error;
            dirty_ = true;
            util::ReverseLock unlocked(mutex_);
            spdlog::warn("miner: cannot build a block for a request: {}", error.to_string());
            run_callback(request->done, std::move(result));
            return;
        }
        if (error.message != last_build_error_) {
            spdlog::warn("miner: cannot build a block template (retrying): {}", error.to_string());
            last_build_error_ = error.message;
        }
        not_before_ = SteadyClock::now() + kRetryDelay;
        dirty_ = true;
        return;
    }
    last_build_error_.clear();
    job_ = std::make_shared<const Job>(
        Job{generation, std::move(*tmpl), std::move(request), SteadyClock::now()});
    work_cv_.notify_all();
}

void Miner::Impl::worker_main(unsigned index) {
    name_thread("miner-" + std::to_string(index));
    std::uint64_t last = 0;
    std::uint32_t chunk = kMinChunk;
    for (;;) {
        std::shared_ptr<const Job> job;
        {
            util::UniqueLock lock(mutex_);
            while (!stopping_ &&
                   !(job_ && job_->generation != last && job_->generation == generation_.load())) {
                work_cv_.wait(lock);
            }
            if (stopping_) return;
            job = job_;
            last = job->generation;
        }
        active_.fetch_add(1);
        try {
            hash_job(*job, index, chunk);
        } catch (const std::exception& e) {
            spdlog::error("miner-{}: {}", index, e.what());
        } catch (...) {
            spdlog::error("miner-{}: unknown exception", index);
        }
        active_.fetch_sub(1);
    }
}

void Miner::Impl::hash_job(const Job& job, unsigned index, std::uint32_t& chunk) {
    // This worker's slice of the nonces; slices never overlap, so every worker may run
    // through the same extra nonces.
    const std::uint64_t begin = kNonceSpace * index / workers_;
    const std::uint64_t end = kNonceSpace * (index + 1) / workers_;
    BlockTemplate tmpl = job.tmpl;
    for (;;) {
        const auto header = tmpl.block.header.encode();
        crypto::HeaderScanner scanner(header);
        std::uint32_t time = tmpl.block.header.time;
        for (std::uint64_t next = begin; next < end;) {
            if (generation_.load(std::memory_order_relaxed) != job.generation) return;
            if (const auto now = assembler_.block_time(tmpl.min_time); now && *now != time) {
                time = *now;
                scanner.set_time(time);
            }
            const auto count =
                static_cast<std::uint32_t>(std::min<std::uint64_t>(chunk, end - next));
            std::uint64_t tried = 0;
            const auto started = SteadyClock::now();
            const auto nonce =
                scanner.scan(static_cast<std::uint32_t>(next), count, tmpl.target_le, &tried);
            const auto took = SteadyClock::now() - started;
            hashes_.fetch_add(tried, std::memory_order_relaxed);
            if (count == chunk) {
                if (took < options_.chunk_time / 2 && chunk < kMaxChunk) chunk *= 2;
                if (took > options_.chunk_time * 2 && chunk > kMinChunk) chunk /= 2;
            }
            if (nonce) {
                tmpl.block.header.time = time;
                tmpl.block.header.nonce = *nonce;
                found(job, std::move(tmpl.block), tmpl.height);
                return;
            }
            next += count;
        }
        BlockAssembler::set_extra_nonce(tmpl, tmpl.extra_nonce + 1);
    }
}

void Miner::Impl::found(const Job& job, core::Block block, std::uint32_t height) {
    auto ptr = std::make_shared<const core::Block>(std::move(block));
    const core::Uint256 hash = ptr->hash();
    if (!core::check_proof_of_work(hash, ptr->header.bits, params_)) {
        spdlog::error("miner: block {} does not meet its target; dropped", hash.to_hex());
        return;
    }
    double rate = 0;
    {
        util::LockGuard lock(mutex_);
        // Another worker found one first, or the work changed meanwhile.
        if (stopping_ || submitted_ || generation_.load() != job.generation) return;
        generation_.fetch_add(1);
        job_.reset();
        submitted_ = Submitted{ptr, height, job.request};
        rate = hash_rate(SteadyClock::now());
    }
    blocks_found_.fetch_add(1);
    spdlog::info("miner: found block {} at height {} ({:.2f} MH/s{})", hash.to_hex(), height,
                 rate / 1e6, job.request ? ", requested" : "");
    std::weak_ptr<Impl> weak = weak_from_this();
    try {
        sink_.submit(ptr, [weak, ptr](core::ValidationResult verdict) {
            try {
                if (auto self = weak.lock()) self->on_verdict(ptr, std::move(verdict));
            } catch (const std::exception& e) {
                spdlog::error("miner: handling the verdict on {}: {}", ptr->hash().to_hex(),
                              e.what());
            }
        });
    } catch (const std::exception& e) {
        // Without a verdict nothing else would ever be mined.
        on_verdict(ptr, core::ValidationResult::fail(core::ValidationCode::kInternal,
                                                     "submit-failed", e.what()));
    }
}

void Miner::Impl::on_verdict(const core::BlockPtr& block, core::ValidationResult verdict) {
    // `done` runs right after the chain processed the block, so the context it gives now
    // tells whether the block became the tip or lost a race to another at its height.
    bool became_tip = false;
    if (verdict.is_ok()) {
        blocks_accepted_.fetch_add(1);
        try {
            const auto context = context_();
            became_tip = context.parent != nullptr && context.parent->hash == block->hash();
        } catch (const std::exception& e) {
            spdlog::error("miner: reading the tip: {}", e.what());
        }
    } else {
        spdlog::warn("miner: the chain refused block {}: {}", block->hash().to_hex(),
                     verdict.to_string());
    }

    std::shared_ptr<Request> resolved;
    MineResult result;
    {
        util::LockGuard lock(mutex_);
        if (!submitted_ || submitted_->block != block) return;
        Submitted s = std::move(*submitted_);
        submitted_.reset();
        dirty_ = true;
        if (!s.request) {
            if (!verdict.is_ok()) not_before_ = SteadyClock::now() + kRefusedDelay;
        } else if (verdict.is_ok() && !became_tip && !stopping_) {
            spdlog::info("miner: block {} did not become the tip; mining the request again",
                         block->hash().to_hex());
        } else {
            requests_.erase(std::find(requests_.begin(), requests_.end(), s.request));
            resolved = std::move(s.request);
            result.block = block;
            result.height = s.height;
            result.verdict = std::move(verdict);
            if (result.verdict.is_ok() && !became_tip) {
                result.error = util::Error{util::Errc::kUnavailable,
                                           "the miner stopped before the block became the tip"};
            }
        }
    }
    coordinator_cv_.notify_one();
    if (resolved) run_callback(resolved->done, std::move(result));
}

Miner::Miner(const core::Params& params, ContextSource next_block_context, BlockSink& sink,
             const util::Clock& clock, MinerOptions options)
    : impl_(std::make_shared<Impl>(params, std::move(next_block_context), sink, clock, options)) {}

Miner::~Miner() { impl_->stop(); }

void Miner::start() { impl_->start(); }
void Miner::stop() { impl_->stop(); }
util::Result<void> Miner::start_continuous(CoinbaseSpec spec) {
    return impl_->start_continuous(std::move(spec));
}
void Miner::stop_continuous() { impl_->stop_continuous(); }
util::Result<void> Miner::request(CoinbaseSpec spec, MineCallback done) {
    return impl_->request(std::move(spec), std::move(done));
}
void Miner::on_tip_changed() { impl_->on_tip_changed(); }
void Miner::on_tip_changed(const chain::BlockIndex*, const chain::BlockIndex*,
                           const chain::BlockIndex*) {
    impl_->on_tip_changed();
}
MinerStats Miner::stats() const { return impl_->stats(); }

}  // namespace peerchain::mining
