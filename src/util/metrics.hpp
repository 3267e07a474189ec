// Metrics: one registry of counters, gauges and histograms, handed to the components that
// count (as the clock is), and read as a whole in the Prometheus text format (version 0.0.4)
// by whoever serves /metrics.
//
// A component asks the registry for its metrics once, when it is built, and keeps the
// references: they stay valid as long as the registry. Counting is a relaxed atomic
// operation on the metric itself, with no lock and no lookup. Metrics with labels belong
// to a family; family.labels({...}) finds or makes the child for those label values (a
// lookup under the family's lock: keep the child when the values are known in advance).
// Label values must come from a small set the code knows (route patterns, message
// commands, rejection reasons), never from what a peer or a client sends; all the same, a
// family makes at most kMaxChildren children for the values it is given; further values
// share one more child whose values are all "_other", so that memory stays bounded
// whatever is counted.
//
// Names follow Prometheus: [a-zA-Z_:][a-zA-Z0-9_:]* for metrics, [a-zA-Z_][a-zA-Z0-9_]* for
// labels (not starting "__", not "le" on a histogram). A counter's name ends in "_total".
// Asking twice for a name gives the same metric when the kind and labels match; anything
// else, like an invalid name, is a programming error (NODE_ASSERT).
//
// Thread-safety: every member is safe to call from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/assert.hpp"

namespace peerchain::util::metrics {

// A count that only goes up: events, bytes.
class Counter {
  public:
    void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down: sizes, heights.
class Gauge {
  public:
    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    void add(double v) noexcept { value_.fetch_add(v, std::memory_order_relaxed); }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> value_{0};
};

// Observations counted into buckets by upper bound (inclusive), with their sum and count.
class Histogram {
  public:
    // Strictly increasing, finite bounds; the +Inf bucket is implied.
    explicit Histogram(std::vector<double> bounds);
    void observe(double v) noexcept;

    struct Snapshot {
        std::vector<std::uint64_t> cumulative;  // per bound, then +Inf (== count)
        std::uint64_t count = 0;
        double sum = 0;
    };
    // Read bucket by bucket while others may observe: each figure is exact, the set of
    // them is as of some moment during the call (cumulative counts never decrease).
    Snapshot snapshot() const;
    const std::vector<double>& bounds() const noexcept { return bounds_; }

  private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1
    std::atomic<double> sum_{0};
};

// Bounds growing by `factor` from `start`: start, start*factor, ... (`count` of them).
std::vector<double> exponential_bounds(double start, double factor, std::size_t count);

enum class Kind { kCounter, kGauge, kHistogram };

// Appends the sample lines of one metric: `labels` is its label pairs, formatted
// (a="x",b="y", without braces; empty when unlabelled).
void render_samples(std::string& out, const std::string& name, const std::string& labels,
                    const Counter& m);
void render_samples(std::string& out, const std::string& name, const std::string& labels,
                    const Gauge& m);
void render_samples(std::string& out, const std::string& name, const std::string& labels,
                    const Histogram& m);
// name="value" pairs, the values escaped as the text format wants.
std::string format_labels(const std::vector<std::string>& names,
                          const std::vector<std::string>& values);

class FamilyBase {
  public:
    static constexpr std::size_t kMaxChildren = 1000;
    static constexpr std::string_view kOther = "_other";

    FamilyBase(std::string name, std::string help, Kind kind, std::vector<std::string> labels);
    virtual ~FamilyBase() = default;
    FamilyBase(const FamilyBase&) = delete;
    FamilyBase& operator=(const FamilyBase&) = delete;

    const std::string& name() const noexcept { return name_; }
    Kind kind() const noexcept { return kind_; }
    const std::vector<std::string>& label_names() const noexcept { return labels_; }
    // Appends the family's HELP and TYPE lines, then each child's samples.
    void render(std::string& out) const;

  protected:
    virtual void render_children(std::string& out) const = 0;

  private:
    const std::string name_;
    const std::string help_;
    const Kind kind_;
    const std::vector<std::string> labels_;
};

template <typename M>
class Family final : public FamilyBase {
  public:
    Family(std::string name, std::string help, Kind kind, std::vector<std::string> labels,
           std::function<std::unique_ptr<M>()> make)
        : FamilyBase(std::move(name), std::move(help), kind, std::move(labels)),
          make_(std::move(make)) {}

    // The child for these label values, one per label name, in order.
    M& labels(std::initializer_list<std::string_view> values) {
        NODE_ASSERT(values.size() == label_names().size());
        std::vector<std::string> key(values.begin(), values.end());
        std::lock_guard lock(mutex_);
        auto it = children_.find(key);
        if (it != children_.end()) return *it->second;
        if (children_.size() >= kMaxChildren) {
            key.assign(key.size(), std::string(kOther));
            it = children_.find(key);
            if (it != children_.end()) return *it->second;
        }
        return *children_.emplace(std::move(key), make_()).first->second;
    }

  private:
    void render_children(std::string& out) const override {
        std::lock_guard lock(mutex_);
        for (const auto& [values, m] : children_) {
            render_samples(out, name(), format_labels(label_names(), values), *m);
        }
    }

    const std::function<std::unique_ptr<M>()> make_;
    mutable std::mutex mutex_;
    std::map<std::vector<std::string>, std::unique_ptr<M>> children_;
};

class Registry {
  public:
    Registry() = default;
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    Counter& counter(std::string name, std::string help);
    Gauge& gauge(std::string name, std::string help);
    Histogram& histogram(std::string name, std::string help, std::vector<double> bounds);

    Family<Counter>& counter_family(std::string name, std::string help,
                                    std::vector<std::string> labels);
    Family<Gauge>& gauge_family(std::string name, std::string help,
                                std::vector<std::string> labels);
    Family<Histogram>& histogram_family(std::string name, std::string help,
                                        std::vector<std::string> labels,
                                        std::vector<double> bounds);

    // A gauge read when the registry is rendered: for values another component already
    // keeps (a tip height, a pool size). `read` runs on the rendering thread, under no
    // lock of the registry, and must be safe there; it may not call back into the registry.
    void gauge_callback(std::string name, std::string help, std::function<double()> read);

    // The same for a labelled gauge: `read` gives each child's label values (one per label
    // name, in order) and value; children it leaves out are not shown.
    using LabelledValues = std::vector<std::pair<std::vector<std::string>, double>>;
    void gauge_family_callback(std::string name, std::string help, std::vector<std::string> labels,
                               std::function<LabelledValues()> read);

    // Every metric, families in name order, children in label order.
    std::string render() const;

  private:
    template <typename M>
    Family<M>& family(std::string name, std::string help, Kind kind,
                      std::vector<std::string> labels, std::function<std::unique_ptr<M>()> make);

    struct Callback {
        std::string help;
        std::vector<std::string> labels;
        std::function<LabelledValues()> read;
    };

    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
    std::map<std::string, Callback, std::less<>> callbacks_;
};

// The text format's number: integers as integers, others in their shortest exact form,
// "+Inf", "-Inf" and "NaN".
std::string format_value(double v);

}  // namespace peerchain::util::metrics
