#include "api/router.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>

#include "api/errors.hpp"

namespace peerchain::api {
namespace {

const std::string kToken(64, 'a');

// Runs the router on `request` and returns what it answered synchronously.
std::optional<Response> run(const Router& router, Request request) {
    auto answer = std::make_shared<std::optional<Response>>();
    router.handle(std::move(request), Responder([answer](Response r) { *answer = std::move(r); }));
    return *answer;
}

Request make(Method method, std::string target) {
    Request r;
    r.method = method;
    r.target = std::move(target);
    r.remote_address = "127.0.0.1";
    r.remote_is_loopback = true;
    return r;
}

std::string error_code_of(const Response& r) {
    return std::string(r.body.at("error").at("code").as_string());
}

std::string header(const Response& r, std::string_view name) {
    for (const auto& h : r.headers) {
        if (h.name == name) return h.value;
    }
    return {};
}

// Echoes the pattern name and the request's params, so tests see what the handler saw.
Handler echo(std::string name) {
    return sync_handler([name](const Request& r) {
        boost::json::object params;
        for (const auto& [k, v] : r.path_params) params[k] = v;
        boost::json::object query;
        for (const auto& [k, v] : r.query) query[k] = v;
        return Response::ok({{"route", name},
                             {"params", params},
                             {"query", query},
                             {"method", method_name(r.method)}});
    });
}

class RouterTest : public ::testing::Test {
  protected:
    RouterTest() : router(Auth(kToken)) {
        router.add(Method::kGet, "/blocks", Access::kOpen, echo("blocks"));
        router.add(Method::kGet, "/blocks/{id}", Access::kOpen, echo("block"));
        router.add(Method::kGet, "/blocks/latest", Access::kOpen, echo("latest"));
        router.add(Method::kGet, "/blocks/{id}/tx/{index}", Access::kOpen, echo("block-tx"));
        router.add(Method::kPost, {"/mineBlock", "/mine"}, Access::kLoopbackOrToken, echo("mine"));
        router.add(Method::kGet, "/", Access::kOpen, echo("root"));
    }
    Router router;
};

TEST_F(RouterTest, MatchesLiteralsAndParams) {
    auto r = run(router, make(Method::kGet, "/blocks/00ff"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200u);
    EXPECT_EQ(r->body.at("route"), "block");
    EXPECT_EQ(r->body.at("params").at("id"), "00ff");

    r = run(router, make(Method::kGet, "/blocks/7/tx/2"));
    EXPECT_EQ(r->body.at("route"), "block-tx");
    EXPECT_EQ(r->body.at("params").at("id"), "7");
    EXPECT_EQ(r->body.at("params").at("index"), "2");

    EXPECT_EQ(run(router, make(Method::kGet, "/blocks"))->body.at("route"), "blocks");
    EXPECT_EQ(run(router, make(Method::kGet, "/"))->body.at("route"), "root");
}

TEST_F(RouterTest, LiteralBeatsParameter) {
    EXPECT_EQ(run(router, make(Method::kGet, "/blocks/latest"))->body.at("route"), "latest");
    EXPECT_EQ(run(router, make(Method::kGet, "/blocks/latest2"))->body.at("route"), "block");
}

TEST_F(RouterTest, AliasesShareAHandler) {
    EXPECT_EQ(run(router, make(Method::kPost, "/mineBlock"))->body.at("route"), "mine");
    EXPECT_EQ(run(router, make(Method::kPost, "/mine"))->body.at("route"), "mine");
}

TEST_F(RouterTest, TrailingSlashAndQuery) {
    auto r = run(router, make(Method::kGet, "/blocks/?limit=5&q=a%20b"));
    EXPECT_EQ(r->body.at("route"), "blocks");
    EXPECT_EQ(r->body.at("query").at("limit"), "5");
    EXPECT_EQ(r->body.at("query").at("q"), "a b");
}

TEST_F(RouterTest, ParamsArePercentDecodedWithoutSplitting) {
    auto r = run(router, make(Method::kGet, "/blocks/a%2Fb%20c"));
    EXPECT_EQ(r->body.at("route"), "block");
    EXPECT_EQ(r->body.at("params").at("id"), "a/b c");
}

TEST_F(RouterTest, NotFound) {
    for (const char* target : {"/nope", "/blocks/1/2", "/blocks//tx/1", "/mine/extra"}) {
        auto r = run(router, make(Method::kGet, target));
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 404u) << target;
        EXPECT_EQ(error_code_of(*r), "not-found");
    }
}

TEST_F(RouterTest, MethodNotAllowedListsTheMethods) {
    auto r = run(router, make(Method::kGet, "/mine"));
    EXPECT_EQ(r->status, 405u);
    EXPECT_EQ(error_code_of(*r), "method-not-allowed");
    EXPECT_EQ(header(*r, "Allow"), "POST, OPTIONS");

    r = run(router, make(Method::kDelete, "/blocks/1"));
    EXPECT_EQ(r->status, 405u);
    EXPECT_EQ(header(*r, "Allow"), "GET, HEAD, OPTIONS");
}

TEST_F(RouterTest, HeadUsesGet) {
    auto r = run(router, make(Method::kHead, "/blocks/9"));
    EXPECT_EQ(r->status, 200u);
    EXPECT_EQ(r->body.at("method"), "HEAD");
}

TEST_F(RouterTest, OptionsIsAPreflight) {
    auto r = run(router, make(Method::kOptions, "/blocks/9"));
    EXPECT_EQ(r->status, 204u);
    EXPECT_EQ(header(*r, "Access-Control-Allow-Origin"), "*");
    EXPECT_EQ(header(*r, "Access-Control-Allow-Methods"), "GET, HEAD, OPTIONS");
    EXPECT_NE(header(*r, "Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
    EXPECT_EQ(run(router, make(Method::kOptions, "/nope"))->status, 404u);
}

TEST_F(RouterTest, BadTargetsAre400) {
    for (const char* target :
         {"/blocks/%zz", "/blocks?a=%", "*", "http://host/blocks", "/blocks?a=1&a=2"}) {
        auto r = run(router, make(Method::kGet, target));
        EXPECT_EQ(r->status, 400u) << target;
        EXPECT_EQ(error_code_of(*r), "bad-request");
    }
}

TEST_F(RouterTest, MatchReportsPatternAndParams) {
    auto m = router.match(Method::kGet, "/blocks/abc");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->kind, RouteMatch::Kind::kFound);
    EXPECT_EQ(m->pattern, "/blocks/{id}");
    EXPECT_EQ(m->params.at("id"), "abc");
    EXPECT_EQ(router.route_count(), 7u);
}

TEST(Router, HandlerThatThrowsGives500) {
    Router router;
    router.add(Method::kGet, "/boom", Access::kOpen,
               [](const Request&, Responder) { throw std::runtime_error("kaput"); });
    auto r = run(router, make(Method::kGet, "/boom"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 500u);
    EXPECT_EQ(error_code_of(*r), "internal");
}

TEST(Router, AnswerBeforeThrowWins) {
    Router router;
    router.add(Method::kGet, "/half", Access::kOpen, [](const Request&, Responder respond) {
        respond(Response::ok({{"ok", true}}));
        throw std::runtime_error("after the answer");
    });
    EXPECT_EQ(run(router, make(Method::kGet, "/half"))->status, 200u);
}

TEST(Router, DroppedResponderGives500) {
    Router router;
    router.add(Method::kGet, "/forget", Access::kOpen, [](const Request&, Responder) {});
    auto r = run(router, make(Method::kGet, "/forget"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 500u);
}

TEST(Responder, AnswersOnceOnly) {
    int calls = 0;
    unsigned status = 0;
    {
        Responder respond([&](Response r) {
            ++calls;
            status = r.status;
        });
        Responder copy = respond;
        EXPECT_TRUE(copy.try_respond(Response::ok(nullptr)));
        EXPECT_FALSE(respond.try_respond(internal_error()));
        respond(internal_error());  // logged and ignored
        EXPECT_TRUE(respond.answered());
    }
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(status, 200u);
}

using RouterDeathTest = RouterTest;

TEST_F(RouterDeathTest, BadPatternsAreBugs) {
    EXPECT_DEATH(router.add(Method::kGet, "blocks", Access::kOpen, echo("x")), "");
    EXPECT_DEATH(router.add(Method::kGet, "/a/{}", Access::kOpen, echo("x")), "");
    EXPECT_DEATH(router.add(Method::kGet, "/a/{x}/{x}", Access::kOpen, echo("x")), "");
    EXPECT_DEATH(router.add(Method::kGet, "/a b", Access::kOpen, echo("x")), "");
    // The same shape as /blocks/{id}, under another parameter name.
    EXPECT_DEATH(router.add(Method::kGet, "/blocks/{hash}", Access::kOpen, echo("x")), "");
}

TEST_F(RouterTest, CountsRequestsByRouteAndStatus) {
    util::metrics::Registry registry;
    router.count_requests(registry);
    // A handler that answers later, from another thread, is counted when it answers.
    std::thread later;
    router.add(Method::kGet, "/slow", Access::kOpen, [&later](const Request&, Responder done) {
        later = std::thread([done] { done(Response::ok("late")); });
    });
    EXPECT_EQ(run(router, make(Method::kGet, "/blocks/7"))->status, 200u);
    EXPECT_EQ(run(router, make(Method::kGet, "/blocks/8"))->status, 200u);
    EXPECT_EQ(run(router, make(Method::kGet, "/nowhere/at/all"))->status, 404u);
    EXPECT_EQ(run(router, make(Method::kPost, "/blocks"))->status, 405u);
    EXPECT_EQ(run(router, make(Method::kPost, "/mineBlock"))->status, 200u);
    auto remote = make(Method::kPost, "/mine");
    remote.remote_is_loopback = false;
    EXPECT_EQ(run(router, remote)->status, 401u);

    auto& requests =
        registry.counter_family("peerchain_api_requests_total", "", {"route", "status"});
    EXPECT_EQ(requests.labels({"/blocks/{id}", "200"}).value(), 2u);
    EXPECT_EQ(requests.labels({"unmatched", "404"}).value(), 1u);
    EXPECT_EQ(requests.labels({"unmatched", "405"}).value(), 1u);
    EXPECT_EQ(requests.labels({"/mineBlock", "200"}).value(), 1u);
    EXPECT_EQ(requests.labels({"/mine", "401"}).value(), 1u);

    auto answer = std::make_shared<std::optional<Response>>();
    std::promise<void> answered;
    router.handle(make(Method::kGet, "/slow"), Responder([answer, &answered](Response r) {
                      *answer = std::move(r);
                      answered.set_value();
                  }));
    later.join();
    ASSERT_EQ(answered.get_future().wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_EQ(requests.labels({"/slow", "200"}).value(), 1u);
    const std::string text = registry.render();
    EXPECT_NE(text.find("peerchain_api_request_duration_seconds_count{route=\"/blocks/{id}\"} 2\n"),
              std::string::npos)
        << text;
}

}  // namespace
}  // namespace peerchain::api
