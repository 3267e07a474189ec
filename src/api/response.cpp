#include "api/response.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <exception>
#include <utility>

#include "api/errors.hpp"
#include "util/assert.hpp"

namespace peerchain::api {

Response Response::ok(boost::json::value body) {
    return Response{200, std::move(body), {}, {}, {}, nullptr};
}

Response Response::no_content() { return Response{204, nullptr, {}, {}, {}, nullptr}; }

Response Response::ok_text(std::string text, std::string content_type) {
    return Response{200, nullptr, {}, std::move(content_type), std::move(text), nullptr};
}

Response Response::ok_stream(std::shared_ptr<BodyStream> stream, std::string content_type) {
    return Response{200, nullptr, {}, std::move(content_type), {}, std::move(stream)};
}

struct Responder::State {
    explicit State(Sink s) : sink(std::move(s)) {}
    State(const State&) = delete;
    State& operator=(const State&) = delete;

    ~State() {
        if (done.exchange(true)) return;
        // Destructors must not throw, and this one may run on any thread.
        try {
            spdlog::error("api: a handler dropped its responder without answering");
            sink(internal_error("the request was dropped without an answer"));
        } catch (const std::exception& e) {
            spdlog::error("api: answering a dropped request failed: {}", e.what());
        } catch (...) {
            spdlog::error("api: answering a dropped request failed");
        }
    }

    bool deliver(Response response) {
        if (done.exchange(true)) return false;
        try {
            sink(std::move(response));
        } catch (const std::exception& e) {
            spdlog::error("api: delivering a response failed: {}", e.what());
        } catch (...) {
            spdlog::error("api: delivering a response failed");
        }
        return true;
    }

    Sink sink;
    std::atomic<bool> done{false};
};

Responder::Responder(Sink sink) : state_(std::make_shared<State>(std::move(sink))) {
    NODE_ASSERT(state_->sink);
}

void Responder::operator()(Response response) const {
    if (!try_respond(std::move(response))) {
        spdlog::warn("api: a handler answered the same request twice; the second is ignored");
    }
}

bool Responder::try_respond(Response response) const {
    NODE_ASSERT(state_);  // a moved-from Responder
    return state_->deliver(std::move(response));
}

bool Responder::answered() const noexcept { return state_ && state_->done.load(); }

}  // namespace peerchain::api
