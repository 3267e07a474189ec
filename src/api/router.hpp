// Router: the table of API routes and the request pipeline that does not touch sockets:
// target parsing, route lookup, access checks, handler invocation and error answers.
//
// A route is (method, path pattern) -> (access level, handler). A pattern is '/' followed by
// '/'-separated segments, each a literal ("blocks") or a named parameter ("{id}"), e.g.
// "/blocks/{id}". A parameter matches any one non-empty segment; its value is percent-decoded
// (so "%2F" inside a segment never splits it). Where a literal and a parameter could both
// match ("/blocks/latest" and "/blocks/{id}"), the literal wins, segment by segment from
// the left. A trailing '/' in a request path is ignored. Several patterns may share one
// handler (aliases such as "/mineBlock" and "/mine").
//
// Lookup: no pattern matches the path -> 404 not-found; a pattern matches under other
// methods only -> 405 method-not-allowed with an Allow header. HEAD uses the GET route when
// no HEAD route exists. OPTIONS, when no OPTIONS route exists, is answered as a CORS
// preflight: 204 with Allow and Access-Control-Allow-* headers.
//
// Handlers run on the server's network threads and must not block: work that takes time is
// handed to its owner (chain executor, miner) together with a copy of the Responder, which
// that owner invokes when done. An exception escaping a handler becomes 500 internal (and a
// log line) unless the handler had already answered.
//
// Thread-safety: add() is for setup, before the router is shared. After that every const
// member may be called from any thread concurrently.
#pragma once

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth.hpp"
#include "api/request.hpp"
#include "api/response.hpp"
#include "util/metrics.hpp"
#include "util/result.hpp"

namespace peerchain::api {

using Handler = std::function<void(const Request&, Responder)>;
using SyncHandler = std::function<Response(const Request&)>;

// Adapts a handler that computes its Response at once:
//   router.add(Method::kGet, "/status", Access::kOpen,
//              sync_handler([](const Request&) { return Response::ok({{"ok", true}}); }));
Handler sync_handler(SyncHandler handler);

struct RouteMatch {
    enum class Kind { kFound, kNotFound, kMethodNotAllowed };
    Kind kind = Kind::kNotFound;
    // kFound: the pattern as registered, its access level and the decoded path parameters.
    std::string pattern;
    Access access = Access::kTokenAlways;
    Params params;
    // kFound and kMethodNotAllowed: every method the path answers to, OPTIONS included, in
    // Method order (the Allow header lists them).
    std::vector<Method> allowed;
};

// "GET, HEAD, OPTIONS"
std::string allow_header(const std::vector<Method>& methods);

class Router {
  public:
    // Token-protected routes check against `auth`; a default Auth refuses every token.
    explicit Router(Auth auth = Auth());

    // Registers `handler` for `method` on each pattern. Patterns are literals in our code:
    // a malformed one, or one whose shape (literals and parameter positions) is already
    // taken for `method`, is a bug and aborts via NODE_ASSERT.
    void add(Method method, std::string_view pattern, Access access, Handler handler);
    void add(Method method, std::initializer_list<std::string_view> patterns, Access access,
             Handler handler);

    // Looks `path` (percent-encoded, no query) up. Fails with kDecode on a bad escape in a
    // segment or a path that does not start with '/'.
    util::Result<RouteMatch> match(Method method, std::string_view path) const;

    // Runs the whole pipeline for one request and answers it through `responder`, exactly
    // once, possibly later from another thread (see Responder). Fills request.path,
    // path_params and query before the handler sees it. Never throws.
    void handle(Request request, Responder responder) const noexcept;

    // Counts every request answered from now on, by route pattern ("unmatched" when none)
    // and status, and times it from handle() to its answer: peerchain_api_requests_total
    // and peerchain_api_request_duration_seconds in `registry`, which must outlive every
    // answer (a late one may come after the router is gone). Call before the first request.
    void count_requests(util::metrics::Registry& registry);

    const Auth& auth() const noexcept { return auth_; }
    std::size_t route_count() const noexcept { return routes_.size(); }

  private:
    struct Route {
        Method method;
        std::string pattern;
        std::vector<std::string> segments;  // literals; parameter names for parameters
        std::vector<bool> is_param;
        Access access;
        std::size_t handler;  // index into handlers_
        // Its children of the request families, found once (count_requests) so that an
        // answer is counted without a lookup under the family's lock: the duration, and
        // the count of 200 answers (nearly all of them; other statuses are looked up).
        util::metrics::Histogram* duration = nullptr;
        util::metrics::Counter* ok = nullptr;
    };
    // What an answer is counted under: the route's name and its cached children (none
    // while unmatched). Copied out of the Route, which a late answer may outlive.
    struct CountedRoute {
        std::string name = "unmatched";
        util::metrics::Histogram* duration = nullptr;
        util::metrics::Counter* ok = nullptr;
    };
    void cache_metrics(Route& route);

    // match(), also giving the route found (nullptr when none).
    util::Result<const Route*> resolve(Method method, std::string_view path,
                                       RouteMatch& result) const;
    // The best route for (method, segments) or nullptr; fills `allowed` in any case.
    const Route* find(Method method, const std::vector<std::string>& segments,
                      std::vector<Method>& allowed) const;

    // Wraps `responder` so that the answer is counted under the route `*route` names by then.
    Responder counted(Responder responder, std::shared_ptr<CountedRoute> route) const;

    Auth auth_;
    util::metrics::Family<util::metrics::Counter>* requests_ = nullptr;
    util::metrics::Family<util::metrics::Histogram>* durations_ = nullptr;
    std::vector<Route> routes_;
    std::vector<Handler> handlers_;
};

}  // namespace peerchain::api
