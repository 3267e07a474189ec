// libFuzzer target: the HTTP API's request parsers on arbitrary bytes. The input is the body
// of POST /transactions and POST /wallet/send, both parsed directly (parse_submit_body,
// parse_send_request) and through the Router with the real routes over a stand-in node;
// the same bytes are also a txid, an address, a query string and a ?limit= value. Nothing
// may crash or throw, and whatever a parser accepts must meet what tx_requests.hpp
// promises: a transaction within max_tx_size that is exactly the hex it came from, an
// amount in [1, kMaxMoney], a fee rate in [1, kMaxFeeRate], data within max_data_size, an
// address of this network. The Router must answer every request exactly once, at once
// (the stand-in node answers synchronously), with 200 exactly when the direct parse
// succeeded and an error body otherwise. Seeds: fuzz/corpus/api_request/.
//
// The routes read the network parameters from a real Chainstate (regtest, LevelDB in a
// temporary directory made once per process); nothing here writes to it.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/errors.hpp"
#include "api/request.hpp"
#include "api/router.hpp"
#include "api/routes.hpp"
#include "api/tx_requests.hpp"
#include "chain/chainstate.hpp"
#include "core/address.hpp"
#include "core/amount.hpp"
#include "core/params.hpp"
#include "mempool/mempool.hpp"
#include "store/leveldb_database.hpp"
#include "util/assert.hpp"
#include "util/bytes.hpp"
#include "util/clock.hpp"

namespace {

using namespace peerchain;

// Where the temporary database goes: memory when the system offers it, since reopening the
// chain syncs to disk and a run must stay fast.
std::filesystem::path scratch_root() {
    std::error_code ec;
    if (std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) {
        return "/dev/shm";
    }
    return std::filesystem::temp_directory_path();
}

constexpr char kToken[] = "5f3c0e4a9b2d7c1e8f6a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e";

// What a successful payment request must look like (tx_requests.hpp).
void check_send_request(const api::SendRequest& send, const core::Params& params) {
    NODE_ASSERT(send.amount >= 1 && core::money_range(send.amount));
    if (send.fee_rate) NODE_ASSERT(*send.fee_rate >= 1 && *send.fee_rate <= api::kMaxFeeRate);
    NODE_ASSERT(send.data.size() <= params.max_data_size);
    NODE_ASSERT(core::decode_address(send.to, params).has_value());
}

// The routes' view of the node: the real chain and pool, and submissions that succeed at
// once after checking what the route hands over.
class FuzzNode final : public api::NodeApi {
  public:
    FuzzNode(const chain::Chainstate& chain, const mempool::Mempool& pool)
        : chain_(chain), pool_(pool) {}

    const chain::Chainstate& chain() const override { return chain_; }
    std::vector<api::PeerView> peers() const override { return {}; }
    api::MiningView mining() const override { return {}; }
    std::string user_agent() const override { return "/fuzz/"; }
    std::string metrics_text() const override { return "# fuzz\n"; }
    util::Result<void> add_peer(const std::string&) override {
        return util::Unexpected(util::Errc::kUnavailable, "no network");
    }
    api::BookView address_book(std::size_t) const override { return {}; }
    util::Result<void> remove_peer(const std::string&) override {
        return util::Unexpected(util::Errc::kUnavailable, "no network");
    }
    std::vector<api::BanView> bans() const override { return {}; }
    util::Result<api::BanView> ban(const std::string&, std::int64_t) override {
        return util::Unexpected(util::Errc::kUnavailable, "no network");
    }
    util::Result<void> unban(const std::string&) override {
        return util::Unexpected(util::Errc::kUnavailable, "no network");
    }
    void mine_block(util::Bytes, std::optional<core::XOnlyKey>, MinedCallback done) override {
        done(util::Unexpected(util::Errc::kUnavailable, "no miner"));
    }
    const mempool::Mempool& mempool() const override { return pool_; }
    void submit_transaction(core::Transaction tx, TxCallback done) override {
        NODE_ASSERT(tx.serialized_size() <= chain_.params().max_tx_size);
        ++submitted_;
        done(core::ValidationResult::ok(), tx.txid());
    }
    util::Result<std::string> wallet_address(bool) override {
        return util::Unexpected(util::Errc::kUnavailable, "no wallet");
    }
    util::Result<api::WalletBalance> wallet_balance() const override {
        return util::Unexpected(util::Errc::kUnavailable, "no wallet");
    }
    util::Result<std::vector<api::WalletCoinView>> wallet_coins() const override {
        return util::Unexpected(util::Errc::kUnavailable, "no wallet");
    }
    void wallet_send(api::SendRequest request, SendCallback done) override {
        check_send_request(request, chain_.params());
        ++sent_;
        done(core::ValidationResult::ok(), api::SentPayment{});
    }

    std::uint64_t submitted() const { return submitted_; }
    std::uint64_t sent() const { return sent_; }

  private:
    const chain::Chainstate& chain_;
    const mempool::Mempool& pool_;
    std::uint64_t submitted_ = 0;
    std::uint64_t sent_ = 0;
};

// Everything that lives for the whole process.
struct World {
    std::filesystem::path dir;
    util::ManualClock clock{1'700'000'000};
    std::unique_ptr<store::Database> db;
    std::unique_ptr<chain::Chainstate> chain;
    std::unique_ptr<mempool::Mempool> pool;
    std::unique_ptr<FuzzNode> node;
    std::unique_ptr<api::Router> router;

    World() {
        spdlog::set_level(spdlog::level::off);
        std::string pattern = (scratch_root() / "peerchain-fuzz-api-XXXXXX").string();
        NODE_ASSERT(::mkdtemp(pattern.data()) != nullptr);
        dir = pattern;
        store::Options options;
        options.cache_bytes = 1 << 20;
        options.write_buffer_bytes = 1 << 20;
        auto opened = store::open_leveldb(dir / "db", options);
        NODE_ASSERT(opened.has_value());
        db = std::move(*opened);
        chain::ChainstateOptions chain_options;
        chain_options.script_threads = 1;
        chain_options.blocks_dir = dir / "blocks";
        auto c = chain::Chainstate::open(*db, core::params(core::Network::kRegtest), clock, nullptr,
                                         chain_options);
        NODE_ASSERT(c.has_value());
        chain = std::move(*c);
        pool = std::make_unique<mempool::Mempool>(*chain, clock);
        node = std::make_unique<FuzzNode>(*chain, *pool);
        router = std::make_unique<api::Router>(api::Auth(kToken));
        api::register_routes(*router, *node);
    }
    ~World() {
        router.reset();
        node.reset();
        pool.reset();
        chain.reset();
        db.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

World& world() {
    static World w;
    return w;
}

// The one answer the Router gives, which must come before handle() returns.
api::Response route(const api::Router& router, std::string target, const std::string& body) {
    api::Request req;
    req.method = api::Method::kPost;
    req.target = std::move(target);
    req.body = body;
    req.authorization = std::string("Bearer ") + kToken;
    req.content_type = "application/json";
    req.remote_address = "127.0.0.1";
    req.remote_is_loopback = true;
    auto answer = std::make_shared<std::optional<api::Response>>();
    auto calls = std::make_shared<int>(0);
    router.handle(std::move(req), api::Responder([answer, calls](api::Response r) {
                      ++*calls;
                      *answer = std::move(r);
                  }));
    NODE_ASSERT(*calls == 1);
    NODE_ASSERT(answer->has_value());
    api::Response r = std::move(**answer);
    NODE_ASSERT(r.status >= 200 && r.status <= 599);
    if (r.status >= 300) NODE_ASSERT(api::is_error_body(r.body));
    return r;
}

void check_submit(World& w, const std::string& body) {
    const core::Params& params = w.chain->params();
    api::Request req;
    req.method = api::Method::kPost;
    req.body = body;
    auto tx = api::parse_submit_body(req, params);
    if (tx) {
        NODE_ASSERT(body.size() <= api::max_submit_body(params));
        // The transaction is exactly the bytes of "hex", which has one encoding.
        const util::Bytes encoded = tx->encode();
        NODE_ASSERT(encoded.size() <= params.max_tx_size);
        NODE_ASSERT(encoded.size() == tx->serialized_size());
        auto json = req.json_body();
        NODE_ASSERT(json.has_value());
        auto hex = util::from_hex(json->as_object().at("hex").as_string());
        NODE_ASSERT(hex.has_value() && *hex == encoded);
    } else {
        NODE_ASSERT(tx.error().status >= 400 && tx.error().status <= 499);
        NODE_ASSERT(api::is_error_body(tx.error().body));
    }
    const std::uint64_t before = w.node->submitted();
    const api::Response r = route(*w.router, "/transactions", body);
    NODE_ASSERT((r.status == 200) == static_cast<bool>(tx));
    NODE_ASSERT(w.node->submitted() == before + (tx ? 1 : 0));
    if (tx) NODE_ASSERT(r.body.at("txid").as_string() == tx->txid().to_hex());
}

void check_send(World& w, const std::string& body) {
    const core::Params& params = w.chain->params();
    api::Request req;
    req.method = api::Method::kPost;
    req.body = body;
    auto send = api::parse_send_request(req, params);
    if (send) {
        check_send_request(*send, params);
        // Only the four known fields pass, and "to" and "amount" are required.
        auto json = req.json_body();
        NODE_ASSERT(json.has_value());
        const auto& obj = json->as_object();
        for (const auto& field : obj) {
            const std::string_view k = field.key();
            NODE_ASSERT(k == "to" || k == "amount" || k == "data" || k == "feeRate");
        }
        NODE_ASSERT(obj.contains("to") && obj.contains("amount"));
        NODE_ASSERT(send->fee_rate.has_value() == obj.contains("feeRate"));
    } else {
        NODE_ASSERT(send.error().status >= 400 && send.error().status <= 499);
        NODE_ASSERT(api::is_error_body(send.error().body));
    }
    const std::uint64_t before = w.node->sent();
    const api::Response r = route(*w.router, "/wallet/send", body);
    NODE_ASSERT((r.status == 200) == static_cast<bool>(send));
    NODE_ASSERT(w.node->sent() == before + (send ? 1 : 0));
}

void check_text(World& w, const std::string& text) {
    const core::Params& params = w.chain->params();

    auto txid = api::parse_txid(text);
    if (txid) {
        NODE_ASSERT(text.size() == 2 * core::Uint256::kSize);
        std::string lower = text;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        NODE_ASSERT(txid->to_hex() == lower);
    }

    auto key = api::parse_address(text, params);
    if (key) {
        // The canonical form is lower case; an all upper-case address is the same one.
        std::string lower = text;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        NODE_ASSERT(core::encode_address(*key, params) == lower);
    } else {
        NODE_ASSERT(key.error().status == 400);
    }

    // The bytes as a whole query string, then as the value of ?limit=.
    if (auto query = api::parse_query(text)) {
        NODE_ASSERT(query->size() <= api::kMaxQueryParams);
        for (const auto& [k, v] : *query) {
            NODE_ASSERT(!k.empty() && k.size() <= api::kMaxQueryKeySize);
            NODE_ASSERT(v.size() <= api::kMaxQueryValueSize);
        }
        api::Request req;
        req.query = std::move(*query);
        auto limit = api::parse_limit(req, api::kDefaultMempoolEntries, api::kMaxMempoolEntries);
        if (limit) NODE_ASSERT(*limit <= api::kMaxMempoolEntries);
        if (!req.query_param("limit")) {
            NODE_ASSERT(limit && *limit == api::kDefaultMempoolEntries);
        }
    }
    api::Request req;
    req.query["limit"] = text;
    auto limit = api::parse_limit(req, api::kDefaultAddressTxs, api::kMaxAddressTxs);
    if (limit) {
        NODE_ASSERT(*limit <= api::kMaxAddressTxs);
        NODE_ASSERT(!text.empty() && text.find_first_not_of("0123456789") == std::string::npos);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    World& w = world();
    const std::string body(reinterpret_cast<const char*>(data), size);
    check_submit(w, body);
    check_send(w, body);
    check_text(w, body);
    return 0;
}
