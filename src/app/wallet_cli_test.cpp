// `peerchain wallet` end to end against the node's own HttpServer serving stand-in wallet
// routes from a temporary data directory with node.json and .cookie, as a node writes them.
#include "app/wallet_cli.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <fstream>
#include <mutex>
#include <thread>

#include "api/auth.hpp"
#include "api/errors.hpp"
#include "api/router.hpp"
#include "api/server/http_server.hpp"
#include "tests/util/test_util.hpp"

namespace peerchain::app {
namespace {

const std::string kToken(64, 'f');
const std::string kAddress = "pcrt1qexampleexampleexampleexampleexampleexampleexampleexamplexx";

WalletCommand command(WalletCommand::Kind kind) {
    WalletCommand c;
    c.kind = kind;
    return c;
}

WalletCommand send(std::string to, std::string amount) {
    WalletCommand c = command(WalletCommand::Kind::kSend);
    c.to = std::move(to);
    c.amount = std::move(amount);
    return c;
}

TEST(WalletCli, ParsesNodeInfo) {
    auto info = parse_node_info(
        R"({"pid":1,"network":"regtest","httpBind":"0.0.0.0","httpPort":3002,"p2pPort":6002})");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->http_port, 3002);
    EXPECT_EQ(info->network, "regtest");
    EXPECT_EQ(info->http_bind, "0.0.0.0");
    for (const char* bad :
         {"", "[]", "{}", R"({"httpPort":0})", R"({"httpPort":70000})", R"({"httpPort":"3001"})"}) {
        EXPECT_FALSE(parse_node_info(bad)) << bad;
    }
}

TEST(WalletCli, ConnectsToLoopbackForWildcardBinds) {
    EXPECT_EQ(connect_host(""), "127.0.0.1");
    EXPECT_EQ(connect_host("0.0.0.0"), "127.0.0.1");
    EXPECT_EQ(connect_host("::"), "::1");
    EXPECT_EQ(connect_host("10.0.0.5"), "10.0.0.5");
}

TEST(WalletCli, SendRequestCarriesBaseUnits) {
    WalletCommand c = send("pcrt1xyz", "0.5");
    c.data = "hello";
    c.fee_rate = 7;
    auto r = make_request(c);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->method, "POST");
    EXPECT_EQ(r->target, "/wallet/send");
    const auto body = boost::json::parse(r->body).as_object();
    EXPECT_EQ(body.at("to").as_string(), "pcrt1xyz");
    EXPECT_EQ(body.at("amount").as_int64(), 50'000'000);
    EXPECT_EQ(body.at("data").as_string(), "hello");
    EXPECT_EQ(body.at("feeRate").as_int64(), 7);

    WalletCommand chosen = send("a", "1");
    chosen.coins = {std::string(64, 'a') + ":0", std::string(64, 'b') + ":3"};
    auto with_coins = make_request(chosen);
    ASSERT_TRUE(with_coins);
    const auto coins = boost::json::parse(with_coins->body).as_object().at("coins").as_array();
    ASSERT_EQ(coins.size(), 2u);
    EXPECT_EQ(coins[1].as_string(), std::string(64, 'b') + ":3");

    auto plain = make_request(send("a", "10"));
    ASSERT_TRUE(plain);
    const auto plain_body = boost::json::parse(plain->body).as_object();
    EXPECT_EQ(plain_body.at("amount").as_int64(), 1'000'000'000);
    EXPECT_FALSE(plain_body.contains("data"));
    EXPECT_FALSE(plain_body.contains("feeRate"));
    EXPECT_FALSE(plain_body.contains("coins"));

    for (const char* bad : {"0", "0.000000001", "-1", "1e3", "abc", ""}) {
        auto r2 = make_request(send("a", bad));
        ASSERT_FALSE(r2) << bad;
        EXPECT_EQ(r2.error().code, util::Errc::kInvalidArgument);
    }
}

TEST(WalletCli, OtherRequests) {
    using K = WalletCommand::Kind;
    EXPECT_EQ(make_request(command(K::kAddress))->target, "/wallet/address");
    EXPECT_EQ(make_request(command(K::kAddress))->method, "GET");
    EXPECT_EQ(make_request(command(K::kNewAddress))->method, "POST");
    EXPECT_EQ(make_request(command(K::kNewAddress))->target, "/wallet/address");
    EXPECT_EQ(make_request(command(K::kBalance))->target, "/wallet/balance");
    EXPECT_EQ(make_request(command(K::kUtxos))->target, "/wallet/utxos");
}

TEST(WalletCli, FormatsAnswers) {
    using K = WalletCommand::Kind;
    EXPECT_EQ(format_answer(command(K::kAddress), R"({"address":"pc1abc"})"), "pc1abc\n");
    EXPECT_EQ(format_answer(command(K::kBalance),
                            R"({"confirmed":1250000000,"pending":1,"immature":5000000000})"),
              "confirmed  12.50000000\n"
              "pending     0.00000001\n"
              "immature   50.00000000\n");
    EXPECT_EQ(format_answer(send("a", "1"), R"({"txid":"ab12","fee":280})"), "ab12\n");
    EXPECT_EQ(format_send_note(R"({"txid":"ab12","fee":280})"), "fee 0.00000280\n");
    EXPECT_EQ(format_send_note(R"({"txid":"ab12"})"), "");
    EXPECT_EQ(
        format_answer(command(K::kUtxos),
                      R"([{"txid":"aa","index":1,"amount":100000000,"height":7,)"
                      R"("coinbase":true,"mature":false,"spentInPool":false},)"
                      R"({"txid":"bb","index":0,"amount":5,"height":-1,"spentInPool":true}])"),
        "aa:1         1.00000000  height 7 coinbase immature\n"
        "bb:0         0.00000005  unconfirmed spent-in-pool\n");
    EXPECT_EQ(format_answer(command(K::kUtxos), R"({"utxos":[]})"), "no coins\n");
    // Shapes it does not know are shown as they came.
    EXPECT_EQ(format_answer(command(K::kBalance), R"({"confirmed":"1.0"})"),
              "{\"confirmed\":\"1.0\"}\n");
    EXPECT_EQ(format_answer(command(K::kAddress), "not json"), "not json\n");
}

// A port that refuses connections for as long as the object lives: bound, not listening.
class RefusingPort {
  public:
    RefusingPort() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        socklen_t len = sizeof addr;
        EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
        port_ = ntohs(addr.sin_port);
    }
    ~RefusingPort() { ::close(fd_); }
    RefusingPort(const RefusingPort&) = delete;
    RefusingPort& operator=(const RefusingPort&) = delete;
    std::uint16_t port() const { return port_; }

  private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

class WalletCliServerTest : public ::testing::Test {
  protected:
    WalletCliServerTest() : work_(boost::asio::make_work_guard(io_)) {
        auto router = std::make_shared<api::Router>(api::Auth(kToken));
        using api::Access;
        using api::Method;
        using api::Request;
        using api::Response;
        router->add(Method::kGet, "/wallet/address", Access::kTokenAlways,
                    api::sync_handler([](const Request&) {
                        return Response::ok({{"address", kAddress}});
                    }));
        router->add(
            Method::kGet, "/wallet/balance", Access::kTokenAlways,
            api::sync_handler([](const Request&) {
                return Response::ok({{"confirmed", 150'000'000}, {"pending", 0}, {"immature", 0}});
            }));
        router->add(Method::kPost, "/wallet/send", Access::kTokenAlways,
                    api::sync_handler([this](const Request& r) {
                        {
                            std::lock_guard lock(mutex_);
                            last_send_body_ = r.body;
                        }
                        auto body = r.json_body();
                        if (!body) return api::bad_json(body.error());
                        if (body->as_object().at("amount").as_int64() > 150'000'000) {
                            return api::error_response(
                                409, "insufficient-funds",
                                "spendable 1.50000000, needed 2.00000280 (amount plus fee)");
                        }
                        return Response::ok({{"txid", std::string(64, '1')}, {"fee", 280}});
                    }));
        api::HttpServerConfig config;
        config.port = 0;
        server_ = std::make_unique<api::HttpServer>(io_, router, config);
        auto started = server_->start();
        EXPECT_TRUE(started) << started.error().to_string();
        thread_ = std::thread([this] { io_.run(); });

        std::ofstream(dir_.path() / "node.json")
            << R"({"network":"regtest","httpBind":"127.0.0.1","httpPort":)" << server_->port()
            << "}\n";
        EXPECT_TRUE(api::write_cookie(dir_.path(), kToken));
        options_.data_dir = dir_.path();
        options_.timeout = std::chrono::seconds(5);
    }

    ~WalletCliServerTest() override {
        server_.reset();
        work_.reset();
        io_.stop();
        thread_.join();
    }

    std::string last_send_body() {
        std::lock_guard lock(mutex_);
        return last_send_body_;
    }

    testutil::TempDir dir_;
    WalletCliOptions options_;
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::unique_ptr<api::HttpServer> server_;
    std::thread thread_;
    std::mutex mutex_;
    std::string last_send_body_;
};

TEST_F(WalletCliServerTest, FindsTheNodeAndSendsTheCookie) {
    auto outcome = run_wallet(command(WalletCommand::Kind::kAddress), options_);
    EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
    EXPECT_EQ(outcome.out, kAddress + "\n");

    outcome = run_wallet(command(WalletCommand::Kind::kBalance), options_);
    EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
    EXPECT_EQ(outcome.out.rfind("confirmed  1.50000000\n", 0), 0u) << outcome.out;

    options_.json = true;
    outcome = run_wallet(command(WalletCommand::Kind::kBalance), options_);
    EXPECT_EQ(outcome.exit_code, 0);
    EXPECT_EQ(boost::json::parse(outcome.out).at("confirmed").as_int64(), 150'000'000);
}

TEST_F(WalletCliServerTest, SendsAndReportsTheServersRefusal) {
    auto outcome = run_wallet(send(kAddress, "1.25"), options_);
    EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
    EXPECT_EQ(outcome.out, std::string(64, '1') + "\n");
    EXPECT_EQ(outcome.note, "fee 0.00000280\n");
    EXPECT_EQ(boost::json::parse(last_send_body()).at("amount").as_int64(), 125'000'000);

    outcome = run_wallet(send(kAddress, "2"), options_);
    EXPECT_EQ(outcome.exit_code, 1);
    EXPECT_EQ(outcome.out, "");
    EXPECT_EQ(outcome.err,
              "spendable 1.50000000, needed 2.00000280 (amount plus fee) (insufficient-funds)\n");

    outcome = run_wallet(send(kAddress, "1.5x"), options_);
    EXPECT_EQ(outcome.exit_code, 2);
    EXPECT_NE(outcome.err.find("not an amount"), std::string::npos) << outcome.err;
}

TEST_F(WalletCliServerTest, AMissingRouteIsTheServersMessage) {
    auto outcome = run_wallet(command(WalletCommand::Kind::kUtxos), options_);
    EXPECT_EQ(outcome.exit_code, 1);
    EXPECT_NE(outcome.err.find("(not-found)"), std::string::npos) << outcome.err;
}

TEST_F(WalletCliServerTest, WithoutTheCookieTheNodeRefusesAndTheHintSaysWhy) {
    std::filesystem::remove(dir_.path() / ".cookie");
    auto outcome = run_wallet(command(WalletCommand::Kind::kAddress), options_);
    EXPECT_EQ(outcome.exit_code, 1);
    EXPECT_NE(outcome.err.find("(unauthorized)"), std::string::npos) << outcome.err;
    EXPECT_NE(outcome.err.find("no API cookie"), std::string::npos) << outcome.err;
}

TEST_F(WalletCliServerTest, HttpPortFlagWinsOverNodeJson) {
    RefusingPort refusing;
    options_.http_port = refusing.port();
    auto outcome = run_wallet(command(WalletCommand::Kind::kAddress), options_);
    EXPECT_EQ(outcome.exit_code, 1);
    EXPECT_NE(outcome.err.find("cannot connect"), std::string::npos) << outcome.err;
    EXPECT_NE(outcome.err.find("--http-port"), std::string::npos) << outcome.err;
}

TEST(WalletCliNoNode, SaysTheNodeIsNotRunning) {
    testutil::TempDir dir;
    RefusingPort refusing;
    WalletCliOptions options;
    options.data_dir = dir.path();
    options.env_port = refusing.port();
    auto outcome = run_wallet(command(WalletCommand::Kind::kBalance), options);
    EXPECT_EQ(outcome.exit_code, 1);
    EXPECT_NE(outcome.err.find("no node is running on " + dir.path().string()), std::string::npos)
        << outcome.err;
    EXPECT_EQ(outcome.out, "");
}

}  // namespace
}  // namespace peerchain::app
