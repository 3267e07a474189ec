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
    // Milliseconds since the Unix epoch, for what measures short spans (a rate over one
    // second); whole seconds unless the clock knows better.
    virtual std::int64_t now_millis() const { return now_seconds() * 1000; }
};

class SystemClock final : public Clock {
  public:
    std::int64_t now_seconds() const override;
    std::int64_t now_millis() const override;
    static const SystemClock& instance();
};

// Kept in milliseconds; now_seconds() is the whole seconds of it.
class ManualClock final : public Clock {
  public:
    explicit ManualClock(std::int64_t now) : now_ms_(now * 1000) {}
    std::int64_t now_seconds() const override { return floor_div(now_ms_.load(), 1000); }
    std::int64_t now_millis() const override { return now_ms_.load(); }
    void set(std::int64_t now) { now_ms_.store(now * 1000); }
    void advance(std::int64_t seconds) { now_ms_.fetch_add(seconds * 1000); }
    void advance_millis(std::int64_t millis) { now_ms_.fetch_add(millis); }

  private:
    static std::int64_t floor_div(std::int64_t a, std::int64_t b) {
        return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
    }
    std::atomic<std::int64_t> now_ms_;
};

}  // namespace peerchain::util
