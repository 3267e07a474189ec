// Response and Responder: what a route handler produces, and how it hands it back.
//
// A Response is a plain value: an HTTP status, a JSON body and extra headers. A Responder
// delivers exactly one Response for one request. It is cheap to copy; every copy refers to
// the same request, and any copy may be invoked from any thread at any later time (a miner
// thread minutes later). The first invocation wins; later ones are ignored and logged. When
// the last copy is destroyed without any having been invoked, the request is answered with
// 500 `internal`, so a forgotten code path never leaves a client hanging.
//
// Thread-safety: Response is a value type. Copies of one Responder may be used concurrently.
#pragma once

#include <boost/json/value.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace peerchain::api {

// A body written while it is produced (server-sent events), instead of one string. The server
// sends the status line and headers (Content-Type from the Response, no Content-Length,
// Connection: close), then asks for one piece at a time and writes it; the body ends when a
// piece is refused (nullopt) or the client goes. A piece not written within the server's
// write timeout (a client that does not read) ends the connection.
//
// Thread-safety: pull() and cancel() are called on the connection's strand, one at a time;
// `next` may be invoked from any thread, once per pull(). cancel() may come while a pull()
// waits: the stream then releases what it holds and may still invoke `next`, which is ignored.
class BodyStream {
  public:
    virtual ~BodyStream() = default;
    // Asks for the next piece: `next` receives bytes to write (non-empty), or nullopt to end
    // the body. pull() is called again only after the previous piece was written.
    using Next = std::function<void(std::optional<std::string>)>;
    virtual void pull(Next next) = 0;
    // The connection is closing (client gone, write timeout, server stopping).
    virtual void cancel() noexcept = 0;
};

struct Header {
    std::string name;
    std::string value;
};

struct Response {
    // 200..599. Anything else is answered as 500 `internal`.
    unsigned status = 200;
    // Serialized with boost::json::serialize as the body (application/json); not sent for
    // 204 or in answer to HEAD. A non-2xx status must carry an errors.hpp error body; any
    // other body is replaced by the generic error for that status.
    boost::json::value body;
    // Extra headers. The server owns Content-Type, Content-Length, Connection and
    // Transfer-Encoding and ignores those here, as it ignores any name or value that is not
    // a valid header (no CR, LF or NUL can reach the wire).
    std::vector<Header> headers;
    // A 2xx answer that is not JSON: when content_type is set, `text` is the body, sent
    // with that Content-Type, and `body` is ignored.
    std::string content_type;
    std::string text;
    // A 2xx answer whose body is produced over time: when set, the server writes the
    // headers, then whatever the stream gives (see BodyStream), and `body`/`text` are
    // ignored. content_type should be set (e.g. "text/event-stream").
    std::shared_ptr<BodyStream> stream;

    // 200 with `body`.
    static Response ok(boost::json::value body);
    // 204 without a body.
    static Response no_content();
    // 200 with `text` as the body, of type `content_type`.
    static Response ok_text(std::string text, std::string content_type);
    // 200 whose body is `stream`, of type `content_type`.
    static Response ok_stream(std::shared_ptr<BodyStream> stream, std::string content_type);
};

class Responder {
  public:
    // Receives the one Response; called on the thread that invokes the Responder, or on the
    // thread that drops the last copy. It must be thread-safe and must not block.
    using Sink = std::function<void(Response)>;

    explicit Responder(Sink sink);

    // Answers the request. A second answer is ignored with a warning in the log.
    void operator()(Response response) const;
    // Answers the request; returns false, silently, when it was already answered.
    bool try_respond(Response response) const;
    bool answered() const noexcept;

  private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace peerchain::api
