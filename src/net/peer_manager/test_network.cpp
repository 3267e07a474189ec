#include "net/peer_manager/test_network.hpp"

#include <gtest/gtest.h>

#include "core/params.hpp"
#include "core/sighash.hpp"
#include "store/leveldb_database.hpp"
#include "tests/util/block_builder.hpp"

namespace peerchain::net::peer_manager::testing {

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return done();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

const core::Params& regtest() { return core::params(core::Network::kRegtest); }

core::XOnlyKey default_miner() {
    core::XOnlyKey miner{};
    miner[0] = 0x42;
    return miner;
}

core::Block make_next_block(const chain::BlockIndex* parent, const std::string& tag,
                            const core::XOnlyKey& miner,
                            const std::vector<core::Transaction>& txs) {
    const auto& p = regtest();
    const std::uint32_t height = parent->height + 1;
    core::Block block = testutil::make_block(p, parent->hash, height, parent->header.time + 10,
                                             tag + "-" + std::to_string(height));
    block.txs[0].outputs[0].recipient = miner;
    for (const auto& tx : txs) block.txs.push_back(tx);
    testutil::fix_merkle(block);
    testutil::mine(block, p);
    return block;
}

crypto::SecretKey test_key(std::uint8_t n) {
    std::array<std::uint8_t, 32> bytes{};
    bytes[0] = 0x11;
    bytes[31] = n;
    return *crypto::SecretKey::from_bytes(bytes);
}

core::Transaction signed_spend(const std::vector<Spendable>& inputs,
                               std::vector<core::TxOut> outputs, const crypto::SecretKey& key) {
    core::Transaction tx;
    std::vector<core::TxOut> spent;
    for (const auto& coin : inputs) {
        core::TxIn in;
        in.prevout = coin.outpoint;
        tx.inputs.push_back(in);
        spent.push_back(coin.output);
    }
    tx.outputs = std::move(outputs);
    const core::SignatureHasher hasher(tx, spent, regtest());
    for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
        tx.inputs[i].signature = key.sign(hasher.for_input(i));
    }
    return tx;
}

core::Transaction pay(const Spendable& coin, const crypto::SecretKey& key, core::Amount fee,
                      const core::XOnlyKey& to) {
    return signed_spend({coin}, {core::TxOut{coin.output.amount - fee, to}}, key);
}

Spendable output_of(const core::Transaction& tx, std::uint32_t index) {
    return {{tx.txid(), index}, tx.outputs.at(index)};
}

// --- MemorySender ---------------------------------------------------------------------------

void MemorySender::add_route(PeerId local, Endpoint* remote, PeerId remote_id, MemorySender* back) {
    std::lock_guard lock(mutex_);
    routes_[local] = Route{remote, remote_id, back};
}

std::optional<MemorySender::Route> MemorySender::take_route(PeerId local) {
    std::lock_guard lock(mutex_);
    auto it = routes_.find(local);
    if (it == routes_.end()) return std::nullopt;
    Route r = it->second;
    routes_.erase(it);
    return r;
}

void MemorySender::send(PeerId peer, std::shared_ptr<const util::Bytes> message) {
    Route route;
    const std::uint8_t type = message->empty() ? 0 : (*message)[0];
    std::optional<wire::Message> decoded;
    if (type == static_cast<std::uint8_t>(wire::MessageType::kTx) ||
        type == static_cast<std::uint8_t>(wire::MessageType::kInv)) {
        auto m = wire::decode_message(*message, wire::DecodeLimits::from(regtest()));
        if (m) decoded = std::move(*m);
    }
    {
        std::lock_guard lock(mutex_);
        auto it = routes_.find(peer);
        if (it == routes_.end()) return;
        route = it->second;
        if (decoded) {
            if (auto* tx = std::get_if<wire::TxMessage>(&*decoded))
                ++txs_sent_[peer][tx->tx.txid()];
            if (auto* inv = std::get_if<wire::InvMessage>(&*decoded)) {
                for (const auto& item : inv->items) {
                    if (item.type == wire::InvType::kTx) ++txs_announced_[peer][item.hash];
                }
            }
        }
    }
    route.remote->deliver(route.remote_id, std::move(message));
}

void MemorySender::disconnect(PeerId peer, std::string reason) {
    {
        std::lock_guard lock(mutex_);
        disconnects_.emplace(peer, reason);
    }
    auto route = take_route(peer);
    self_.closed(peer, reason);
    if (route && route->back->take_route(route->remote_id)) {
        route->remote->closed(route->remote_id, "closed by peer: " + reason);
    }
}

std::map<PeerId, std::string> MemorySender::disconnects() const {
    std::lock_guard lock(mutex_);
    return disconnects_;
}

MemorySender::TxCounts MemorySender::txs_sent() const {
    std::lock_guard lock(mutex_);
    return txs_sent_;
}

MemorySender::TxCounts MemorySender::txs_announced() const {
    std::lock_guard lock(mutex_);
    return txs_announced_;
}

// --- TestNode -------------------------------------------------------------------------------

TestNode::TestNode(std::string name, const util::Clock& clock, Config config)
    : name_(std::move(name)),
      sender_(*this),
      book_(addrman::AddrManConfig{}, clock),
      bans_(addrman::BanManConfig{}, clock),
      executor_(name_.c_str()) {
    auto db = store::open_leveldb(dir_.path() / "db", store::Options{});
    NODE_ASSERT(db.has_value());
    db_ = std::move(*db);
    chain::ChainstateOptions options;
    options.script_threads = 1;
    options.blocks_dir = dir_.path() / "db" / "blocks";
    auto chain = chain::Chainstate::open(*db_, regtest(), clock, &bus_, options);
    if (!chain) ADD_FAILURE() << chain.error().to_string();
    NODE_ASSERT(chain.has_value());
    chain_ = std::move(*chain);
    mempool_ = std::make_unique<mempool::Mempool>(*chain_, clock);
    bus_.subscribe(chain::EventBus::Slot::kMempool, mempool_.get());
    config.user_agent = "/test:" + name_ + "/";
    peer_manager_ = std::make_unique<PeerManager>(*chain_, *mempool_, sender_, book_, bans_, clock,
                                                  std::move(config));
    bus_.subscribe(chain::EventBus::Slot::kPeers, peer_manager_.get());
}

TestNode::~TestNode() {
    executor_.stop();
    bus_.subscribe(chain::EventBus::Slot::kPeers, nullptr);
    peer_manager_.reset();
    bus_.subscribe(chain::EventBus::Slot::kMempool, nullptr);
    mempool_.reset();
    chain_.reset();
}

void TestNode::mine(int n, const std::string& tag, const core::XOnlyKey& miner,
                    const std::vector<core::Transaction>& txs) {
    run([&] {
        for (int i = 0; i < n; ++i) {
            auto block = std::make_shared<const core::Block>(make_next_block(
                chain_->tip(), tag, miner, i == 0 ? txs : std::vector<core::Transaction>{}));
            const auto r = chain_->process_block(block);
            EXPECT_TRUE(r.is_ok()) << name_ << ": " << r.to_string();
            ++mined_;
        }
        return 0;
    });
}

Spendable TestNode::coinbase_at(std::uint32_t height) {
    auto block = chain_->read_block(chain_->at_height(height));
    NODE_ASSERT(block.has_value());
    return output_of((*block)->txs.at(0), 0);
}

core::ValidationResult TestNode::submit(const core::Transaction& tx) {
    return run([&] {
        auto ptr = std::make_shared<const core::Transaction>(tx);
        core::Uint256 txid;
        auto r = mempool_->accept(ptr, &txid);
        if (r.is_ok()) peer_manager_->relay_transaction(txid);
        return r;
    });
}

void TestNode::deliver(PeerId id, std::shared_ptr<const util::Bytes> message) {
    executor_.post([this, id, message] { peer_manager_->on_message(id, *message); });
}

void TestNode::closed(PeerId id, std::string reason) {
    executor_.post([this, id, reason] { peer_manager_->on_peer_disconnected(id, reason); });
}

// --- ScriptedPeer ---------------------------------------------------------------------------

void ScriptedPeer::send(const wire::Message& message) { send_raw(wire::encode_message(message)); }

void ScriptedPeer::send_raw(util::Bytes bytes) {
    sender_.send(id_, std::make_shared<const util::Bytes>(std::move(bytes)));
}

std::optional<wire::Message> ScriptedPeer::next(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!wake_.wait_for(lock, timeout, [&] { return !inbox_.empty(); })) return std::nullopt;
    auto bytes = inbox_.front();
    inbox_.pop_front();
    lock.unlock();
    auto m = wire::decode_message(*bytes, wire::DecodeLimits::from(regtest()));
    EXPECT_TRUE(m.has_value()) << "the node sent a message that does not decode";
    if (!m) return std::nullopt;
    return std::move(*m);
}

bool ScriptedPeer::handshake(const std::array<std::uint8_t, 4>& magic, std::uint32_t best_height) {
    wire::VersionMessage v;
    v.magic = magic;
    v.best_height = best_height;
    v.nonce = 0x5c419ed;
    v.user_agent = "/scripted/";
    send(v);
    if (!expect<wire::VersionMessage>()) return false;
    // The node answers our version with verack (and its own version first if inbound).
    send(wire::VerackMessage{});
    return true;
}

std::optional<std::vector<wire::Message>> ScriptedPeer::sync() {
    const std::uint64_t nonce = 0x5eed0000 + ++syncs_;
    send(wire::PingMessage{nonce});
    std::vector<wire::Message> before;
    while (true) {
        auto pong = expect_collecting<wire::PongMessage>(before);
        if (!pong) return std::nullopt;
        if (pong->nonce == nonce) return before;
        before.emplace_back(*pong);
    }
}

bool ScriptedPeer::is_closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
}

std::string ScriptedPeer::close_reason() const {
    std::lock_guard lock(mutex_);
    return close_reason_;
}

void ScriptedPeer::deliver(PeerId, std::shared_ptr<const util::Bytes> message) {
    {
        std::lock_guard lock(mutex_);
        inbox_.push_back(std::move(message));
    }
    wake_.notify_all();
}

void ScriptedPeer::closed(PeerId, std::string reason) {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        close_reason_ = std::move(reason);
    }
    wake_.notify_all();
}

// --- TestNetwork ----------------------------------------------------------------------------

TestNetwork::TestNetwork() : clock_(regtest().genesis.header.time + 1'000'000) {}

TestNetwork::~TestNetwork() {
    {
        std::lock_guard lock(ticker_mutex_);
        ticker_stop_ = true;
    }
    ticker_wake_.notify_all();
    if (ticker_.joinable()) ticker_.join();
    // No task may run on one node while another is destroyed: stop them all first.
    for (auto& node : nodes_) node->stop();
    nodes_.clear();
    scripted_.clear();
}

TestNode& TestNetwork::add_node(const std::string& name, Config config) {
    std::lock_guard lock(ticker_mutex_);  // the ticker walks nodes_
    nodes_.push_back(std::make_unique<TestNode>(name, clock_, std::move(config)));
    return *nodes_.back();
}

ScriptedPeer& TestNetwork::add_scripted_peer() {
    scripted_.push_back(std::make_unique<ScriptedPeer>());
    return *scripted_.back();
}

std::pair<PeerId, PeerId> TestNetwork::connect(TestNode& from, TestNode& to) {
    const PeerId a = next_id();
    const PeerId b = next_id();
    from.sender().add_route(a, &to, b, &to.sender());
    to.sender().add_route(b, &from, a, &from.sender());
    // The inbound side learns of the link first, so the dialer's version finds it there.
    to.executor().post([&to, b, name = from.name()] {
        to.peer_manager().on_peer_connected(b, {Direction::kInbound, name + ":50000", "", "", 1});
    });
    from.executor().post([&from, a, name = to.name()] {
        from.peer_manager().on_peer_connected(
            a, {Direction::kOutbound, name + ":6001", "ws://" + name + ":6001", "", 1});
    });
    return {a, b};
}

PeerId TestNetwork::connect(ScriptedPeer& from, TestNode& to) {
    const PeerId a = next_id();
    const PeerId b = next_id();
    from.set_id(a);
    from.sender().add_route(a, &to, b, &to.sender());
    to.sender().add_route(b, &from, a, &from.sender());
    to.executor().post([&to, b] {
        to.peer_manager().on_peer_connected(b, {Direction::kInbound, "10.0.0.9:50000", "", "", 1});
    });
    return b;
}

PeerId TestNetwork::connect(TestNode& from, ScriptedPeer& to) {
    const PeerId a = next_id();
    const PeerId b = next_id();
    to.set_id(b);
    from.sender().add_route(a, &to, b, &to.sender());
    to.sender().add_route(b, &from, a, &from.sender());
    from.executor().post([&from, a] {
        from.peer_manager().on_peer_connected(
            a, {Direction::kOutbound, "10.0.0.9:6001", "ws://10.0.0.9:6001", "", 1});
    });
    return a;
}

void TestNetwork::start_ticking(std::chrono::milliseconds interval) {
    ticker_ = std::thread([this, interval] {
        std::unique_lock lock(ticker_mutex_);
        while (!ticker_wake_.wait_for(lock, interval, [this] { return ticker_stop_; })) {
            for (auto& node : nodes_) {
                TestNode* n = node.get();
                n->executor().post([n] { n->peer_manager().on_tick(); });
            }
        }
    });
}

}  // namespace peerchain::net::peer_manager::testing
