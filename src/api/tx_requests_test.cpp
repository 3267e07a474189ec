#include "api/tx_requests.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <limits>

#include "core/address.hpp"
#include "core/sighash.hpp"
#include "crypto/schnorr.hpp"

namespace peerchain::api {
namespace {

const core::Params& regtest() { return core::params(core::Network::kRegtest); }
const core::Params& dev() { return core::params(core::Network::kDev); }

crypto::SecretKey key(std::uint8_t n) {
    std::array<std::uint8_t, 32> bytes{};
    bytes[0] = 0x21;
    bytes[31] = n;
    return *crypto::SecretKey::from_bytes(bytes);
}

Request with_body(std::string body) {
    Request r;
    r.method = Method::kPost;
    r.body = std::move(body);
    return r;
}

Request with_limit(std::string value) {
    Request r;
    r.query["limit"] = std::move(value);
    return r;
}

std::string code_of(Response& r) { return std::string(r.body.at("error").at("code").as_string()); }

std::string message_of(Response& r) {
    return std::string(r.body.at("error").at("message").as_string());
}

core::Transaction signed_tx() {
    const crypto::SecretKey k = key(1);
    core::Transaction tx;
    core::TxIn in;
    in.prevout.txid.data()[0] = 7;
    tx.inputs.push_back(in);
    tx.outputs.push_back(core::TxOut{5 * core::kCoin, key(2).public_key()});
    tx.data = {'h', 'i'};
    const std::vector<core::TxOut> spent{core::TxOut{6 * core::kCoin, k.public_key()}};
    tx.inputs[0].signature = k.sign(core::SignatureHasher(tx, spent, regtest()).for_input(0));
    return tx;
}

TEST(TxRequests, Limit) {
    EXPECT_EQ(*parse_limit(Request{}, 50, 1000), 50u);
    EXPECT_EQ(*parse_limit(with_limit("7"), 50, 1000), 7u);
    EXPECT_EQ(*parse_limit(with_limit("0"), 50, 1000), 0u);
    EXPECT_EQ(*parse_limit(with_limit("1001"), 50, 1000), 1000u);
    EXPECT_EQ(*parse_limit(with_limit("99999999999999999999999"), 50, 1000), 1000u);
    for (const char* bad : {"", "-1", "+1", "1.5", "ten", "1 ", "0x10"}) {
        auto r = parse_limit(with_limit(bad), 50, 1000);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().status, 400u);
        EXPECT_EQ(code_of(r.error()), "bad-request");
    }
}

TEST(TxRequests, Txid) {
    core::Uint256 h;
    h.data()[0] = 0xab;
    auto ok = parse_txid(h.to_hex());
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, h);
    EXPECT_FALSE(parse_txid(h.to_hex().substr(1)));
    EXPECT_FALSE(parse_txid(std::string(64, 'g')));
    EXPECT_FALSE(parse_txid(h.to_hex() + "00"));
}

TEST(TxRequests, AddressOfThisNetworkOnly) {
    const auto pub = key(3).public_key();
    auto ok = parse_address(core::encode_address(pub, regtest()), regtest());
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, pub);
    auto other = parse_address(core::encode_address(pub, dev()), regtest());
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().status, 400u);
    EXPECT_EQ(code_of(other.error()), "bad-address");
    EXPECT_NE(message_of(other.error()).find("dev"), std::string::npos)
        << message_of(other.error());
    auto junk = parse_address("hello", regtest());
    ASSERT_FALSE(junk);
    EXPECT_EQ(code_of(junk.error()), "bad-address");
    EXPECT_FALSE(message_of(junk.error()).empty());
}

TEST(TxRequests, SubmitBody) {
    const core::Transaction tx = signed_tx();
    const std::string hex = util::to_hex(tx.encode());
    auto ok = parse_submit_body(with_body("{\"hex\": \"" + hex + "\"}"), regtest());
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, tx);

    auto expect_error = [](Parsed<core::Transaction> r, unsigned status, const char* code) {
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().status, status);
        EXPECT_EQ(code_of(r.error()), code);
    };
    expect_error(parse_submit_body(with_body("not json"), regtest()), 400, "bad-json");
    expect_error(parse_submit_body(with_body("{}"), regtest()), 400, "bad-request");
    expect_error(parse_submit_body(with_body("{\"hex\": 5}"), regtest()), 400, "bad-request");
    expect_error(parse_submit_body(with_body("{\"hex\": \"" + hex + "\", \"fee\": 1}"), regtest()),
                 400, "bad-request");
    expect_error(parse_submit_body(with_body("{\"hex\": \"" + hex + "0\"}"), regtest()), 400,
                 "bad-hex");
    expect_error(parse_submit_body(with_body("{\"hex\": \"zz\"}"), regtest()), 400, "bad-hex");
    expect_error(parse_submit_body(with_body("{\"hex\": \"" + hex + "00\"}"), regtest()), 400,
                 "bad-tx-encoding");
    expect_error(parse_submit_body(with_body("{\"hex\": \"\"}"), regtest()), 400,
                 "bad-tx-encoding");
    const std::string huge(2 * regtest().max_tx_size + 2, 'a');
    expect_error(parse_submit_body(with_body("{\"hex\": \"" + huge + "\"}"), regtest()), 400,
                 "tx-too-large");
    const std::string over(max_submit_body(regtest()) + 1, ' ');
    expect_error(parse_submit_body(with_body(over), regtest()), 413, "body-too-large");
}

class SendRequestTest : public ::testing::Test {
  protected:
    Parsed<SendRequest> parse(const std::string& fields) {
        return parse_send_request(with_body("{" + fields + "}"), regtest());
    }
    void expect_error(const std::string& fields, const char* code) {
        auto r = parse(fields);
        ASSERT_FALSE(r) << fields;
        EXPECT_EQ(r.error().status, 400u) << fields;
        EXPECT_EQ(code_of(r.error()), code) << fields;
        EXPECT_FALSE(message_of(r.error()).empty());
    }
    std::string to_field() const { return "\"to\": \"" + address + "\""; }

    std::string address = core::encode_address(key(4).public_key(), regtest());
};

TEST_F(SendRequestTest, Accepted) {
    auto r = parse(to_field() + ", \"amount\": 150000000");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->to, address);
    EXPECT_EQ(r->amount, 150'000'000);
    EXPECT_FALSE(r->fee_rate);
    EXPECT_TRUE(r->data.empty());

    r = parse(to_field() + ", \"amount\": 2100000000000000, \"feeRate\": 10000, \"data\": \"log\"");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->amount, core::kMaxMoney);
    EXPECT_EQ(r->fee_rate, 10'000);
    EXPECT_EQ(r->data, (util::Bytes{'l', 'o', 'g'}));
    const std::string max_data(regtest().max_data_size, 'x');
    EXPECT_TRUE(parse(to_field() + ", \"amount\": 1, \"data\": \"" + max_data + "\""));
}

TEST_F(SendRequestTest, AmountIsAPositiveIntegerInTheMoneyRange) {
    for (const char* amount : {"1.0", "1e8", "\"100\"", "0", "-5", "2100000000000001",
                               "18446744073709551615", "null", "true", "[1]"}) {
        expect_error(to_field() + ", \"amount\": " + amount, "amount-out-of-range");
    }
    expect_error(to_field(), "bad-request");  // missing
}

TEST_F(SendRequestTest, FeeRateIsABoundedPositiveInteger) {
    for (const char* rate : {"0", "-1", "10001", "2.5", "\"5\"", "null"}) {
        expect_error(to_field() + ", \"amount\": 1, \"feeRate\": " + rate, "fee-rate-out-of-range");
    }
}

TEST_F(SendRequestTest, DataIsABoundedString) {
    const std::string over(regtest().max_data_size + 1, 'x');
    expect_error(to_field() + ", \"amount\": 1, \"data\": \"" + over + "\"", "data-too-large");
    expect_error(to_field() + ", \"amount\": 1, \"data\": 12", "data-too-large");
}

TEST_F(SendRequestTest, RecipientAndShape) {
    expect_error("\"amount\": 1", "bad-request");
    expect_error("\"to\": 5, \"amount\": 1", "bad-address");
    expect_error(
        "\"to\": \"" + core::encode_address(key(4).public_key(), dev()) + "\", \"amount\": 1",
        "bad-address");
    expect_error(to_field() + ", \"amount\": 1, \"ammount\": 2", "bad-request");
    auto r = parse_send_request(with_body("[1]"), regtest());
    ASSERT_FALSE(r);
    EXPECT_EQ(code_of(r.error()), "bad-json");
}

TEST_F(SendRequestTest, CoinsNameOutpoints) {
    const std::string txid(64, 'a');
    auto r = parse(to_field() + ", \"amount\": 1, \"coins\": [\"" + txid + ":0\", \"" + txid +
                   ":4294967295\"]");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->coins.size(), 2u);
    EXPECT_EQ(r->coins[0].txid.to_hex(), txid);
    EXPECT_EQ(r->coins[0].index, 0u);
    EXPECT_EQ(r->coins[1].index, 4294967295u);
    EXPECT_TRUE(parse(to_field() + ", \"amount\": 1")->coins.empty());

    for (const std::string& coins : std::vector<std::string>{
             "[]", "\"" + txid + ":0\"", "[1]", "[\"" + txid + "\"]", "[\"" + txid + ":\"]",
             "[\"" + txid + ":4294967296\"]", "[\"" + txid + ":-1\"]", "[\"" + txid + ":0:1\"]",
             "[\"zz:0\"]", "[\"" + std::string(63, 'a') + ":0\"]"}) {
        expect_error(to_field() + ", \"amount\": 1, \"coins\": " + coins, "bad-request");
    }
    std::string many = "[";
    for (std::size_t i = 0; i <= kMaxSendCoins; ++i) many += (i ? ",\"" : "\"") + txid + ":0\"";
    expect_error(to_field() + ", \"amount\": 1, \"coins\": " + many + "]", "bad-request");
}

TEST(TxRequests, RejectStatus) {
    using core::ValidationCode;
    using core::ValidationResult;
    auto check = [](ValidationResult why, unsigned status, const char* code) {
        Response r = reject_response(why);
        EXPECT_EQ(r.status, status) << why.to_string();
        EXPECT_EQ(code_of(r), code) << why.to_string();
        EXPECT_EQ(reject_status(why), status);
    };
    check(ValidationResult::invalid("bad-txns-signature", "input 0"), 400, "bad-txns-signature");
    check(ValidationResult::fail(ValidationCode::kMissingPrev, "bad-txns-inputs-missingorspent"),
          400, "bad-txns-inputs-missingorspent");
    check(ValidationResult::fail(ValidationCode::kDuplicate, "txn-already-in-mempool"), 409,
          "txn-already-in-mempool");
    check(ValidationResult::fail(ValidationCode::kPolicy, "txn-mempool-conflict"), 409,
          "txn-mempool-conflict");
    check(ValidationResult::fail(ValidationCode::kPolicy, "min-fee-not-met"), 422,
          "min-fee-not-met");
    check(ValidationResult::fail(ValidationCode::kPolicy, "insufficient-funds", "have 5"), 422,
          "insufficient-funds");
    check(ValidationResult::fail(ValidationCode::kPolicy, "amount-out-of-range"), 400,
          "amount-out-of-range");
    check(ValidationResult::fail(ValidationCode::kInternal, "shutting-down"), 503, "shutting-down");
    check(ValidationResult::fail(ValidationCode::kInternal, "unavailable"), 503, "unavailable");
    check(ValidationResult::fail(ValidationCode::kInternal, "store-failure", "disk /x"), 500,
          "internal");
    check(ValidationResult::fail(ValidationCode::kPolicy, "Not A Token"), 422, "rejected");
    // The detail is the message when there is one.
    Response r = reject_response(ValidationResult::invalid("bad-txns-signature", "input 3"));
    EXPECT_EQ(message_of(r), "input 3");
    // A disk error's detail stays in the log.
    r = reject_response(ValidationResult::fail(ValidationCode::kInternal, "store-failure", "/x"));
    EXPECT_EQ(message_of(r).find("/x"), std::string::npos);
}

}  // namespace
}  // namespace peerchain::api
