// Clock: the one way code above util reads wall time, so that tests can inject it.
//
// Thread-safety: SystemClock is stateless; ManualClock is safe to read and set from any
// thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace peerchain::util {

class Clock {
  public:
    virtual ~Clock() = default;
    // Seconds since the Unix epoch.
    virtual std::int64_t now_seconds() const = 0;
};

class SystemClock final : public Clock {
  public:
    std::int64_t now_seconds() const override;
    static const SystemClock& instance();
};

class ManualClock final : public Clock {
  public:
    explicit ManualClock(std::int64_t now) : now_(now) {}
    std::int64_t now_seconds() const override { return now_.load(); }
    void set(std::int64_t now) { now_.store(now); }
    void advance(std::int64_t seconds) { now_.fetch_add(seconds); }

  private:
    std::atomic<std::int64_t> now_;
};

}  // namespace peerchain::util
