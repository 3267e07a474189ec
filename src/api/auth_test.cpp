#include "api/auth.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>

#include "api/errors.hpp"
#include "api/router.hpp"
#include "tests/util/test_util.hpp"

namespace peerchain::api {
namespace {

const std::string kToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

unsigned mode_of(const std::filesystem::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st.st_mode & 07777;
}

TEST(Token, Is32RandomBytesInHex) {
    auto a = generate_token();
    auto b = generate_token();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->size(), 2 * kTokenBytes);
    EXPECT_EQ(a->find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(*a, *b);
}

TEST(Cookie, IsWrittenWithMode0600AndHoldsTheToken) {
    testutil::TempDir dir;
    auto auth = Auth::create(dir.path());
    ASSERT_TRUE(auth) << auth.error().to_string();
    const auto path = cookie_path(dir.path());
    EXPECT_EQ(auth->cookie_file(), path);
    EXPECT_EQ(mode_of(path), 0600u);
    EXPECT_EQ(slurp(path), auth->token());
    EXPECT_EQ(*read_cookie(dir.path()), auth->token());
    EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));

    ASSERT_TRUE(auth->remove_cookie());
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_TRUE(auth->remove_cookie());  // twice is fine
    EXPECT_EQ(read_cookie(dir.path()).error().code, util::Errc::kNotFound);
}

TEST(Cookie, ReplacesAWorldReadableLeftover) {
    testutil::TempDir dir;
    const auto path = cookie_path(dir.path());
    {
        std::ofstream(path) << "old";
        std::ofstream(path.string() + ".tmp") << "stale";
    }
    ::chmod(path.c_str(), 0644);
    ::chmod((path.string() + ".tmp").c_str(), 0666);
    const mode_t old_umask = ::umask(0);  // the mode must not depend on the umask
    auto auth = Auth::create(dir.path());
    ::umask(old_umask);
    ASSERT_TRUE(auth);
    EXPECT_EQ(mode_of(path), 0600u);
    EXPECT_EQ(slurp(path), auth->token());
}

TEST(Cookie, LeavesAnotherNodesCookieAlone) {
    testutil::TempDir dir;
    auto first = Auth::create(dir.path());
    auto second = Auth::create(dir.path());
    ASSERT_TRUE(first && second);
    ASSERT_TRUE(first->remove_cookie());
    EXPECT_EQ(*read_cookie(dir.path()), second->token());
}

TEST(Cookie, FailsWithoutTheDirectory) {
    testutil::TempDir dir;
    auto auth = Auth::create(dir.path() / "missing");
    ASSERT_FALSE(auth);
    EXPECT_EQ(auth.error().code, util::Errc::kIo);
}

TEST(Auth, ComparesBearerTokens) {
    const Auth auth(kToken);
    EXPECT_TRUE(auth.accepts("Bearer " + kToken));
    EXPECT_TRUE(auth.accepts("bearer " + kToken));
    EXPECT_FALSE(auth.accepts(kToken));
    EXPECT_FALSE(auth.accepts("Basic " + kToken));
    EXPECT_FALSE(auth.accepts("Bearer " + kToken.substr(1)));
    EXPECT_FALSE(auth.accepts("Bearer " + kToken + "0"));
    EXPECT_FALSE(auth.accepts("Bearer " + std::string(64, '0')));
    EXPECT_FALSE(auth.accepts(""));
    EXPECT_FALSE(Auth().accepts("Bearer "));
    EXPECT_FALSE(Auth().accepts("Bearer"));
    EXPECT_TRUE(constant_time_equal("abc", "abc"));
    EXPECT_FALSE(constant_time_equal("abc", "abd"));
    EXPECT_FALSE(constant_time_equal("abc", "ab"));
}

TEST(Auth, RecognisesLoopbackHostsAndOrigins) {
    for (const char* host :
         {"localhost", "LOCALHOST:3001", "127.0.0.1", "127.1.2.3:80", "[::1]", "[::1]:3001"}) {
        EXPECT_TRUE(is_loopback_host(host)) << host;
    }
    for (const char* host : {"", "evil.com", "localhost.evil.com", "127.0.0.1.evil.com",
                             "128.0.0.1", "10.0.0.1:3001", "[::2]", "127.0.0", "127.0.0.256"}) {
        EXPECT_FALSE(is_loopback_host(host)) << host;
    }
    EXPECT_TRUE(is_loopback_origin("http://localhost:3001"));
    EXPECT_TRUE(is_loopback_origin("http://127.0.0.1"));
    EXPECT_TRUE(is_loopback_origin("http://[::1]:8080"));
    EXPECT_FALSE(is_loopback_origin("null"));
    EXPECT_FALSE(is_loopback_origin("https://evil.com"));
    EXPECT_FALSE(is_loopback_origin("http://localhost.evil.com"));
}

// Issue 8: "localhost:80@evil.example" passed as loopback because whatever followed the first
// ':' was dropped without checking it was a port.
TEST(Auth, HostAndOriginParsingIsStrict) {
    for (const char* host :
         {"localhost:65535", "localhost:1", "127.0.0.1:03001", "[::1]:80", "Localhost"}) {
        EXPECT_TRUE(is_loopback_host(host)) << host;
    }
    for (const char* host : {"localhost:80@evil.example",
                             "localhost@evil.example",
                             "user@localhost",
                             "user:pass@localhost",
                             "localhost:",
                             "localhost:abc",
                             "localhost:0",
                             "localhost:65536",
                             "localhost:999999",
                             "localhost:+80",
                             "localhost:-1",
                             "localhost: 80",
                             "localhost:80 ",
                             " localhost",
                             "localhost:80:81",
                             "localhost/path",
                             "localhost:80/path",
                             "localhost?x",
                             "localhost#x",
                             "localhost.",
                             ".localhost",
                             "local host",
                             "localhost%00",
                             "127.0.0.1.evil.com",
                             "127.0.0.1:80.evil.com",
                             "[::1]x",
                             "[::1]:",
                             "[::1]:80x",
                             "[::1",
                             "::1",
                             "[::1]]",
                             "[::1%25eth0]",
                             "[]",
                             "[::1]@evil.example",
                             "evil.example\\@localhost",
                             "localhost\\"}) {
        EXPECT_FALSE(is_loopback_host(host)) << host;
    }
    for (const char* origin : {"http://localhost", "https://127.0.0.1:3001", "http://[::1]:3001",
                               "HTTP://LOCALHOST:3001"}) {
        EXPECT_TRUE(is_loopback_origin(origin)) << origin;
    }
    for (const char* origin :
         {"http://localhost:3001/", "http://localhost/path", "http://user@localhost",
          "http://localhost:80@evil.example", "http://localhost:", "ftp://localhost",
          "file://localhost", "ws://localhost", "http:/localhost", "http//localhost", "http://",
          "://localhost", "http://localhost?x", "http://localhost#x", "http://localhost ",
          "http://evil.com#@localhost", "http://127.0.0.1.evil.com", "null"}) {
        EXPECT_FALSE(is_loopback_origin(origin)) << origin;
    }
    const auto parsed = parse_host_port("example.com:8080");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->host, "example.com");
    EXPECT_EQ(parsed->port, 8080);
    const auto v6 = parse_host_port("[2001:db8::1]");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "[2001:db8::1]");
    EXPECT_FALSE(v6->port);
    EXPECT_FALSE(parse_host_port(""));
}

// The access levels, through the router's public pipeline with requests built field by
// field: the only way to present a non-loopback client on a machine whose every local
// address is a loopback or an interface we cannot rely on.
class AccessTest : public ::testing::Test {
  protected:
    AccessTest() : router(Auth(kToken)) {
        auto ok = sync_handler([](const Request&) { return Response::ok({{"ok", true}}); });
        router.add(Method::kGet, "/open", Access::kOpen, ok);
        router.add(Method::kPost, "/local", Access::kLoopbackOrToken, ok);
        router.add(Method::kPost, "/secret", Access::kTokenAlways, ok);
    }

    static Request request(std::string target, bool loopback, std::string authorization = {}) {
        Request r;
        r.method = target == "/open" ? Method::kGet : Method::kPost;
        r.target = std::move(target);
        r.remote_is_loopback = loopback;
        r.remote_address = loopback ? "127.0.0.1" : "192.0.2.7";
        r.authorization = std::move(authorization);
        return r;
    }

    Response run(Request r) const {
        std::optional<Response> answer;
        router.handle(std::move(r), Responder([&](Response x) { answer = std::move(x); }));
        EXPECT_TRUE(answer);
        return answer ? *answer : Response{};
    }

    void expect_401(const Response& r) const {
        EXPECT_EQ(r.status, 401u);
        EXPECT_EQ(r.body.at("error").at("code"), "unauthorized");
        bool challenge = false;
        for (const auto& h : r.headers) {
            challenge |= h.name == "WWW-Authenticate" && h.value.rfind("Bearer", 0) == 0;
        }
        EXPECT_TRUE(challenge);
    }

    Router router;
    const std::string good = "Bearer " + kToken;
    const std::string bad = "Bearer " + std::string(64, 'f');
};

TEST_F(AccessTest, OpenRoutesServeAnyone) {
    EXPECT_EQ(run(request("/open", false)).status, 200u);
    EXPECT_EQ(run(request("/open", true)).status, 200u);
    EXPECT_EQ(run(request("/open", false, bad)).status, 200u);
}

TEST_F(AccessTest, LoopbackOrToken) {
    EXPECT_EQ(run(request("/local", true)).status, 200u);
    EXPECT_EQ(run(request("/local", true, good)).status, 200u);
    expect_401(run(request("/local", true, bad)));
    expect_401(run(request("/local", false)));
    expect_401(run(request("/local", false, bad)));
    EXPECT_EQ(run(request("/local", false, good)).status, 200u);
}

TEST_F(AccessTest, LoopbackExemptionIsNotForForeignPages) {
    Request rebound = request("/local", true);
    rebound.host = "attacker.example:3001";  // DNS rebinding
    expect_401(run(rebound));
    Request cross_site = request("/local", true);
    cross_site.host = "127.0.0.1:3001";
    cross_site.origin = "https://attacker.example";
    expect_401(run(cross_site));
    Request own_page = request("/local", true);
    own_page.host = "localhost:3001";
    own_page.origin = "http://localhost:3001";
    EXPECT_EQ(run(own_page).status, 200u);
    cross_site.authorization = good;
    EXPECT_EQ(run(cross_site).status, 200u);
}

TEST_F(AccessTest, TokenAlways) {
    expect_401(run(request("/secret", true)));
    expect_401(run(request("/secret", false)));
    expect_401(run(request("/secret", true, bad)));
    EXPECT_EQ(run(request("/secret", true, good)).status, 200u);
    EXPECT_EQ(run(request("/secret", false, good)).status, 200u);
}

TEST_F(AccessTest, NoTokenConfiguredRefusesTokenRoutes) {
    Router tokenless;
    tokenless.add(Method::kPost, "/secret", Access::kTokenAlways,
                  sync_handler([](const Request&) { return Response::ok(nullptr); }));
    std::optional<Response> answer;
    tokenless.handle(request("/secret", true, "Bearer "),
                     Responder([&](Response x) { answer = std::move(x); }));
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 401u);
}

}  // namespace
}  // namespace peerchain::api
