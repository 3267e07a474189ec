// The peer, address book and ban routes end to end through the Router, over TestNode's
// in-memory network (test_node.hpp): what each route shows, who may call it, and what it
// refuses before the node is asked.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/errors.hpp"
#include "api/routes.hpp"
#include "api/test_node.hpp"
#include "chain/chain_test_util.hpp"

namespace peerchain::api {
namespace {

using test::TestNode;

const std::string kToken(64, 'c');

struct Caller {
    bool token = false;
    bool loopback = true;
    std::string authorization;  // sent as is when not empty (overrides `token`)
    std::string origin;
};

Caller caller(bool token, bool loopback, std::string authorization = {}, std::string origin = {}) {
    return Caller{token, loopback, std::move(authorization), std::move(origin)};
}

const Caller kLocal = caller(false, true);
const Caller kLocalWithToken = caller(true, true);
const Caller kRemote = caller(false, false);
const Caller kRemoteWithToken = caller(true, false);

PeerView peer(std::uint64_t id, std::string address, std::string direction, std::string url,
              std::string transport, bool manual) {
    PeerView p;
    p.id = id;
    p.address = std::move(address);
    p.direction = std::move(direction);
    p.url = std::move(url);
    p.transport = std::move(transport);
    p.manual = manual;
    p.user_agent = "/peerchain:0.1.0/";
    p.handshake_done = true;
    p.start_height = 20;
    p.connected_since = 1'795'242'000;
    return p;
}

KnownAddressView known(std::string address, bool tried, std::int64_t last_tried,
                       std::int64_t last_success, int attempts) {
    KnownAddressView a;
    a.address = address;
    a.transports = {"ws", "tcp"};
    a.url = "ws://" + address;
    a.source = "addr from 127.0.0.1:6001";
    a.last_seen = 1'795'240'000;
    a.last_tried = last_tried;
    a.last_success = last_success;
    a.attempts = attempts;
    a.tried = tried;
    return a;
}

class PeerRoutesTest : public ::testing::Test {
  protected:
    PeerRoutesTest() : pool_(h_.chain(), h_.clock()), node_(h_.chain(), pool_) {
        register_routes(router_, node_);
        node_.net.connected = {
            peer(1, "127.0.0.1:6001", "outbound", "ws://127.0.0.1:6001", "ws", true),
            peer(2, "10.0.0.7:50123", "inbound", "", "tcp", false),
            peer(3, "[::1]:6003", "outbound", "tcp://[::1]:6003", "tcp", true),
            peer(4, "1.2.3.4:6001", "outbound", "ws://1.2.3.4:6001", "ws", false),
            peer(5, "1.2.3.4:6002", "outbound", "ws://1.2.3.4:6002", "ws", false),
            peer(6, "5.6.7.8:6001", "outbound", "ws://5.6.7.8:6001", "ws", false)};
        node_.net.manual = {{"ws://127.0.0.1:6001", true, 0, 0},
                            {"tcp://[::1]:6003", true, 0, 0},
                            {"ws://127.0.0.1:6009", false, 1'795'243'000, 4}};
    }

    Response run(Method method, const std::string& target, std::string body = {},
                 const Caller& caller = kLocal) {
        Request r;
        r.method = method;
        r.target = target;
        r.body = std::move(body);
        r.remote_address = caller.loopback ? "127.0.0.1" : "203.0.113.9";
        r.remote_is_loopback = caller.loopback;
        if (caller.token) r.authorization = "Bearer " + kToken;
        if (!caller.authorization.empty()) r.authorization = caller.authorization;
        r.origin = caller.origin;
        auto answer = std::make_shared<std::optional<Response>>();
        router_.handle(std::move(r),
                       Responder([answer](Response res) { *answer = std::move(res); }));
        EXPECT_TRUE(answer->has_value()) << target;
        if (!answer->has_value()) return Response{};
        Response res = normalize_response(std::move(**answer));
        // Every failure has the API's error shape.
        if (res.status >= 400) {
            EXPECT_TRUE(is_error_body(res.body)) << target;
        }
        return res;
    }
    Response get(const std::string& target, const Caller& caller = kLocal) {
        return run(Method::kGet, target, {}, caller);
    }
    Response post(const std::string& target, std::string body, const Caller& caller = kLocal) {
        return run(Method::kPost, target, std::move(body), caller);
    }
    Response del(const std::string& target, const Caller& caller = kLocal) {
        return run(Method::kDelete, target, {}, caller);
    }
    Response ban(const std::string& body) { return post("/bans", body, kLocalWithToken); }

    static std::string code_of(const Response& r) {
        return std::string(r.body.at("error").at("code").as_string());
    }
    static std::string dump(const Response& r) { return boost::json::serialize(r.body); }
    static std::string header(const Response& r, std::string_view name) {
        for (const auto& h : r.headers) {
            if (h.name == name) return h.value;
        }
        return {};
    }
    bool connected(std::string_view address) const {
        for (const auto& p : node_.net.connected) {
            if (p.address == address) return true;
        }
        return false;
    }
    bool manual(std::string_view url) const {
        for (const auto& m : node_.net.manual) {
            if (m.url == url) return true;
        }
        return false;
    }

    chain::test::ChainHarness h_;
    mempool::Mempool pool_;
    TestNode node_;
    Router router_{Auth(kToken)};
};

// --- GET /peers ----------------------------------------------------------------------------

TEST_F(PeerRoutesTest, PeersShowTransportAndManual) {
    const Response r = get("/peers", kRemote);
    ASSERT_EQ(r.status, 200u) << dump(r);
    const auto& list = r.body.as_array();
    ASSERT_EQ(list.size(), 6u);
    EXPECT_EQ(list[0].at("transport").as_string(), "ws");
    EXPECT_TRUE(list[0].at("manual").as_bool());
    EXPECT_EQ(list[0].at("url").as_string(), "ws://127.0.0.1:6001");
    EXPECT_EQ(list[1].at("transport").as_string(), "tcp");
    EXPECT_FALSE(list[1].at("manual").as_bool());
    EXPECT_FALSE(list[1].as_object().contains("url"));  // inbound: nothing dialed
    EXPECT_EQ(list[1].at("direction").as_string(), "inbound");
    EXPECT_EQ(list[2].at("url").as_string(), "tcp://[::1]:6003");
}

// --- GET /peers/known ----------------------------------------------------------------------

TEST_F(PeerRoutesTest, KnownShowsTheBookAndTheManualPeers) {
    node_.net.book = {known("1.2.3.4:6001", true, 1'795'241'000, 1'795'241'000, 0),
                      known("[2001:db9::1]:6001", false, 0, 0, 0),
                      known("5.6.7.8:6001", false, 1'795'242'000, 0, 2)};
    const Response r = get("/peers/known", kRemote);  // open, as /peers is
    ASSERT_EQ(r.status, 200u) << dump(r);
    EXPECT_EQ(node_.net.last_book_limit, kDefaultKnownAddresses);
    const auto& j = r.body.as_object();
    EXPECT_EQ(j.at("new").to_number<std::int64_t>(), 2);
    EXPECT_EQ(j.at("tried").to_number<std::int64_t>(), 1);
    EXPECT_EQ(j.at("capacity").to_number<std::int64_t>(), 20480);

    const auto& addresses = j.at("addresses").as_array();
    ASSERT_EQ(addresses.size(), 3u);
    const auto& tried = addresses[0].as_object();
    EXPECT_EQ(tried.at("address").as_string(), "1.2.3.4:6001");
    EXPECT_EQ(tried.at("transports"), boost::json::array({"ws", "tcp"}));
    EXPECT_EQ(tried.at("url").as_string(), "ws://1.2.3.4:6001");
    EXPECT_EQ(tried.at("source").as_string(), "addr from 127.0.0.1:6001");
    EXPECT_EQ(tried.at("lastSeen").as_int64(), 1'795'240'000);
    EXPECT_EQ(tried.at("lastTried").as_int64(), 1'795'241'000);
    EXPECT_EQ(tried.at("lastSuccess").as_int64(), 1'795'241'000);
    EXPECT_EQ(tried.at("attempts").as_int64(), 0);
    EXPECT_EQ(tried.at("table").as_string(), "tried");
    // Never tried: both times are null, not 0.
    const auto& fresh = addresses[1].as_object();
    EXPECT_EQ(fresh.at("address").as_string(), "[2001:db9::1]:6001");
    EXPECT_TRUE(fresh.at("lastTried").is_null());
    EXPECT_TRUE(fresh.at("lastSuccess").is_null());
    EXPECT_EQ(fresh.at("table").as_string(), "new");
    const auto& failing = addresses[2].as_object();
    EXPECT_EQ(failing.at("lastTried").as_int64(), 1'795'242'000);
    EXPECT_TRUE(failing.at("lastSuccess").is_null());
    EXPECT_EQ(failing.at("attempts").as_int64(), 2);

    const auto& manual = j.at("manual").as_array();
    ASSERT_EQ(manual.size(), 3u);
    EXPECT_EQ(manual[0].at("url").as_string(), "ws://127.0.0.1:6001");
    EXPECT_TRUE(manual[0].at("connected").as_bool());
    EXPECT_EQ(manual[0].at("nextAttempt").as_int64(), 0);
    EXPECT_EQ(manual[2].at("url").as_string(), "ws://127.0.0.1:6009");
    EXPECT_FALSE(manual[2].at("connected").as_bool());
    EXPECT_EQ(manual[2].at("nextAttempt").as_int64(), 1'795'243'000);
    EXPECT_EQ(manual[2].at("failures").as_int64(), 4);
}

TEST_F(PeerRoutesTest, KnownEmptyBook) {
    node_.net.manual.clear();
    const Response r = get("/peers/known");
    ASSERT_EQ(r.status, 200u);
    EXPECT_TRUE(r.body.at("addresses").as_array().empty());
    EXPECT_TRUE(r.body.at("manual").as_array().empty());
    EXPECT_EQ(r.body.at("new").to_number<std::int64_t>(), 0);
}

TEST_F(PeerRoutesTest, KnownLimitIsParsedAndCapped) {
    for (int i = 0; i < 5; ++i) {
        node_.net.book.push_back(known("1.2.3." + std::to_string(i + 1) + ":6001", false, 0, 0, 0));
    }
    Response two = get("/peers/known?limit=2");
    ASSERT_EQ(two.status, 200u);
    EXPECT_EQ(node_.net.last_book_limit, 2u);
    EXPECT_EQ(two.body.at("addresses").as_array().size(), 2u);
    EXPECT_EQ(two.body.at("new").to_number<std::int64_t>(), 5);  // counts are of the whole book

    Response none = get("/peers/known?limit=0");
    ASSERT_EQ(none.status, 200u);
    EXPECT_TRUE(none.body.at("addresses").as_array().empty());

    EXPECT_EQ(get("/peers/known?limit=20480").status, 200u);
    EXPECT_EQ(node_.net.last_book_limit, kMaxKnownAddresses);
    EXPECT_EQ(get("/peers/known?limit=20481").status, 200u);
    EXPECT_EQ(node_.net.last_book_limit, kMaxKnownAddresses);
    EXPECT_EQ(get("/peers/known?limit=99999999999999999999999999").status, 200u);
    EXPECT_EQ(node_.net.last_book_limit, kMaxKnownAddresses);

    node_.net.last_book_limit = 12345;
    for (const char* bad : {"-1", "abc", "1.5", "", "%201", "+1", "0x10", "1e3", "5%00"}) {
        const Response r = get(std::string("/peers/known?limit=") + bad);
        EXPECT_EQ(r.status, 400u) << bad;
        EXPECT_EQ(code_of(r), "bad-request") << bad;
    }
    EXPECT_EQ(node_.net.last_book_limit, 12345u);  // refused before the node was asked
}

TEST_F(PeerRoutesTest, KnownIsALiteralBesideDeleteByAddress) {
    Response r = get("/peers/1.2.3.4:6001");
    EXPECT_EQ(r.status, 405u);
    EXPECT_EQ(header(r, "Allow"), "DELETE, OPTIONS");
    // DELETE /peers/known is a peer address to remove, which the node does not know.
    r = del("/peers/known");
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(node_.net.remove_calls, 1);
}

// --- POST /addPeer -------------------------------------------------------------------------

TEST_F(PeerRoutesTest, AddPeerIsKeptOnceAndOpenToLoopback) {
    Response r = post("/addPeer", R"({"peer": "tcp://127.0.0.1:6010"})");
    ASSERT_EQ(r.status, 202u) << dump(r);
    EXPECT_EQ(r.body.at("peer").as_string(), "tcp://127.0.0.1:6010");
    EXPECT_EQ(r.body.at("status").as_string(), "connecting");
    // Adding it again is no error, and it stays one manual peer.
    EXPECT_EQ(post("/add-to-peer", R"({"peer": "tcp://127.0.0.1:6010"})").status, 202u);
    Response known = get("/peers/known");
    int count = 0;
    for (const auto& m : known.body.at("manual").as_array()) {
        count += m.at("url").as_string() == "tcp://127.0.0.1:6010";
    }
    EXPECT_EQ(count, 1);

    Response bad = post("/addPeer", R"({"peer": "http://example"})");
    EXPECT_EQ(bad.status, 400u);
    EXPECT_EQ(code_of(bad), "bad-request");
    EXPECT_EQ(post("/addPeer", R"({"peer": 7})").status, 400u);
    EXPECT_EQ(code_of(post("/addPeer", "nope")), "bad-json");
    EXPECT_EQ(post("/addPeer", R"({"peer": "ws://1.2.3.4:1"})", kRemote).status, 401u);
}

// --- DELETE /peers/{address}, POST /removePeer ------------------------------------------------

TEST_F(PeerRoutesTest, DeletePeerByEncodedUrl) {
    const Response r = del("/peers/ws%3A%2F%2F127.0.0.1%3A6001");
    ASSERT_EQ(r.status, 200u) << dump(r);
    EXPECT_EQ(r.body.at("peer").as_string(), "ws://127.0.0.1:6001");
    EXPECT_EQ(r.body.at("status").as_string(), "removed");
    EXPECT_FALSE(manual("ws://127.0.0.1:6001"));
    EXPECT_FALSE(connected("127.0.0.1:6001"));
    // Lower-case escapes decode the same.
    EXPECT_EQ(del("/peers/tcp%3a%2f%2f%5b%3a%3a1%5d%3a6003").status, 200u);
    EXPECT_FALSE(manual("tcp://[::1]:6003"));
    EXPECT_FALSE(connected("[::1]:6003"));
}

TEST_F(PeerRoutesTest, DeletePeerByHostPort) {
    // A manual peer that is not connected: forgetting it is what stops the redialing.
    Response r = del("/peers/127.0.0.1:6009");
    ASSERT_EQ(r.status, 200u) << dump(r);
    EXPECT_EQ(r.body.at("peer").as_string(), "127.0.0.1:6009");
    EXPECT_FALSE(manual("ws://127.0.0.1:6009"));
    // An inbound peer that is no manual peer is disconnected.
    EXPECT_EQ(del("/peers/10.0.0.7%3A50123").status, 200u);
    EXPECT_FALSE(connected("10.0.0.7:50123"));
    // IPv6 in brackets, escaped and as is.
    EXPECT_EQ(del("/peers/%5B%3A%3A1%5D%3A6003").status, 200u);
    EXPECT_FALSE(connected("[::1]:6003"));
    node_.net.connected.push_back(peer(9, "[::1]:6004", "inbound", "", "ws", false));
    EXPECT_EQ(del("/peers/[::1]:6004").status, 200u);
    EXPECT_FALSE(connected("[::1]:6004"));
    // A trailing slash is ignored, as everywhere.
    EXPECT_EQ(del("/peers/5.6.7.8:6001/").status, 200u);
}

TEST_F(PeerRoutesTest, DeletePeerFailures) {
    Response missing = del("/peers/127.0.0.1:7777");
    EXPECT_EQ(missing.status, 404u);
    EXPECT_EQ(code_of(missing), "not-found");
    Response again = del("/peers/ws%3A%2F%2F127.0.0.1%3A6001");
    EXPECT_EQ(again.status, 200u);
    EXPECT_EQ(del("/peers/ws%3A%2F%2F127.0.0.1%3A6001").status, 404u);

    Response invalid = del("/peers/not-an-address");
    EXPECT_EQ(invalid.status, 400u);
    EXPECT_EQ(code_of(invalid), "bad-request");
    EXPECT_EQ(node_.net.remove_calls, 4);

    // An unescaped URL splits into path segments and matches no route.
    Response split = del("/peers/ws://127.0.0.1:6001");
    EXPECT_EQ(split.status, 404u);
    EXPECT_EQ(code_of(split), "not-found");
    // Bad escapes, control bytes and spaces are refused before the node is asked.
    for (const char* target :
         {"/peers/%zz", "/peers/%4", "/peers/1.2.3.4%0A:6001", "/peers/1.2.3.4%20:6001",
          "/peers/%00", "/peers/%7F", "/peers/%C3%A9:1"}) {
        const Response r = del(target);
        EXPECT_EQ(r.status, 400u) << target;
        EXPECT_EQ(code_of(r), "bad-request") << target;
    }
    EXPECT_EQ(node_.net.remove_calls, 4);
}

TEST_F(PeerRoutesTest, DeletePeerBoundsTheAddressLength) {
    // 512 bytes reach the node (which knows no such peer); 513 do not.
    const std::string host(kMaxPeerAddressLength - 5, 'a');
    EXPECT_EQ(del("/peers/" + host + ":6001").status, 404u);
    EXPECT_EQ(node_.net.remove_calls, 1);
    const Response r = del("/peers/" + host + "a:6001");
    EXPECT_EQ(r.status, 400u);
    EXPECT_NE(std::string(r.body.at("error").at("message").as_string()).find("at most 512"),
              std::string::npos);
    // Escaped bytes count once decoded.
    std::string escaped;
    for (std::size_t i = 0; i < kMaxPeerAddressLength + 1; ++i) escaped += "%61";
    EXPECT_EQ(del("/peers/" + escaped).status, 400u);
    EXPECT_EQ(node_.net.remove_calls, 1);
}

TEST_F(PeerRoutesTest, RemovePeerByBody) {
    Response r = post("/removePeer", R"({"peer": "tcp://[::1]:6003"})");
    ASSERT_EQ(r.status, 200u) << dump(r);
    EXPECT_EQ(r.body.at("peer").as_string(), "tcp://[::1]:6003");
    EXPECT_EQ(r.body.at("status").as_string(), "removed");
    EXPECT_FALSE(manual("tcp://[::1]:6003"));
    EXPECT_EQ(post("/remove-peer", R"({"peer": "127.0.0.1:6009"})").status, 200u);
    EXPECT_FALSE(manual("ws://127.0.0.1:6009"));
    Response gone = post("/removePeer", R"({"peer": "127.0.0.1:6009"})");
    EXPECT_EQ(gone.status, 404u);
    EXPECT_EQ(code_of(gone), "not-found");
    Response invalid = post("/removePeer", R"({"peer": "ws://nope"})");
    EXPECT_EQ(invalid.status, 400u);
    EXPECT_EQ(code_of(invalid), "bad-request");
    EXPECT_EQ(node_.net.remove_calls, 4);
}

TEST_F(PeerRoutesTest, RemovePeerRefusesHostileBodies) {
    const std::string huge(kMaxPeerAddressLength + 1, 'a');
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "bad-json"},
        {"nope", "bad-json"},
        {"[]", "bad-json"},
        {"\"ws://127.0.0.1:6001\"", "bad-json"},
        {R"({"peer": "ws://127.0.0.1:6001")", "bad-json"},
        {"{}", "bad-request"},
        {R"({"peer": null})", "bad-request"},
        {R"({"peer": 6001})", "bad-request"},
        {R"({"peer": ["ws://127.0.0.1:6001"]})", "bad-request"},
        {R"({"peer": {"url": "ws://127.0.0.1:6001"}})", "bad-request"},
        {R"({"peer": ""})", "bad-request"},
        {R"({"peer": "ws://127.0.0.1:6001\n"})", "bad-request"},
        {R"({"peer": "ws://127.0.0.1:6001", "force": true})", "bad-request"},
        {R"({"Peer": "ws://127.0.0.1:6001"})", "bad-request"},
        {"{\"peer\": \"" + huge + "\"}", "bad-request"},
    };
    for (const auto& [body, code] : cases) {
        const Response r = post("/removePeer", body);
        EXPECT_EQ(r.status, 400u) << body;
        EXPECT_EQ(code_of(r), code) << body;
    }
    EXPECT_EQ(node_.net.remove_calls, 0);
    EXPECT_TRUE(manual("ws://127.0.0.1:6001"));
}

TEST_F(PeerRoutesTest, RemovingPeersNeedsLoopbackOrTheToken) {
    const std::string body = R"({"peer": "ws://127.0.0.1:6001"})";
    // A remote client needs the token, on both routes.
    Response r = post("/removePeer", body, kRemote);
    EXPECT_EQ(r.status, 401u);
    EXPECT_EQ(code_of(r), "unauthorized");
    EXPECT_EQ(del("/peers/127.0.0.1:6001", kRemote).status, 401u);
    // A foreign web page in a local browser does not get the loopback exemption.
    EXPECT_EQ(post("/removePeer", body, caller(false, true, {}, "https://evil.example")).status,
              401u);
    // A wrong token is refused even from loopback.
    EXPECT_EQ(
        post("/removePeer", body, caller(false, true, "Bearer " + std::string(64, 'd'))).status,
        401u);
    EXPECT_EQ(node_.net.remove_calls, 0);
    EXPECT_TRUE(manual("ws://127.0.0.1:6001"));

    EXPECT_EQ(post("/removePeer", body, kRemoteWithToken).status, 200u);
    EXPECT_EQ(del("/peers/5.6.7.8:6001", kRemoteWithToken).status, 200u);
    EXPECT_EQ(del("/peers/10.0.0.7:50123", kLocal).status, 200u);
}

// --- /bans ---------------------------------------------------------------------------------

TEST_F(PeerRoutesTest, BanRoutesNeedTheTokenEvenFromLoopback) {
    node_.net.banned["9.9.9.9"] = {"9.9.9.9", "banned", 1, 2'000'000'000};
    const std::vector<std::pair<Method, std::string>> routes = {{Method::kGet, "/bans"},
                                                                {Method::kHead, "/bans"},
                                                                {Method::kPost, "/bans"},
                                                                {Method::kDelete, "/bans/9.9.9.9"}};
    const std::string body = R"({"address": "1.2.3.4", "seconds": 60})";
    for (const auto& [method, target] : routes) {
        for (const Caller& caller : {kLocal, kRemote, caller(false, true, "Bearer x"),
                                     caller(false, true, "Bearer " + std::string(64, 'd'))}) {
            const Response r = run(method, target, body, caller);
            EXPECT_EQ(r.status, 401u) << method_name(method) << " " << target;
            EXPECT_EQ(code_of(r), "unauthorized");
            EXPECT_FALSE(header(r, "WWW-Authenticate").empty());
        }
    }
    EXPECT_EQ(node_.net.ban_calls, 0);
    EXPECT_EQ(node_.net.banned.size(), 1u);
    EXPECT_TRUE(connected("1.2.3.4:6001"));

    EXPECT_EQ(get("/bans", kLocalWithToken).status, 200u);
    EXPECT_EQ(run(Method::kHead, "/bans", {}, kLocalWithToken).status, 200u);
    EXPECT_EQ(get("/bans", kRemoteWithToken).status, 200u);
}

TEST_F(PeerRoutesTest, BanListsBansThenDiscouraged) {
    node_.net.discouraged = {{"203.0.114.5", "discouraged", 1'795'200'000, 1'795'286'400}};
    Response empty = get("/bans", kLocalWithToken);
    ASSERT_EQ(empty.status, 200u);
    ASSERT_EQ(empty.body.as_array().size(), 1u);

    ASSERT_EQ(ban(R"({"address": "5.6.7.8:6001", "seconds": 60})").status, 200u);
    ASSERT_EQ(ban(R"({"address": "1.2.3.4", "seconds": 86400})").status, 200u);
    const Response r = get("/bans", kLocalWithToken);
    ASSERT_EQ(r.status, 200u) << dump(r);
    const auto& list = r.body.as_array();
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(list[0].at("address").as_string(), "1.2.3.4");
    EXPECT_EQ(list[0].at("kind").as_string(), "banned");
    EXPECT_EQ(list[0].at("created").as_int64(), node_.net.now);
    EXPECT_EQ(list[0].at("until").as_int64(), node_.net.now + 86400);
    EXPECT_EQ(list[1].at("address").as_string(), "5.6.7.8:6001");
    EXPECT_EQ(list[2].at("address").as_string(), "203.0.114.5");
    EXPECT_EQ(list[2].at("kind").as_string(), "discouraged");
    EXPECT_EQ(list[2].at("until").as_int64(), 1'795'286'400);
}

TEST_F(PeerRoutesTest, BanAnswersWithTheBanAndDisconnects) {
    Response host = ban(R"({"address": "1.2.3.4", "seconds": 3600})");
    ASSERT_EQ(host.status, 200u) << dump(host);
    EXPECT_EQ(host.body, boost::json::parse(R"({"address": "1.2.3.4", "kind": "banned",
        "created": 1795242906, "until": 1795246506})"));
    // Every port of the host goes; other hosts stay.
    EXPECT_FALSE(connected("1.2.3.4:6001"));
    EXPECT_FALSE(connected("1.2.3.4:6002"));
    EXPECT_TRUE(connected("5.6.7.8:6001"));

    // One endpoint: only that port goes. The longest ban is accepted.
    node_.net.connected.push_back(peer(7, "127.0.0.1:6002", "inbound", "", "ws", false));
    Response endpoint = ban(R"({"address": "127.0.0.1:6002", "seconds": 315360000})");
    ASSERT_EQ(endpoint.status, 200u) << dump(endpoint);
    EXPECT_EQ(endpoint.body.at("until").as_int64(), node_.net.now + kMaxBanSeconds);
    EXPECT_FALSE(connected("127.0.0.1:6002"));
    EXPECT_TRUE(connected("127.0.0.1:6001"));

    // Banning again replaces the ban.
    Response again = ban(R"({"address": "1.2.3.4", "seconds": 1})");
    ASSERT_EQ(again.status, 200u);
    EXPECT_EQ(again.body.at("until").as_int64(), node_.net.now + 1);
    EXPECT_EQ(node_.net.banned.size(), 2u);

    // What the node refuses comes back as its 400.
    Response refused = ban(R"({"address": "1.2.3.4/24", "seconds": 60})");
    EXPECT_EQ(refused.status, 400u);
    EXPECT_EQ(code_of(refused), "bad-request");
    EXPECT_EQ(node_.net.ban_calls, 4);
}

TEST_F(PeerRoutesTest, BanRefusesHostileBodies) {
    const std::string huge(kMaxPeerAddressLength + 1, '1');
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "bad-json"},
        {"null", "bad-json"},
        {"[]", "bad-json"},
        {"{", "bad-json"},
        {"{}", "bad-request"},
        {R"({"seconds": 60})", "bad-request"},
        {R"({"address": "1.2.3.4"})", "bad-request"},
        {R"({"address": 16909060, "seconds": 60})", "bad-request"},
        {R"({"address": null, "seconds": 60})", "bad-request"},
        {R"({"address": ["1.2.3.4"], "seconds": 60})", "bad-request"},
        {R"({"address": "", "seconds": 60})", "bad-request"},
        {R"({"address": " 1.2.3.4", "seconds": 60})", "bad-request"},
        {R"({"address": "1.2.3.4\u0000", "seconds": 60})", "bad-request"},
        {"{\"address\": \"" + huge + "\", \"seconds\": 60}", "bad-request"},
        {R"({"address": "1.2.3.4", "seconds": 60, "reason": "spam"})", "bad-request"},
        {R"({"Address": "1.2.3.4", "seconds": 60})", "bad-request"},
        {R"({"address": "1.2.3.4", "seconds": 0})", "seconds-out-of-range"},
        {R"({"address": "1.2.3.4", "seconds": -60})", "seconds-out-of-range"},
        {R"({"address": "1.2.3.4", "seconds": 315360001})", "seconds-out-of-range"},
        {R"({"address": "1.2.3.4", "seconds": 9223372036854775807})", "seconds-out-of-range"},
        {R"({"address": "1.2.3.4", "seconds": 18446744073709551615})", "seconds-out-of-range"},
        {R"({"address": "1.2.3.4", "seconds": 1e400})", "seconds-out-of-range"},
        {R"({"address": "1.2.3.4", "seconds": 99999999999999999999999})", "seconds-out-of-range"},
        {R"({"address": "1.2.3.4", "seconds": -9223372036854775808})", "seconds-out-of-range"},
        {R"({"address": "1.2.3.4", "seconds": 1.5})", "seconds-out-of-range"},
        {R"({"address": "1.2.3.4", "seconds": 60.0})", "seconds-out-of-range"},
        {R"({"address": "1.2.3.4", "seconds": 6e1})", "seconds-out-of-range"},
        {R"({"address": "1.2.3.4", "seconds": "60"})", "seconds-out-of-range"},
        {R"({"address": "1.2.3.4", "seconds": true})", "seconds-out-of-range"},
        {R"({"address": "1.2.3.4", "seconds": null})", "seconds-out-of-range"},
        {R"({"address": "1.2.3.4", "seconds": [60]})", "seconds-out-of-range"},
        {R"({"address": "1.2.3.4", "seconds": {"n": 60}})", "seconds-out-of-range"},
    };
    for (const auto& [body, code] : cases) {
        const Response r = ban(body);
        EXPECT_EQ(r.status, 400u) << body;
        EXPECT_EQ(code_of(r), code) << body;
    }
    EXPECT_EQ(node_.net.ban_calls, 0);
    EXPECT_TRUE(node_.net.banned.empty());
    EXPECT_TRUE(connected("1.2.3.4:6001"));
}

TEST_F(PeerRoutesTest, UnbanLiftsOneBan) {
    ASSERT_EQ(ban(R"({"address": "1.2.3.4", "seconds": 60})").status, 200u);
    ASSERT_EQ(ban(R"({"address": "[::1]:6001", "seconds": 60})").status, 200u);

    Response r = del("/bans/1.2.3.4", kLocalWithToken);
    ASSERT_EQ(r.status, 200u) << dump(r);
    EXPECT_EQ(r.body, boost::json::parse(R"({"address": "1.2.3.4", "status": "unbanned"})"));
    Response again = del("/bans/1.2.3.4", kLocalWithToken);
    EXPECT_EQ(again.status, 404u);
    EXPECT_EQ(code_of(again), "not-found");

    // A bracketed IPv6 endpoint, escaped.
    Response v6 = del("/bans/%5B%3A%3A1%5D%3A6001", kLocalWithToken);
    ASSERT_EQ(v6.status, 200u) << dump(v6);
    EXPECT_EQ(v6.body.at("address").as_string(), "[::1]:6001");
    EXPECT_TRUE(node_.net.banned.empty());

    // A discouraged host is no manual ban.
    node_.net.discouraged = {{"203.0.114.5", "discouraged", 1, 2}};
    EXPECT_EQ(del("/bans/203.0.114.5", kLocalWithToken).status, 404u);

    EXPECT_EQ(del("/bans/not%2Fan%2Faddress", kLocalWithToken).status, 400u);
    EXPECT_EQ(del("/bans/1.2.3.4%0A", kLocalWithToken).status, 400u);
    EXPECT_EQ(del("/bans/" + std::string(kMaxPeerAddressLength + 1, '1'), kLocalWithToken).status,
              400u);
    EXPECT_EQ(del("/bans/%zz", kLocalWithToken).status, 400u);
}

}  // namespace
}  // namespace peerchain::api
