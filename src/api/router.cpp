#include "api/router.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>

#include "api/errors.hpp"
#include "util/assert.hpp"

namespace peerchain::api {

namespace {

constexpr Method kAllMethods[] = {Method::kGet,    Method::kHead,  Method::kPost,   Method::kPut,
                                  Method::kDelete, Method::kPatch, Method::kOptions};

bool is_name_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// RFC 3986 unreserved characters: a literal made of these reads the same encoded or not.
bool is_literal_char(char c) noexcept {
    return is_name_char(c) || c == '-' || c == '.' || c == '~';
}

// "/a/b/" -> {"a", "b"}; "/" -> {}. Assumes a leading '/'.
std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    path.remove_prefix(1);
    if (!path.empty() && path.back() == '/') path.remove_suffix(1);
    if (path.empty()) return out;
    while (true) {
        const std::size_t slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

Response preflight(const std::vector<Method>& allowed) {
    const std::string allow = allow_header(allowed);
    Response r = Response::no_content();
    r.headers = {{"Allow", allow},
                 {"Access-Control-Allow-Origin", "*"},
                 {"Access-Control-Allow-Methods", allow},
                 {"Access-Control-Allow-Headers", "Authorization, Content-Type"},
                 {"Access-Control-Max-Age", "600"}};
    return r;
}

}  // namespace

Handler sync_handler(SyncHandler handler) {
    NODE_ASSERT(handler);
    return [h = std::move(handler)](const Request& request, Responder responder) {
        responder(h(request));
    };
}

std::string allow_header(const std::vector<Method>& methods) {
    std::string out;
    for (Method m : methods) {
        if (!out.empty()) out += ", ";
        out += method_name(m);
    }
    return out;
}

Router::Router(Auth auth) : auth_(std::move(auth)) {}

void Router::add(Method method, std::string_view pattern, Access access, Handler handler) {
    add(method, {pattern}, access, std::move(handler));
}

void Router::add(Method method, std::initializer_list<std::string_view> patterns, Access access,
                 Handler handler) {
    NODE_ASSERT(handler);
    NODE_ASSERT(patterns.size() > 0);
    const std::size_t index = handlers_.size();
    handlers_.push_back(std::move(handler));
    for (std::string_view pattern : patterns) {
        NODE_ASSERT(!pattern.empty() && pattern.front() == '/');
        Route route{method, std::string(pattern), {}, {}, access, index};
        for (std::string_view segment : split_path(pattern)) {
            NODE_ASSERT(!segment.empty());
            if (segment.front() == '{') {
                NODE_ASSERT(segment.size() > 2 && segment.back() == '}');
                const std::string_view name = segment.substr(1, segment.size() - 2);
                NODE_ASSERT(std::all_of(name.begin(), name.end(), is_name_char));
                route.segments.emplace_back(name);
                route.is_param.push_back(true);
            } else {
                NODE_ASSERT(std::all_of(segment.begin(), segment.end(), is_literal_char));
                route.segments.emplace_back(segment);
                route.is_param.push_back(false);
            }
        }
        for (std::size_t i = 0; i < route.segments.size(); ++i) {
            for (std::size_t j = i + 1; j < route.segments.size(); ++j) {
                NODE_ASSERT(!(route.is_param[i] && route.is_param[j] &&
                              route.segments[i] == route.segments[j]));
            }
        }
        for (const Route& other : routes_) {
            if (other.method != method || other.is_param != route.is_param) continue;
            bool same_literals = true;
            for (std::size_t i = 0; i < route.segments.size(); ++i) {
                if (!route.is_param[i] && route.segments[i] != other.segments[i]) {
                    same_literals = false;
                }
            }
            NODE_ASSERT(!same_literals);  // the same shape registered twice for one method
        }
        if (requests_ != nullptr) cache_metrics(route);
        routes_.push_back(std::move(route));
    }
}

void Router::cache_metrics(Route& route) {
    route.duration = &durations_->labels({route.pattern});
    route.ok = &requests_->labels({route.pattern, "200"});
}

const Router::Route* Router::find(Method method, const std::vector<std::string>& segments,
                                  std::vector<Method>& allowed) const {
    bool methods[std::size(kAllMethods)] = {};
    const Route* best = nullptr;
    const Route* best_get = nullptr;
    // Of two routes matching the same path, the one with a literal at the first position
    // where they differ is the more specific.
    auto more_specific = [](const Route* a, const Route* b) {
        return b == nullptr || a->is_param < b->is_param;
    };
    for (const Route& route : routes_) {
        if (route.segments.size() != segments.size()) continue;
        bool matches = true;
        for (std::size_t i = 0; i < segments.size() && matches; ++i) {
            matches = route.is_param[i] ? !segments[i].empty() : route.segments[i] == segments[i];
        }
        if (!matches) continue;
        methods[static_cast<std::size_t>(route.method)] = true;
        if (route.method == method && more_specific(&route, best)) best = &route;
        if (route.method == Method::kGet && more_specific(&route, best_get)) best_get = &route;
    }
    if (methods[static_cast<std::size_t>(Method::kGet)]) {
        methods[static_cast<std::size_t>(Method::kHead)] = true;
    }
    const bool any = std::find(std::begin(methods), std::end(methods), true) != std::end(methods);
    if (any) methods[static_cast<std::size_t>(Method::kOptions)] = true;
    allowed.clear();
    for (Method m : kAllMethods) {
        if (methods[static_cast<std::size_t>(m)]) allowed.push_back(m);
    }
    if (best == nullptr && method == Method::kHead) best = best_get;
    return best;
}

util::Result<RouteMatch> Router::match(Method method, std::string_view path) const {
    RouteMatch result;
    auto route = resolve(method, path, result);
    if (!route) return util::Unexpected(std::move(route).error());
    return result;
}

util::Result<const Router::Route*> Router::resolve(Method method, std::string_view path,
                                                   RouteMatch& result) const {
    if (path.empty() || path.front() != '/') {
        return util::Unexpected(util::Errc::kDecode, "the request path must start with '/'");
    }
    std::vector<std::string> segments;
    for (std::string_view raw : split_path(path)) {
        auto decoded = percent_decode(raw, false);
        if (!decoded) return util::Unexpected(std::move(decoded).error());
        segments.push_back(std::move(*decoded));
    }
    const Route* route = find(method, segments, result.allowed);
    if (route == nullptr) {
        result.kind = result.allowed.empty() ? RouteMatch::Kind::kNotFound
                                             : RouteMatch::Kind::kMethodNotAllowed;
        return route;
    }
    result.kind = RouteMatch::Kind::kFound;
    result.pattern = route->pattern;
    result.access = route->access;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        if (route->is_param[i]) result.params.emplace(route->segments[i], std::move(segments[i]));
    }
    return route;
}

void Router::count_requests(util::metrics::Registry& registry) {
    requests_ = &registry.counter_family("peerchain_api_requests_total",
                                         "HTTP API requests answered, by route and status.",
                                         {"route", "status"});
    durations_ = &registry.histogram_family(
        "peerchain_api_request_duration_seconds",
        "Time from a request's arrival at the router to its answer, by route.", {"route"},
        util::metrics::exponential_bounds(0.0001, 4, 10));
    for (Route& route : routes_) cache_metrics(route);
}

Responder Router::counted(Responder responder, std::shared_ptr<CountedRoute> route) const {
    // The families, not the router: an answer may come after the router is gone (a miner
    // thread at shutdown); the registry outlives both.
    return Responder([requests = requests_, durations = durations_, inner = std::move(responder),
                      route = std::move(route),
                      start = std::chrono::steady_clock::now()](Response response) {
        response = normalize_response(std::move(response));
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
        if (response.status == 200 && route->ok != nullptr) {
            route->ok->inc();
        } else {
            requests->labels({route->name, std::to_string(response.status)}).inc();
        }
        if (route->duration != nullptr) {
            route->duration->observe(took.count());
        } else {
            durations->labels({route->name}).observe(took.count());
        }
        inner(std::move(response));
    });
}

void Router::handle(Request request, Responder responder) const noexcept {
    try {
        // Named once the route is found, before any answer can be given.
        std::shared_ptr<CountedRoute> route_name;
        if (requests_ != nullptr) {
            route_name = std::make_shared<CountedRoute>();
            responder = counted(std::move(responder), route_name);
        }
        const std::size_t q = request.target.find('?');
        request.path = request.target.substr(0, q);
        RouteMatch found;
        auto resolved = resolve(request.method, request.path, found);
        if (route_name && resolved && *resolved != nullptr &&
            found.kind == RouteMatch::Kind::kFound) {
            route_name->name = found.pattern;
            route_name->duration = (*resolved)->duration;
            route_name->ok = (*resolved)->ok;
        }
        if (!resolved) return responder(bad_request(resolved.error().message));
        if (q != std::string::npos) {
            auto query = parse_query(std::string_view(request.target).substr(q + 1));
            if (!query) return responder(bad_request(query.error().message));
            request.query = std::move(*query);
        }
        switch (found.kind) {
            case RouteMatch::Kind::kNotFound:
                return responder(not_found("no route matches this path"));
            case RouteMatch::Kind::kMethodNotAllowed:
                if (request.method == Method::kOptions) return responder(preflight(found.allowed));
                return responder(method_not_allowed(allow_header(found.allowed)));
            case RouteMatch::Kind::kFound:
                break;
        }
        switch (auth_.authorize(found.access, request)) {
            case AuthOutcome::kAllowed:
                break;
            case AuthOutcome::kMissingToken:
                return responder(unauthorized(
                    "this route needs 'Authorization: Bearer <token>' with the token from the "
                    "node's .cookie file"));
            case AuthOutcome::kBadToken:
                return responder(unauthorized("the bearer token is not this node's token"));
        }
        request.path_params = std::move(found.params);
        const Route* route = *resolved;
        try {
            handlers_[route->handler](request, responder);
        } catch (const std::exception& e) {
            spdlog::error("api: {} {} threw: {}", method_name(request.method), route->pattern,
                          e.what());
            responder.try_respond(internal_error());
        } catch (...) {
            spdlog::error("api: {} {} threw a non-standard exception", method_name(request.method),
                          route->pattern);
            responder.try_respond(internal_error());
        }
    } catch (const std::exception& e) {
        spdlog::error("api: handling a request failed: {}", e.what());
        responder.try_respond(internal_error());
    }
}

}  // namespace peerchain::api
