// An in-memory network for PeerManager tests: real Chainstates on LevelDB in temp
// directories with a real Mempool each, one SerialExecutor per node (its chain executor),
// and links that hand each message to the other end by posting it onto that end's
// executor, in order. Scripted peers let a test speak the protocol by hand (an attacker, a
// peer on another network). Senders count the transactions they send and announce, so
// tests can check that nothing goes twice to one peer.
//
// Thread-safety: TestNetwork's functions are called from the test thread. Nodes run on
// their executors; ScriptedPeer queues are locked. The network stops every executor
// before it destroys anything.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "chain/chainstate.hpp"
#include "chain/event_bus.hpp"
#include "crypto/schnorr.hpp"
#include "mempool/mempool.hpp"
#include "net/peer_manager/peer_manager.hpp"
#include "net/wire/message.hpp"
#include "store/database.hpp"
#include "tests/util/test_util.hpp"
#include "util/clock.hpp"
#include "util/executor.hpp"

namespace peerchain::net::peer_manager::testing {

// Polls `done` until it holds or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));

const core::Params& regtest();

// The key the test blocks pay to unless told otherwise (no one holds its secret).
core::XOnlyKey default_miner();

// The next block on `parent` (height, regtest bits, a time its chain accepts), mined. `tag`
// goes into the coinbase data so that different miners make different blocks. The
// coinbase pays the subsidy to `miner`; `txs` follow it.
core::Block make_next_block(const chain::BlockIndex* parent, const std::string& tag,
                            const core::XOnlyKey& miner = default_miner(),
                            const std::vector<core::Transaction>& txs = {});

// A fixed test key: the same `n` gives the same key.
crypto::SecretKey test_key(std::uint8_t n);

// A coin to spend: where it is and what it holds.
struct Spendable {
    core::OutPoint outpoint;
    core::TxOut output;
};

// A transaction spending `inputs` (all owned by `key`) to `outputs`, signed.
core::Transaction signed_spend(const std::vector<Spendable>& inputs,
                               std::vector<core::TxOut> outputs, const crypto::SecretKey& key);
// The simplest payment: spends `coin` into one output of its amount minus `fee` to `to`.
core::Transaction pay(const Spendable& coin, const crypto::SecretKey& key, core::Amount fee,
                      const core::XOnlyKey& to);
// Output `index` of `tx` as a Spendable.
Spendable output_of(const core::Transaction& tx, std::uint32_t index = 0);

// One end of a link: where the other end's messages and close notice go.
class Endpoint {
  public:
    virtual ~Endpoint() = default;
    virtual void deliver(PeerId id, std::shared_ptr<const util::Bytes> message) = 0;
    virtual void closed(PeerId id, std::string reason) = 0;
};

// PeerSender over in-memory routes. A send to a closed route is dropped.
class MemorySender final : public PeerSender {
  public:
    explicit MemorySender(Endpoint& self) : self_(self) {}

    void add_route(PeerId local, Endpoint* remote, PeerId remote_id, MemorySender* back);
    void send(PeerId peer, std::shared_ptr<const util::Bytes> message) override;
    void disconnect(PeerId peer, std::string reason) override;

    // Reasons given to disconnect(), by local peer id.
    std::map<PeerId, std::string> disconnects() const;

    // How often each transaction went to each peer in a tx message, and in an inv.
    using TxCounts = std::map<PeerId, std::map<core::Uint256, int>>;
    TxCounts txs_sent() const;
    TxCounts txs_announced() const;

  private:
    struct Route {
        Endpoint* remote;
        PeerId remote_id;
        MemorySender* back;  // the remote end's sender, to close its route
    };
    // Removes the route and returns it, if it was there.
    std::optional<Route> take_route(PeerId local);

    Endpoint& self_;
    mutable std::mutex mutex_;
    std::map<PeerId, Route> routes_;
    std::map<PeerId, std::string> disconnects_;
    TxCounts txs_sent_;
    TxCounts txs_announced_;
};

// A full node: database, chain, mempool, executor and PeerManager. The chain's events go
// through a chain::EventBus to the mempool first and then to the PeerManager, as in node/.
class TestNode final : public Endpoint {
  public:
    TestNode(std::string name, const util::Clock& clock, Config config);
    ~TestNode() override;

    const std::string& name() const { return name_; }
    chain::Chainstate& chain() { return *chain_; }
    mempool::Mempool& mempool() { return *mempool_; }
    PeerManager& peer_manager() { return *peer_manager_; }
    addrman::AddrMan& book() { return book_; }
    addrman::BanMan& bans() { return bans_; }
    MemorySender& sender() { return sender_; }
    util::SerialExecutor& executor() { return executor_; }

    // Runs `f` on the node's executor and waits for it.
    template <typename F>
    auto run(F f) -> decltype(f()) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto result = task.get_future();
        executor_.post([&task] { task(); });
        return result.get();
    }

    std::uint32_t height() const { return chain_->tip()->height; }
    core::Uint256 tip_hash() const { return chain_->tip()->hash; }
    // Mines `n` blocks on its own tip, on its executor (so peers hear of them), paying
    // `miner`; the first block carries `txs`.
    void mine(int n, const std::string& tag, const core::XOnlyKey& miner = default_miner(),
              const std::vector<core::Transaction>& txs = {});
    // The coinbase output of the block at `height` of its active chain.
    Spendable coinbase_at(std::uint32_t height);
    // Accepts `tx` into its pool and relays it, as the HTTP API does, on its executor.
    core::ValidationResult submit(const core::Transaction& tx);
    void stop() { executor_.stop(); }

    void deliver(PeerId id, std::shared_ptr<const util::Bytes> message) override;
    void closed(PeerId id, std::string reason) override;

  private:
    std::string name_;
    chain::EventBus bus_;
    testutil::TempDir dir_;
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<chain::Chainstate> chain_;
    std::unique_ptr<mempool::Mempool> mempool_;
    MemorySender sender_;
    addrman::AddrMan book_;
    addrman::BanMan bans_;
    std::unique_ptr<PeerManager> peer_manager_;
    util::SerialExecutor executor_;
    int mined_ = 0;
};

// A peer driven by the test thread: it records what the node sends it.
class ScriptedPeer final : public Endpoint {
  public:
    ScriptedPeer() : sender_(*this) {}

    MemorySender& sender() { return sender_; }
    void set_id(PeerId id) { id_ = id; }

    void send(const wire::Message& message);
    void send_raw(util::Bytes bytes);
    void disconnect() { sender_.disconnect(id_, "scripted peer closes"); }

    // The next message the node sent, decoded; nullopt after `timeout`.
    std::optional<wire::Message> next(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Skips messages until one of type T comes.
    template <typename T>
    std::optional<T> expect(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            auto m = next(std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now()));
            if (!m) return std::nullopt;
            if (auto* t = std::get_if<T>(&*m)) return std::move(*t);
        }
        return std::nullopt;
    }
    // The inbound side of a handshake with a node that dialed us, or the outbound side
    // when we dialed: sends version (with `magic`), answers verack, waits for both.
    bool handshake(const std::array<std::uint8_t, 4>& magic, std::uint32_t best_height = 0);
    // Sends a ping and waits for its pong: every message sent before the ping has been
    // handled by then. Returns what came before the pong; nullopt if no pong comes.
    std::optional<std::vector<wire::Message>> sync();
    // Skips messages until one of type T comes, and returns everything it skipped too.
    template <typename T>
    std::optional<T> expect_collecting(
        std::vector<wire::Message>& skipped,
        std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            auto m = next(std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now()));
            if (!m) return std::nullopt;
            if (auto* t = std::get_if<T>(&*m)) return std::move(*t);
            skipped.push_back(std::move(*m));
        }
        return std::nullopt;
    }

    bool is_closed() const;
    std::string close_reason() const;

    void deliver(PeerId id, std::shared_ptr<const util::Bytes> message) override;
    void closed(PeerId id, std::string reason) override;

  private:
    MemorySender sender_;
    PeerId id_ = 0;
    std::uint64_t syncs_ = 0;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::shared_ptr<const util::Bytes>> inbox_;
    bool closed_ = false;
    std::string close_reason_;
};

class TestNetwork {
  public:
    TestNetwork();
    ~TestNetwork();  // stops the ticker and every executor, then destroys the nodes

    util::ManualClock& clock() { return clock_; }
    TestNode& add_node(const std::string& name, Config config = {});
    ScriptedPeer& add_scripted_peer();

    // `from` dials `to`: an outbound peer on `from`, an inbound one on `to`. Returns
    // (id on from, id on to).
    std::pair<PeerId, PeerId> connect(TestNode& from, TestNode& to);
    // A scripted peer dials the node: the node sees an inbound peer. Returns its id there.
    PeerId connect(ScriptedPeer& from, TestNode& to);
    // The node dials a scripted peer: the node sees an outbound peer.
    PeerId connect(TestNode& from, ScriptedPeer& to);

    // Posts on_tick to every node every `interval` from a background thread.
    void start_ticking(std::chrono::milliseconds interval = std::chrono::milliseconds(20));

  private:
    PeerId next_id() { return ++last_id_; }

    util::ManualClock clock_;
    std::vector<std::unique_ptr<TestNode>> nodes_;
    std::vector<std::unique_ptr<ScriptedPeer>> scripted_;
    PeerId last_id_ = 0;
    std::mutex ticker_mutex_;
    std::condition_variable ticker_wake_;
    bool ticker_stop_ = false;
    std::thread ticker_;
};

}  // namespace peerchain::net::peer_manager::testing
