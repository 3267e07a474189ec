// ReceiveQueue: what one peer has handed us and the chain executor has not yet handled,
// counted as the memory it holds (transport::held_bytes, or what decoding made of it), and
// the backpressure that bounds it without punishing the peer: Bitcoin Core's per-peer
// receive queue, which pauses reading from a peer above -maxreceivebuffer.
//
// The transport's thread adds each message as it arrives. Above `buffer` bytes the queue
// asks for the peer's reading to pause, so the transport delivers nothing more; the
// executor removes each message once handled, and at half the buffer reading resumes.
// So the queue holds at most the buffer plus one message, and a peer that sends faster
// than we handle (an honest one serving large blocks) is slowed by TCP's flow control,
// never dropped. A message that arrives while the queue is over the buffer means the
// transport did not pause: add() refuses it, and the owner closes the link as flooding.
//
// Thread-safety: every member function may be called from any thread. The pause and
// resume calls are made under the queue's lock, so they reach the link in the order the
// queue decided them (a resume never overtakes the pause it undoes).
#pragma once

#include <cstddef>
#include <functional>

#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::net::connman {

class ReceiveQueue {
  public:
    // control(true) pauses the peer's reading, control(false) resumes it; it must not block
    // or call back into the queue.
    using Control = std::function<void(bool pause)>;

    ReceiveQueue(std::size_t buffer, Control control);
    ReceiveQueue(const ReceiveQueue&) = delete;
    ReceiveQueue& operator=(const ReceiveQueue&) = delete;

    // A message holding `held` bytes arrived. False, with nothing counted, when the queue
    // is over the buffer already (the link was asked to pause and delivered anyway).
    bool add(std::size_t held);
    // A message that add() counted has been handled.
    void remove(std::size_t held);

    std::size_t bytes() const;
    bool paused() const;

  private:
    const std::size_t buffer_;
    const Control control_;
    mutable util::Mutex mutex_;
    std::size_t bytes_ GUARDED_BY(mutex_) = 0;
    bool paused_ GUARDED_BY(mutex_) = false;
};

}  // namespace peerchain::net::connman
