#include "node/node.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <thread>
#include <unordered_map>

#include "api/auth.hpp"
#include "api/event_stream.hpp"
#include "api/node_api.hpp"
#include "api/router.hpp"
#include "api/routes.hpp"
#include "api/server/http_server.hpp"
#include "chain/chainstate.hpp"
#include "chain/event_bus.hpp"
#include "core/address.hpp"
#include "crypto/schnorr.hpp"
#include "mempool/mempool.hpp"
#include "mining/miner.hpp"
#include "net/connman/connman.hpp"
#include "net/peer_manager/peer_manager.hpp"
#include "node/coin_stats_job.hpp"
#include "node/event_feed.hpp"
#include "node/index_builder.hpp"
#include "node/node_metrics.hpp"
#include "node/peer_views.hpp"
#include "node/sync_progress.hpp"
#include "store/leveldb_database.hpp"
#include "util/event_ring.hpp"
#include "util/executor.hpp"
#include "util/file.hpp"
#include "util/metrics.hpp"
#include "util/stop_signal.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"
#include "wallet/coins.hpp"
#include "wallet/wallet.hpp"

namespace peerchain::node {

namespace {

constexpr const char* kUserAgent = "/peerchain:" PEERCHAIN_VERSION "/";

}  // namespace

class Node::Impl final : public chain::ChainObserver,
                         public mining::BlockSink,
                         public api::NodeApi {
  public:
    explicit Impl(NodeConfig config) : config_(std::move(config)) {}
    ~Impl() override { stop(); }

    util::Result<void> start();
    void stop();
    void wait(const std::function<bool()>& stop_requested);

    std::uint16_t http_port() const noexcept { return http_ ? http_->port() : 0; }
    std::uint16_t p2p_port() const noexcept { return connman_ ? connman_->listen_port() : 0; }

    // --- chain::ChainObserver (chain executor): the event bus's last subscriber ---------
    void on_tip_changed(const chain::BlockIndex* new_tip, const chain::BlockIndex* old_tip,
                        const chain::BlockIndex* /*fork*/) override {
        // The chain logs reorgs (with depth) and rejected blocks; the peer manager logs peers
        // coming and going. Here: each new tip, except while the best header is further
        // ahead (a sync, whose progress SyncProgress reports every few seconds instead).
        // Only the heights decide, not SyncProgress's tick, so that a block arriving just
        // after its header is always logged (bench/propagation_scenario.py reads these).
        const std::uint32_t best = chain_->best_header()->height;
        if (best <= new_tip->height + 1 && new_tip->height - (old_tip ? old_tip->height : 0) < 2) {
            spdlog::info("new tip {} at height {}", new_tip->hash.to_hex(), new_tip->height);
        }
    }
    void on_block_rejected(const core::Uint256& /*hash*/,
                           const core::ValidationResult& why) override {
        // Our own failure (the store) is no reason to go on with a chain we cannot trust.
        if (why.code == core::ValidationCode::kInternal)
            fatal("storage failure: " + why.to_string());
    }

    // --- mining::BlockSink (miner threads) -------------------------------------------------
    void submit(core::BlockPtr block, std::function<void(core::ValidationResult)> done) override {
        const bool queued = executor_->post(
            [this, block, done = std::move(done)] { done(chain_->process_block(block)); });
        if (!queued)
            done(core::ValidationResult::fail(core::ValidationCode::kInternal, "shutting-down"));
    }

    // --- api::NodeApi (HTTP threads) -------------------------------------------------------
    const chain::Chainstate& chain() const override { return *chain_; }
    std::vector<api::PeerView> peers() const override { return peer_views(*peers_, *connman_); }
    api::BookView address_book(std::size_t limit) const override {
        return book_view(*connman_, limit);
    }
    util::Result<void> remove_peer(const std::string& address) override {
        return connman_->remove_peer(address);
    }
    std::vector<api::BanView> bans() const override { return ban_views(*connman_); }
    util::Result<api::BanView> ban(const std::string& address, std::int64_t seconds) override {
        return node::ban(*connman_, address, seconds);
    }
    util::Result<void> unban(const std::string& address) override {
        return node::unban(*connman_, address);
    }
    api::MiningView mining() const override;
    std::string user_agent() const override { return kUserAgent; }
    std::string metrics_text() const override { return metrics_.render(); }
    std::shared_ptr<api::EventHub> event_hub() override { return hub_; }
    bool coin_stats(CoinStatsCallback done) override { return coin_stats_->run(std::move(done)); }
    util::Result<void> add_peer(const std::string& url) override {
        if (!connman_) return util::Unexpected(util::Errc::kUnavailable, "node is stopping");
        return connman_->add_peer(url);
    }
    void mine_block(util::Bytes data, std::optional<core::XOnlyKey> to,
                    MinedCallback done) override;
    const mempool::Mempool& mempool() const override { return *mempool_; }
    void submit_transaction(core::Transaction tx, TxCallback done) override;
    util::Result<std::string> wallet_address(bool fresh) override {
        if (fresh) return wallet_->new_address();
        return wallet_->address();
    }
    util::Result<api::WalletBalance> wallet_balance() const override {
        const auto b = wallet::balance(wallet_coin_list());
        return api::WalletBalance{b.confirmed, b.pending, b.immature};
    }
    util::Result<std::vector<api::WalletCoinView>> wallet_coins() const override;
    void wallet_send(api::SendRequest request, SendCallback done) override;

  private:
    void write_node_info();
    // Every output that pays a wallet key: the active chain's coins and the pool's outputs,
    // marked as wallet/coins.hpp asks. Reads the chain and the pool one after the other:
    // from an HTTP thread a block may land in between (the next call sees it); on the chain
    // executor the two agree.
    std::vector<wallet::WalletCoin> wallet_coin_list() const;
    // A transaction of this node's own (the API, the wallet) into the pool and, when it
    // enters, out to every peer. Chain executor only.
    core::ValidationResult accept_and_relay(const mempool::TxPtr& tx, core::Uint256* txid) {
        auto result = mempool_->accept(tx, txid);
        if (result) peers_->relay_transaction(*txid);
        return result;
    }
    // Who mined coins go to: --mine-to, else the wallet's receive key.
    core::XOnlyKey reward_key() const { return mine_to_ ? *mine_to_ : wallet_->key(); }
    void fatal(const std::string& why) {
        spdlog::critical("{}; shutting down", why);
        {
            util::LockGuard lock(wait_mutex_);
            fatal_ = true;
        }
        wait_cv_.notify_all();
    }
    void tick_loop();
    // The ticker's sync line and `sync` event, when one is due.
    void report_sync();

    NodeConfig config_;
    const core::Params* params_ = nullptr;
    // Chain events for readers that must not slow the chain (the API's event stream and
    // metrics read it next); the bus publishes into it after its subscribers.
    util::EventRing<chain::ChainEvent> events_{10'000};
    chain::EventBus bus_{&events_};
    // GET /events: the feed turns the bus's tap, the peers and the sync reports into the
    // hub's events on its own thread.
    std::shared_ptr<api::EventHub> hub_;
    std::unique_ptr<EventFeed> feed_;
    SyncProgress sync_{util::SystemClock::instance()};
    // Before everything that counts into it, so that it goes last.
    util::metrics::Registry metrics_;
    ChainMetrics chain_metrics_{metrics_};
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<chain::Chainstate> chain_;
    std::unique_ptr<mempool::Mempool> mempool_;
    std::unique_ptr<util::SerialExecutor> executor_;
    std::unique_ptr<CoinStatsJob> coin_stats_;  // GET /chain/coins
    std::unique_ptr<IndexBuilder> index_builder_;
    std::unique_ptr<net::connman::ConnMan> connman_;
    std::unique_ptr<net::peer_manager::PeerManager> peers_;
    std::unique_ptr<mining::Miner> miner_;
    std::unique_ptr<wallet::Wallet> wallet_;
    std::optional<core::XOnlyKey> mine_to_;
    boost::asio::io_context io_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::vector<std::thread> io_threads_;
    std::unique_ptr<api::HttpServer> http_;
    std::optional<api::Auth> auth_;

    util::Mutex wait_mutex_;
    std::condition_variable wait_cv_;
    bool fatal_ GUARDED_BY(wait_mutex_) = false;
    bool stopping_ GUARDED_BY(wait_mutex_) = false;
    std::thread ticker_;
    bool stopped_ = false;
    bool wrote_node_info_ = false;
};

util::Result<void> Node::Impl::start() {
    params_ = &core::params(config_.network);
    std::error_code ec;
    std::filesystem::create_directories(config_.data_dir, ec);
    if (ec) {
        return util::Unexpected(
            util::Errc::kIo,
            "cannot create data directory " + config_.data_dir.string() + ": " + ec.message());
    }
    ::chmod(config_.data_dir.c_str(), 0700);
    spdlog::info("peerchain {} on network '{}', data directory {}", PEERCHAIN_VERSION,
                 params_->name, config_.data_dir.string());

    hub_ = std::make_shared<api::EventHub>(
        util::SystemClock::instance(),
        api::EventHubOptions{
            config_.event_buffer, 64u << 20, 1000, 15,
            api::first_sequence_at(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count())});
    feed_ = std::make_unique<EventFeed>(events_, *hub_, *params_);
    feed_->start();

    auto db = store::open_leveldb(chain_db_dir(config_.data_dir), store::Options{});
    if (!db) return util::Unexpected(db.error());
    db_ = std::move(*db);

    // The chain's events reach the pool, the peers, the miner and this node through one bus,
    // in that order; each subscribes once it exists.
    bus_.subscribe(chain::EventBus::Slot::kNode, this);
    bus_.subscribe(chain::EventBus::Slot::kMetrics, &chain_metrics_);
    chain::ChainstateOptions chain_options;
    chain_options.assume_valid = assume_valid_block(config_);
    chain_options.indexes = !config_.no_index;
    chain_options.coins_cache_bytes = config_.coins_cache_mib << 20;
    chain_options.blocks_dir = blocks_dir(config_.data_dir);
    auto chain = chain::Chainstate::open(*db_, *params_, util::SystemClock::instance(), &bus_,
                                         chain_options);
    if (!chain) return util::Unexpected(chain.error());
    chain_ = std::move(*chain);
    spdlog::info("chain tip {} at height {}", chain_->tip()->hash.to_hex(), chain_->tip()->height);

    if (!config_.mine_to.empty()) {
        auto key = core::decode_address(config_.mine_to, *params_);
        if (!key) return util::Unexpected(key.error());
        mine_to_ = *key;
    }

    mempool_ = std::make_unique<mempool::Mempool>(*chain_, util::SystemClock::instance());
    bus_.subscribe(chain::EventBus::Slot::kMempool, mempool_.get());
    mempool_->set_observer(&bus_);

    executor_ = std::make_unique<util::SerialExecutor>("chain");
    coin_stats_ = std::make_unique<CoinStatsJob>(*chain_, *db_, *executor_,
                                                 [this](const std::string& why) { fatal(why); });
    index_builder_ = std::make_unique<IndexBuilder>(*chain_, *executor_,
                                                    [this](const std::string& why) { fatal(why); });
    // What the pool held at the last clean stop comes back, checked against today's tip.
    executor_->post([this] {
        const auto path = mempool_file(config_.data_dir);
        auto loaded = mempool_->load(path);
        if (!loaded) {
            spdlog::warn("mempool: {} ({} transactions kept)", loaded.error().message,
                         mempool_->size());
        } else if (*loaded > 0) {
            spdlog::info("mempool: {} transactions loaded from {}", *loaded, path.string());
        }
    });
    net::peer_manager::Config pm_config;
    pm_config.user_agent = kUserAgent;
    pm_config.listen_port = config_.p2p_port;  // corrected below once bound (port 0)
    // A small network often has one peer to sync from: let it fill the whole download
    // window. (Bitcoin's 16 per peer assumes eight outbound peers; with one, a loopback sync
    // waits on round trips.) A stalling peer still loses its blocks after the timeout.
    pm_config.max_blocks_in_flight = pm_config.block_download_window;
    net::connman::Config connman_config;
    connman_config.bind_address = config_.p2p_bind;
    connman_config.port = config_.p2p_port;
    connman_config.websocket =
        std::count(config_.transports.begin(), config_.transports.end(), "ws");
    connman_config.tcp = std::count(config_.transports.begin(), config_.transports.end(), "tcp");
    connman_config.max_outbound = config_.max_outbound;
    connman_config.max_inbound = config_.max_inbound;
    connman_config.max_inbound_per_group = config_.max_inbound_per_group;
    connman_config.receive_buffer_bytes = config_.receive_buffer_kib * 1024;
    connman_config.data_dir = config_.data_dir;
    connman_config.metrics = &metrics_;
    pm_config.transports = static_cast<std::uint8_t>((connman_config.websocket ? 1 : 0) |
                                                     (connman_config.tcp ? 2 : 0));
    pm_config.external_host = config_.external_address;
    connman_ = std::make_unique<net::connman::ConnMan>(
        io_, *executor_, util::SystemClock::instance(), connman_config);
    peers_ = std::make_unique<net::peer_manager::PeerManager>(
        *chain_, *mempool_, *connman_, connman_->book(), connman_->bans(),
        util::SystemClock::instance(), pm_config);
    bus_.subscribe(chain::EventBus::Slot::kPeers, peers_.get());
    peers_->set_observer(feed_.get());

    mining::MinerOptions miner_options;
    miner_options.threads = config_.miner_threads;
    miner_options.pool = mempool_.get();
    miner_ = std::make_unique<mining::Miner>(
        *params_, [this] { return chain_->next_block_context(); }, *this,
        util::SystemClock::instance(), miner_options);
    bus_.subscribe(chain::EventBus::Slot::kMiner, miner_.get());
    miner_->start();

    work_.emplace(io_.get_executor());
    for (unsigned i = 0; i < config_.io_threads; ++i) {
        io_threads_.emplace_back([this, i] {
            const std::string name = "io-" + std::to_string(i);
            pthread_setname_np(pthread_self(), name.c_str());
            io_.run();
        });
    }

    if (auto r = connman_->start(*peers_); !r) return util::Unexpected(r.error());
    executor_->post([this, port = connman_->listen_port()] { peers_->set_listen_port(port); });
    // The peers first: a fresh node's sync then runs while the wallet, the cookie and the
    // HTTP server are set up (none of which the peers use).
    sync_.start_at(chain_->tip()->height);
    for (const auto& url : config_.peers) {
        if (url.empty()) continue;
        if (auto r = add_peer(url); !r) spdlog::warn("peer {}: {}", url, r.error().message);
    }

    auto opened = wallet::Wallet::open(config_.data_dir, *params_);
    if (!opened) return util::Unexpected(opened.error());
    wallet_ = std::move(*opened);
    spdlog::info("wallet {}; mined coins go to {}", wallet_->file().string(),
                 core::encode_address(reward_key(), *params_));

    auto auth = api::Auth::create(config_.data_dir);
    if (!auth) return util::Unexpected(auth.error());
    auth_.emplace(std::move(*auth));
    auto router = std::make_shared<api::Router>(*auth_);
    api::register_routes(*router, *this);
    router->count_requests(metrics_);
    register_node_gauges(metrics_, *this);
    api::HttpServerConfig http_config;
    http_config.address = config_.http_bind;
    http_config.port = config_.http_port;
    http_ = std::make_unique<api::HttpServer>(router, http_config);  // its own I/O threads
    if (auto r = http_->start(); !r) {
        return util::Unexpected(r.error().code, "HTTP port " + std::to_string(config_.http_port) +
                                                    ": " + r.error().message);
    }

    if (config_.mine) {
        if (auto r = miner_->start_continuous(mining::CoinbaseSpec{reward_key(), {}}); !r) {
            return util::Unexpected(r.error());
        }
        spdlog::info("mining continuously on {} threads", miner_->stats().threads);
    }
    ticker_ = std::thread([this] { tick_loop(); });
    write_node_info();
    return {};
}

void Node::Impl::write_node_info() {
    boost::json::object info;
    info["pid"] = ::getpid();
    info["network"] = params_->name;
    info["httpBind"] = config_.http_bind;
    info["httpPort"] = http_->port();
    info["p2pBind"] = config_.p2p_bind;
    info["p2pPort"] = connman_->listen_port();
    info["userAgent"] = kUserAgent;
    if (auto r = util::write_file_atomic(node_info_file(config_.data_dir),
                                         util::as_bytes(boost::json::serialize(info) + "\n"));
        !r) {
        spdlog::warn("{}", r.error().message);
        return;
    }
    wrote_node_info_ = true;
}

void Node::Impl::tick_loop() {
    pthread_setname_np(pthread_self(), "ticker");
    util::UniqueLock lock(wait_mutex_);
    while (!stopping_) {
        wait_cv_.wait_for(lock, std::chrono::seconds(1));
        if (stopping_) break;
        executor_->post([this] {
            peers_->on_tick();
            // A sync that stalls keeps its newest blocks in memory until then.
            if (auto r = chain_->write_held(); !r)
                fatal("storage failure: " + r.error().to_string());
            index_builder_->on_tick();
        });
        connman_->on_tick();
        // Stream keep-alives, logging and the feed's queue are no reason to hold off stop().
        lock.unlock();
        hub_->tick();
        report_sync();
        lock.lock();
    }
}

void Node::Impl::report_sync() {
    auto report = sync_.tick(chain_->best_header()->height, chain_->tip()->height);
    if (!report) return;
    spdlog::info("{}", SyncProgress::describe(*report));
    feed_->publish_sync(*report);
}

void Node::Impl::wait(const std::function<bool()>& stop_requested) {
    util::UniqueLock lock(wait_mutex_);
    while (!fatal_ && !stop_requested()) wait_cv_.wait_for(lock, std::chrono::milliseconds(200));
}

void Node::Impl::stop() {
    if (stopped_) return;
    stopped_ = true;
    spdlog::info("stopping");
    {
        util::LockGuard lock(wait_mutex_);
        stopping_ = true;
    }
    wait_cv_.notify_all();
    if (ticker_.joinable()) ticker_.join();
    if (hub_) hub_->close();  // every open stream's body ends
    if (http_) http_->stop();
    if (miner_) miner_->stop();
    if (connman_) connman_->stop();
    if (coin_stats_) coin_stats_->stop();  // its walk reads the store
    if (executor_) executor_->stop();      // runs what is queued: blocks in flight get stored
    if (feed_) feed_->stop();
    if (work_) work_->reset();
    io_.stop();
    for (auto& t : io_threads_) t.join();
    io_threads_.clear();
    http_.reset();
    bus_.subscribe(chain::EventBus::Slot::kMiner, nullptr);
    miner_.reset();
    bus_.subscribe(chain::EventBus::Slot::kPeers, nullptr);
    peers_.reset();
    connman_.reset();
    if (mempool_) {
        if (auto r = mempool_->save(mempool_file(config_.data_dir)); !r) {
            spdlog::error("mempool: {}", r.error().to_string());
        } else if (mempool_->size() > 0) {
            spdlog::info("mempool: {} transactions saved", mempool_->size());
        }
        bus_.subscribe(chain::EventBus::Slot::kMempool, nullptr);
        mempool_.reset();
    }
    if (chain_) {
        if (auto r = chain_->flush(); !r) spdlog::error("final flush: {}", r.error().to_string());
    }
    chain_.reset();
    executor_.reset();
    db_.reset();
    if (auth_) (void)auth_->remove_cookie();
    // Only what this process wrote: a second node refused by the store's lock must not take
    // the running node's node.json with it.
    if (wrote_node_info_) {
        std::error_code ec;
        std::filesystem::remove(node_info_file(config_.data_dir), ec);
    }
    spdlog::info("stopped");
}

api::MiningView Node::Impl::mining() const {
    const auto s = miner_->stats();
    api::MiningView v;
    v.continuous = s.continuous;
    v.threads = s.threads;
    v.hashes_per_second = s.hash_rate;
    v.blocks_found = s.blocks_accepted;
    v.queued_requests = s.requests;
    return v;
}

void Node::Impl::mine_block(util::Bytes data, std::optional<core::XOnlyKey> to,
                            MinedCallback done) {
    auto queued = miner_->request(
        mining::CoinbaseSpec{to ? *to : reward_key(), std::move(data)},
        [done](mining::MineResult result) {
            if (result.error) return done(util::Unexpected(*result.error));
            if (!result.accepted()) {
                // Not the client's fault: the chain refused our own block (a clock behind
                // the chain's median time, say). Worth another try later.
                return done(util::Unexpected(util::Errc::kUnavailable,
                                             "mined block refused: " + result.verdict.to_string()));
            }
            done(result.block);
        });
    if (!queued) done(util::Unexpected(queued.error()));
}

void Node::Impl::submit_transaction(core::Transaction tx, TxCallback done) {
    auto ptr = std::make_shared<const core::Transaction>(std::move(tx));
    const bool queued = executor_->post([this, ptr, done] {
        core::Uint256 txid;
        auto result = accept_and_relay(ptr, &txid);
        if (result) spdlog::info("mempool: accepted {} from the API", txid.to_hex());
        done(std::move(result), txid);
    });
    if (!queued) {
        done(core::ValidationResult::fail(core::ValidationCode::kInternal, "shutting-down"),
             ptr->txid());
    }
}

std::vector<wallet::WalletCoin> Node::Impl::wallet_coin_list() const {
    const auto keys = wallet_->keys();
    std::vector<wallet::WalletCoin> coins;
    const std::uint32_t spend_height = chain_->tip()->height + 1;
    for (const auto& key : keys) {
        for (const auto& [outpoint, coin] : chain_->address_coins(key)) {
            wallet::WalletCoin w;
            w.outpoint = outpoint;
            w.out = coin.out;
            w.height = coin.height;
            w.coinbase = coin.coinbase;
            w.mature = wallet::is_mature(coin.height, coin.coinbase, spend_height, *params_);
            w.spent_in_pool = mempool_->spender(outpoint).has_value();
            coins.push_back(w);
        }
    }
    for (const auto& entry : mempool_->entries()) {
        const auto& tx = *entry.tx;
        bool pays_us = false;
        for (const auto& out : tx.outputs) pays_us = pays_us || wallet_->owns(out.recipient);
        if (!pays_us) continue;
        // Our own change (every input ours) may be spent before it confirms; a payment
        // from someone else waits for its block.
        bool from_self = true;
        for (const auto& in : tx.inputs) {
            std::optional<core::TxOut> spent;
            if (auto c = chain_->coin(in.prevout)) {
                spent = c->out;
            } else {
                spent = mempool_->output(in.prevout);
            }
            from_self = from_self && spent && wallet_->owns(spent->recipient);
        }
        for (std::uint32_t k = 0; k < tx.outputs.size(); ++k) {
            if (!wallet_->owns(tx.outputs[k].recipient)) continue;
            wallet::WalletCoin w;
            w.outpoint = {entry.txid, k};
            w.out = tx.outputs[k];
            w.spent_in_pool = mempool_->spender(w.outpoint).has_value();
            w.from_self = from_self;
            coins.push_back(w);
        }
    }
    return coins;
}

util::Result<std::vector<api::WalletCoinView>> Node::Impl::wallet_coins() const {
    std::vector<api::WalletCoinView> out;
    for (const auto& c : wallet_coin_list()) {
        api::WalletCoinView v;
        v.outpoint = c.outpoint;
        v.out = c.out;
        v.height = c.height ? static_cast<std::int64_t>(*c.height) : -1;
        v.coinbase = c.coinbase;
        v.mature = c.mature;
        v.spent_in_pool = c.spent_in_pool;
        out.push_back(v);
    }
    return out;
}

void Node::Impl::wallet_send(api::SendRequest request, SendCallback done) {
    // Choosing coins, signing and entering the pool happen in one step on the chain
    // executor, so two sends never pick the same coin and no block lands in between.
    const bool queued = executor_->post([this, request = std::move(request), done] {
        auto to = core::decode_address(request.to, *params_);
        if (!to) {
            return done(core::ValidationResult::fail(core::ValidationCode::kPolicy, "bad-address",
                                                     to.error().message),
                        api::SentPayment{});
        }
        wallet::PaymentRequest payment_request;
        payment_request.to = *to;
        payment_request.amount = request.amount;
        if (request.fee_rate) payment_request.fee_rate = *request.fee_rate;
        payment_request.data = request.data;
        payment_request.coins = request.coins;
        const auto coins = wallet_coin_list();
        wallet::Payment payment;
        if (auto r = wallet_->build_payment(coins, payment_request, &payment); !r) {
            return done(std::move(r), api::SentPayment{});
        }
        auto tx = std::make_shared<const core::Transaction>(std::move(payment.tx));
        core::Uint256 txid;
        auto result = accept_and_relay(tx, &txid);
        if (result) {
            spdlog::info("wallet: sent {} to {} in {} (fee {})", request.amount, request.to,
                         txid.to_hex(), payment.fee);
        } else {
            spdlog::warn("wallet: the pool refused our payment {}: {}", txid.to_hex(),
                         result.to_string());
        }
        done(std::move(result), api::SentPayment{txid, payment.fee});
    });
    if (!queued) {
        done(core::ValidationResult::fail(core::ValidationCode::kInternal, "shutting-down"),
             api::SentPayment{});
    }
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Node::~Node() { stop(); }

util::Result<std::unique_ptr<Node>> Node::start(const NodeConfig& config) {
    auto impl = std::make_unique<Impl>(config);
    if (auto r = impl->start(); !r) {
        impl->stop();
        return util::Unexpected(r.error());
    }
    return std::unique_ptr<Node>(new Node(std::move(impl)));
}

void Node::stop() {
    if (impl_) impl_->stop();
}
void Node::wait(const std::function<bool()>& stop_requested) { impl_->wait(stop_requested); }
std::uint16_t Node::http_port() const noexcept { return impl_->http_port(); }
std::uint16_t Node::p2p_port() const noexcept { return impl_->p2p_port(); }

int run_node(const NodeConfig& config) {
    spdlog::set_level(spdlog::level::from_str(config.log_level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
    util::install_stop_signals();

    auto node = Node::start(config);
    if (!node) {
        spdlog::critical("cannot start: {}", node.error().message);
        return 1;
    }
    (*node)->wait([] { return util::stop_signal() != 0; });
    if (const int sig = util::stop_signal()) spdlog::info("signal {} received", sig);
    (*node)->stop();
    return 0;
}

}  // namespace peerchain::node
