// The transaction, address, pool and wallet routes end to end through the Router, over a
// real Chainstate (LevelDB in a temporary directory) and a real Mempool. The node layer is
// stood in for by TestNode (test_node.hpp), which hands submissions straight to the pool
// and has no wallet (as a node without one answers).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <optional>

#include "api/errors.hpp"
#include "api/routes.hpp"
#include "api/test_node.hpp"
#include "chain/chain_test_util.hpp"
#include "core/address.hpp"

namespace peerchain::api {
namespace {

using chain::test::build_block;
using chain::test::regtest;
using chain::test::share;
using test::TestNode;

const std::string kToken(64, 'b');
constexpr core::Amount kFee = 1000;

class TransactionRoutesTest : public ::testing::Test {
  protected:
    explicit TransactionRoutesTest(chain::ChainstateOptions options = {})
        : h_(regtest(), options), pool_(h_.chain(), h_.clock()), node_(h_.chain(), pool_) {
        register_routes(router_, node_);
        // 101 blocks paying A, then block 102 where A pays B 7 coins.
        std::vector<core::BlockPtr> blocks;
        for (int i = 0; i < 101; ++i) {
            chain::test::BlockOptions o;
            o.miner = a_;
            o.data = std::to_string(i);
            blocks.push_back(
                share(build_block(blocks.empty() ? chain::test::genesis_parent()
                                                 : chain::test::parent_of(*blocks.back(), i),
                                  o)));
        }
        spend_ = pay(*blocks[0], b_, 7 * core::kCoin);
        chain::test::BlockOptions o;
        o.miner = a_;
        o.txs = {spend_};
        o.coinbase_extra = kFee;
        blocks.push_back(share(build_block(chain::test::parent_of(*blocks.back(), 101), o)));
        h_.feed(blocks);
        blocks_ = blocks;
        // In the pool: A pays C 3 coins from the coinbase of block 2.
        pooled_ = pay(*blocks[1], c_, 3 * core::kCoin);
        const auto r = pool_.accept(std::make_shared<const core::Transaction>(pooled_));
        EXPECT_TRUE(r.is_ok()) << r.to_string();
    }

    // A pays `amount` to `to` from the coinbase of `from`, change back to A, fee kFee.
    core::Transaction pay(const core::Block& from, const core::XOnlyKey& to, core::Amount amount) {
        const core::TxOut& cb = from.txs[0].outputs[0];
        return chain::test::signed_spend(
            {{{from.txs[0].txid(), 0}, cb}},
            {core::TxOut{amount, to}, core::TxOut{cb.amount - amount - kFee, a_}}, key_a_);
    }

    Response get(const std::string& target, bool token = false) {
        return run(Method::kGet, target, {}, token);
    }
    Response run(Method method, const std::string& target, std::string body, bool token = false) {
        Request r;
        r.method = method;
        r.target = target;
        r.body = std::move(body);
        r.remote_address = "127.0.0.1";
        r.remote_is_loopback = true;
        if (token) r.authorization = "Bearer " + kToken;
        auto answer = std::make_shared<std::optional<Response>>();
        router_.handle(std::move(r),
                       Responder([answer](Response res) { *answer = std::move(res); }));
        EXPECT_TRUE(answer->has_value()) << target;
        return answer->has_value() ? normalize_response(std::move(**answer)) : Response{};
    }
    static std::string code_of(const Response& r) {
        return std::string(r.body.at("error").at("code").as_string());
    }
    std::string address(const core::XOnlyKey& key) const {
        return core::encode_address(key, regtest());
    }

    chain::test::ChainHarness h_;
    mempool::Mempool pool_;
    TestNode node_;
    Router router_{Auth(kToken)};
    crypto::SecretKey key_a_ = chain::test::test_key(1);
    core::XOnlyKey a_ = key_a_.public_key();
    core::XOnlyKey b_ = chain::test::test_key(2).public_key();
    core::XOnlyKey c_ = chain::test::test_key(3).public_key();
    std::vector<core::BlockPtr> blocks_;
    core::Transaction spend_;
    core::Transaction pooled_;
};

TEST_F(TransactionRoutesTest, MinedTransactionWithFeeAndBlock) {
    const Response r = get("/transactions/" + spend_.txid().to_hex());
    ASSERT_EQ(r.status, 200u) << boost::json::serialize(r.body);
    const auto& j = r.body.as_object();
    EXPECT_EQ(j.at("fee").as_int64(), kFee);
    EXPECT_FALSE(j.at("inMempool").as_bool());
    EXPECT_EQ(j.at("blockHash").as_string(), blocks_.back()->hash().to_hex());
    EXPECT_EQ(j.at("blockHeight").to_number<std::int64_t>(), 102);
    EXPECT_EQ(j.at("confirmations").as_int64(), 1);
    const auto& in = j.at("inputs").as_array().at(0);
    EXPECT_EQ(in.at("amount").as_int64(), blocks_[0]->txs[0].outputs[0].amount);
    EXPECT_EQ(in.at("address").as_string(), address(a_));
    EXPECT_EQ(j.at("outputs").as_array().at(0).at("address").as_string(), address(b_));
    EXPECT_EQ(j.at("hex").as_string(), util::to_hex(spend_.encode()));

    const Response cb = get("/transactions/" + blocks_.back()->txs[0].txid().to_hex());
    ASSERT_EQ(cb.status, 200u);
    EXPECT_TRUE(cb.body.at("coinbase").as_bool());
    EXPECT_EQ(cb.body.at("fee").as_int64(), 0);
}

TEST_F(TransactionRoutesTest, PoolTransactionAndUnknown) {
    const Response r = get("/transactions/" + pooled_.txid().to_hex());
    ASSERT_EQ(r.status, 200u);
    EXPECT_TRUE(r.body.at("inMempool").as_bool());
    EXPECT_EQ(r.body.at("fee").as_int64(), kFee);
    EXPECT_FALSE(r.body.as_object().contains("blockHash"));
    EXPECT_EQ(r.body.at("inputs").as_array().at(0).at("address").as_string(), address(a_));

    core::Uint256 unknown;
    unknown.data()[3] = 1;
    Response missing = get("/transactions/" + unknown.to_hex());
    EXPECT_EQ(missing.status, 404u);
    EXPECT_EQ(code_of(missing), "unknown-transaction");
    Response bad = get("/transactions/xyz");
    EXPECT_EQ(bad.status, 400u);
}

TEST_F(TransactionRoutesTest, AddressBalancesPendingAndHistory) {
    Response b = get("/address/" + address(b_));
    ASSERT_EQ(b.status, 200u) << boost::json::serialize(b.body);
    EXPECT_EQ(b.body.at("balance").as_int64(), 7 * core::kCoin);
    EXPECT_EQ(b.body.at("pending").as_int64(), 0);
    ASSERT_EQ(b.body.at("utxos").as_array().size(), 1u);
    EXPECT_TRUE(b.body.at("utxos").as_array()[0].at("mature").as_bool());
    ASSERT_EQ(b.body.at("transactions").as_array().size(), 1u);
    EXPECT_EQ(b.body.at("transactions").as_array()[0].at("received").as_int64(), 7 * core::kCoin);

    // C has nothing confirmed and 3 coins coming.
    Response c = get("/address/" + address(c_));
    ASSERT_EQ(c.status, 200u);
    EXPECT_EQ(c.body.at("balance").as_int64(), 0);
    EXPECT_EQ(c.body.at("pending").as_int64(), 3 * core::kCoin);
    EXPECT_EQ(c.body.at("mempoolTransactions").as_array().size(), 1u);

    // A: 102 coinbases, one spent in block 102 (change back), one spent in the pool.
    Response a = get("/address/" + address(a_) + "?limit=2");
    ASSERT_EQ(a.status, 200u);
    EXPECT_EQ(a.body.at("transactions").as_array().size(), 2u);
    EXPECT_EQ(a.body.at("pending").as_int64(), -(3 * core::kCoin + kFee));
    EXPECT_EQ(a.body.at("utxoCount").to_number<std::int64_t>(), 102);  // 101 coinbases + change
    std::int64_t immature = 0;
    for (const auto& u : a.body.at("utxos").as_array()) {
        if (!u.at("mature").as_bool()) immature += u.at("amount").as_int64();
    }
    EXPECT_EQ(a.body.at("immature").as_int64(), immature);
    EXPECT_GT(immature, 0);

    Response other = get("/address/" + core::encode_address(b_, core::params(core::Network::kDev)));
    EXPECT_EQ(other.status, 400u);
    EXPECT_EQ(code_of(other), "bad-address");
    EXPECT_EQ(get("/address/" + address(b_) + "?limit=x").status, 400u);
}

TEST_F(TransactionRoutesTest, MempoolListAndInfo) {
    Response list = get("/mempool");
    ASSERT_EQ(list.status, 200u);
    ASSERT_EQ(list.body.as_array().size(), 1u);
    EXPECT_EQ(list.body.as_array()[0].at("txid").as_string(), pooled_.txid().to_hex());
    EXPECT_EQ(list.body.as_array()[0].at("fee").as_int64(), kFee);
    EXPECT_TRUE(get("/mempool?limit=0").body.as_array().empty());
    Response info = get("/mempool/info");
    EXPECT_EQ(info.body.at("size").to_number<std::int64_t>(), 1);
    EXPECT_EQ(info.body.at("bytes").to_number<std::size_t>(), pooled_.serialized_size());
    EXPECT_EQ(info.body.at("minFeeRate").as_int64(), 1);
}

TEST_F(TransactionRoutesTest, SubmitAcceptsAndMapsRefusals) {
    core::Transaction forged = pay(*blocks_[2], c_, core::kCoin);
    forged.inputs[0].signature[0] ^= 1;
    Response invalid =
        run(Method::kPost, "/transactions", "{\"hex\": \"" + util::to_hex(forged.encode()) + "\"}");
    EXPECT_EQ(invalid.status, 400u);
    EXPECT_EQ(code_of(invalid), "bad-txns-signature");

    const core::Transaction tx = pay(*blocks_[2], c_, core::kCoin);
    const std::string body = "{\"hex\": \"" + util::to_hex(tx.encode()) + "\"}";
    Response ok = run(Method::kPost, "/transactions", body);
    ASSERT_EQ(ok.status, 200u) << boost::json::serialize(ok.body);
    EXPECT_EQ(ok.body.at("txid").as_string(), tx.txid().to_hex());
    EXPECT_EQ(pool_.size(), 2u);

    Response again = run(Method::kPost, "/transactions", body);
    EXPECT_EQ(again.status, 409u);
    EXPECT_EQ(code_of(again), "txn-already-in-mempool");

    // The same coin to someone else: first seen wins.
    const core::Transaction double_spend = pay(*blocks_[2], b_, core::kCoin);
    Response conflict = run(Method::kPost, "/transactions",
                            "{\"hex\": \"" + util::to_hex(double_spend.encode()) + "\"}");
    EXPECT_EQ(conflict.status, 409u);
    EXPECT_EQ(code_of(conflict), "txn-mempool-conflict");

    // Height 4's coinbase matures in block 104, one after the next.
    const core::Transaction early = pay(*blocks_[3], c_, core::kCoin);
    Response premature =
        run(Method::kPost, "/transactions", "{\"hex\": \"" + util::to_hex(early.encode()) + "\"}");
    EXPECT_EQ(premature.status, 422u);
    EXPECT_EQ(code_of(premature), "bad-txns-premature-spend-of-coinbase");

    Response junk = run(Method::kPost, "/transactions", "{\"hex\": \"0g\"}");
    EXPECT_EQ(junk.status, 400u);
    EXPECT_EQ(code_of(junk), "bad-hex");
}

// POST /mineBlock: naivecoin's bodies and {"count", "to"}, checked before the miner is
// asked (issue 8); the test node's miner always fails, after recording the request.
TEST_F(TransactionRoutesTest, MineBlockBodies) {
    for (const auto& [body, code] : std::vector<std::pair<std::string, std::string>>{
             {"{}", "bad-request"},
             {"{\"data\": 1}", "bad-request"},
             {"{\"count\": 0}", "bad-request"},
             {"{\"count\": 1001}", "bad-request"},
             {"{\"count\": 1.0}", "bad-request"},
             {"{\"count\": \"3\"}", "bad-request"},
             {"{\"count\": 2, \"extra\": 1}", "bad-request"},
             {"{\"count\": 2, \"to\": \"pcrt1nope\"}", "bad-address"},
             {"{\"to\": \"" + core::encode_address(b_, core::params(core::Network::kDev)) + "\"}",
              "bad-address"},
             {"[1]", "bad-json"}}) {
        Response r = run(Method::kPost, "/mineBlock", body);
        EXPECT_EQ(r.status, 400u) << body;
        EXPECT_EQ(code_of(r), code) << body;
    }
    EXPECT_TRUE(node_.mine_requests.empty());

    // naivecoin's body-less call, the classic body, and a count with a payee reach the miner.
    EXPECT_EQ(run(Method::kPost, "/mineBlock", "").status, 503u);
    EXPECT_EQ(run(Method::kPost, "/mineBlock", "{\"data\": \"hi\"}").status, 503u);
    EXPECT_EQ(
        run(Method::kPost, "/mineBlock", "{\"count\": 3, \"to\": \"" + address(b_) + "\"}").status,
        503u);
    ASSERT_EQ(node_.mine_requests.size(), 3u);
    EXPECT_TRUE(node_.mine_requests[0].data.empty());
    EXPECT_FALSE(node_.mine_requests[0].to);
    EXPECT_EQ(node_.mine_requests[1].data, (util::Bytes{'h', 'i'}));
    EXPECT_FALSE(node_.mine_requests[1].to);
    EXPECT_EQ(node_.mine_requests[2].to, b_);
}

TEST_F(TransactionRoutesTest, WalletRoutesNeedTheTokenEvenFromLoopback) {
    for (const auto& [method, target] :
         std::vector<std::pair<Method, std::string>>{{Method::kGet, "/wallet/address"},
                                                     {Method::kPost, "/wallet/address"},
                                                     {Method::kGet, "/wallet/balance"},
                                                     {Method::kGet, "/wallet/utxos"},
                                                     {Method::kPost, "/wallet/send"}}) {
        Response r = run(method, target, "{}");
        EXPECT_EQ(r.status, 401u) << target;
        EXPECT_EQ(code_of(r), "unauthorized") << target;
    }
    // With the token, the request reaches the wallet, which this node does not have.
    Response balance = get("/wallet/balance", /*token=*/true);
    EXPECT_EQ(balance.status, 503u);
    EXPECT_EQ(code_of(balance), "unavailable");
    // A bad body is refused before the wallet is asked.
    Response send = run(Method::kPost, "/wallet/send",
                        "{\"to\": \"" + address(b_) + "\", \"amount\": 1.5}", /*token=*/true);
    EXPECT_EQ(send.status, 400u);
    EXPECT_EQ(code_of(send), "amount-out-of-range");
    Response refused = run(Method::kPost, "/wallet/send",
                           "{\"to\": \"" + address(b_) + "\", \"amount\": 5}", /*token=*/true);
    EXPECT_EQ(refused.status, 503u);
}

// The same chain and pool on a node run with --no-index (issue 10).
class NoIndexRoutesTest : public TransactionRoutesTest {
  protected:
    NoIndexRoutesTest() : TransactionRoutesTest(without_indexes()) {}
    static chain::ChainstateOptions without_indexes() {
        chain::ChainstateOptions o;
        o.indexes = false;
        return o;
    }
    void expect_index_disabled(const Response& r, const std::string& target) {
        EXPECT_EQ(r.status, 503u) << target;
        if (r.status != 503u) return;
        EXPECT_EQ(code_of(r), "index-disabled") << target;
        const std::string message(r.body.at("error").at("message").as_string());
        EXPECT_NE(message.find("--no-index"), std::string::npos) << message;
    }
};

TEST_F(NoIndexRoutesTest, RoutesThatNeedAnIndexSaySoAndThePoolIsStillServed) {
    for (const std::string& target :
         {"/transactions/" + spend_.txid().to_hex(),
          "/transactions/" + blocks_[0]->txs[0].txid().to_hex(), "/address/" + address(a_),
          "/address/" + address(b_) + "?limit=5"}) {
        expect_index_disabled(get(target), target);
    }
    const Response pooled = get("/transactions/" + pooled_.txid().to_hex());
    ASSERT_EQ(pooled.status, 200u);
    EXPECT_TRUE(pooled.body.at("inMempool").as_bool());
    EXPECT_EQ(pooled.body.at("fee").as_int64(), kFee);
    // A malformed request is still refused as such.
    EXPECT_EQ(get("/address/xyz").status, 400u);
    EXPECT_EQ(get("/transactions/xyz").status, 400u);
    // The wallet finds its coins through the address index.
    expect_index_disabled(get("/wallet/balance", /*token=*/true), "/wallet/balance");
    expect_index_disabled(get("/wallet/utxos", /*token=*/true), "/wallet/utxos");
    expect_index_disabled(
        run(Method::kPost, "/wallet/send", "{\"to\": \"" + address(b_) + "\", \"amount\": 5}",
            /*token=*/true),
        "/wallet/send");
    EXPECT_EQ(get("/wallet/address", /*token=*/true).status, 503u);  // no wallet here at all
    // The routes that need no index answer as with one.
    EXPECT_EQ(get("/blocks/102").status, 200u);
    EXPECT_EQ(get("/mempool").status, 200u);
}

}  // namespace
}  // namespace peerchain::api
