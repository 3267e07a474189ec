#include "util/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace peerchain::util::metrics {

namespace {

bool valid_name(std::string_view s, bool colon) {
    if (s.empty()) return false;
    const auto ok = [&](char c, bool first) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
               (colon && c == ':') || (!first && c >= '0' && c <= '9');
    };
    if (!ok(s.front(), true)) return false;
    return std::all_of(s.begin() + 1, s.end(), [&](char c) { return ok(c, false); });
}

// HELP text escapes backslash and newline; label values also the double quote.
void append_escaped(std::string& out, std::string_view s, bool quote) {
    for (char c : s) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (quote && c == '"') {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

const char* type_name(Kind kind) {
    switch (kind) {
        case Kind::kCounter:
            return "counter";
        case Kind::kGauge:
            return "gauge";
        case Kind::kHistogram:
            return "histogram";
    }
    return "untyped";
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   const std::string& labels, std::string_view value) {
    out.append(name).append(suffix);
    if (!labels.empty()) out.append("{").append(labels).append("}");
    out.append(" ").append(value).append("\n");
}

std::string with_label(const std::string& labels, std::string_view pair) {
    return labels.empty() ? std::string(pair) : labels + "," + std::string(pair);
}

}  // namespace

std::string format_value(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (v == std::trunc(v) && std::fabs(v) < 1e15) {
        return std::to_string(static_cast<std::int64_t>(v));
    }
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), v);
    NODE_ASSERT(ec == std::errc());
    return std::string(buffer, end);
}

// --- Histogram ------------------------------------------------------------------------------

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        NODE_ASSERT(std::isfinite(bounds_[i]));
        NODE_ASSERT(i == 0 || bounds_[i - 1] < bounds_[i]);
    }
}

void Histogram::observe(double v) noexcept {
    // The first bucket whose bound is at least v; NaN lands in +Inf.
    const auto bucket =
        std::isnan(v) ? bounds_.size()
                      : static_cast<std::size_t>(
                            std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
    buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
    Snapshot s;
    s.cumulative.reserve(bounds_.size() + 1);
    std::uint64_t running = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        running += buckets_[i].load(std::memory_order_relaxed);
        s.cumulative.push_back(running);
    }
    s.count = running;
    s.sum = sum_.load(std::memory_order_relaxed);
    return s;
}

std::vector<double> exponential_bounds(double start, double factor, std::size_t count) {
    NODE_ASSERT(start > 0 && factor > 1);
    std::vector<double> out;
    double v = start;
    for (std::size_t i = 0; i < count; ++i, v *= factor) out.push_back(v);
    return out;
}

// --- Rendering ------------------------------------------------------------------------------

std::string format_labels(const std::vector<std::string>& names,
                          const std::vector<std::string>& values) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
        if (i > 0) out += ',';
        out += names[i];
        out += "=\"";
        append_escaped(out, values[i], true);
        out += '"';
    }
    return out;
}

void render_samples(std::string& out, const std::string& name, const std::string& labels,
                    const Counter& m) {
    append_sample(out, name, "", labels, std::to_string(m.value()));
}

void render_samples(std::string& out, const std::string& name, const std::string& labels,
                    const Gauge& m) {
    append_sample(out, name, "", labels, format_value(m.value()));
}

void render_samples(std::string& out, const std::string& name, const std::string& labels,
                    const Histogram& m) {
    const auto s = m.snapshot();
    const auto& bounds = m.bounds();
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
        const std::string le = i < bounds.size() ? format_value(bounds[i]) : "+Inf";
        append_sample(out, name, "_bucket", with_label(labels, "le=\"" + le + "\""),
                      std::to_string(s.cumulative[i]));
    }
    append_sample(out, name, "_sum", labels, format_value(s.sum));
    append_sample(out, name, "_count", labels, std::to_string(s.count));
}

FamilyBase::FamilyBase(std::string name, std::string help, Kind kind,
                       std::vector<std::string> labels)
    : name_(std::move(name)), help_(std::move(help)), kind_(kind), labels_(std::move(labels)) {
    NODE_ASSERT(valid_name(name_, true));
    NODE_ASSERT(kind_ != Kind::kCounter || name_.ends_with("_total"));
    for (const auto& l : labels_) {
        NODE_ASSERT(valid_name(l, false) && !l.starts_with("__"));
        NODE_ASSERT(kind_ != Kind::kHistogram || l != "le");
    }
}

void FamilyBase::render(std::string& out) const {
    out.append("# HELP ").append(name_).append(" ");
    append_escaped(out, help_, false);
    out.append("\n# TYPE ").append(name_).append(" ").append(type_name(kind_)).append("\n");
    render_children(out);
}

// --- Registry -------------------------------------------------------------------------------

template <typename M>
Family<M>& Registry::family(std::string name, std::string help, Kind kind,
                            std::vector<std::string> labels,
                            std::function<std::unique_ptr<M>()> make) {
    std::lock_guard lock(mutex_);
    NODE_ASSERT(!callbacks_.contains(name));
    auto it = families_.find(name);
    if (it != families_.end()) {
        NODE_ASSERT(it->second->kind() == kind && it->second->label_names() == labels);
        auto* existing = dynamic_cast<Family<M>*>(it->second.get());
        NODE_ASSERT(existing != nullptr);
        return *existing;
    }
    auto made = std::make_unique<Family<M>>(name, std::move(help), kind, std::move(labels),
                                            std::move(make));
    auto& ref = *made;
    families_.emplace(std::move(name), std::move(made));
    return ref;
}

Family<Counter>& Registry::counter_family(std::string name, std::string help,
                                          std::vector<std::string> labels) {
    return family<Counter>(std::move(name), std::move(help), Kind::kCounter, std::move(labels),
                           [] { return std::make_unique<Counter>(); });
}

Family<Gauge>& Registry::gauge_family(std::string name, std::string help,
                                      std::vector<std::string> labels) {
    return family<Gauge>(std::move(name), std::move(help), Kind::kGauge, std::move(labels),
                         [] { return std::make_unique<Gauge>(); });
}

Family<Histogram>& Registry::histogram_family(std::string name, std::string help,
                                              std::vector<std::string> labels,
                                              std::vector<double> bounds) {
    return family<Histogram>(std::move(name), std::move(help), Kind::kHistogram, std::move(labels),
                             [bounds] { return std::make_unique<Histogram>(bounds); });
}

Counter& Registry::counter(std::string name, std::string help) {
    return counter_family(std::move(name), std::move(help), {}).labels({});
}

Gauge& Registry::gauge(std::string name, std::string help) {
    return gauge_family(std::move(name), std::move(help), {}).labels({});
}

Histogram& Registry::histogram(std::string name, std::string help, std::vector<double> bounds) {
    return histogram_family(std::move(name), std::move(help), {}, std::move(bounds)).labels({});
}

void Registry::gauge_callback(std::string name, std::string help, std::function<double()> read) {
    NODE_ASSERT(read);
    gauge_family_callback(std::move(name), std::move(help), {}, [read = std::move(read)] {
        return LabelledValues{{{}, read()}};
    });
}

void Registry::gauge_family_callback(std::string name, std::string help,
                                     std::vector<std::string> labels,
                                     std::function<LabelledValues()> read) {
    NODE_ASSERT(valid_name(name, true) && read);
    for (const auto& l : labels) NODE_ASSERT(valid_name(l, false) && !l.starts_with("__"));
    std::lock_guard lock(mutex_);
    NODE_ASSERT(!families_.contains(name) && !callbacks_.contains(name));
    callbacks_.emplace(std::move(name),
                       Callback{std::move(help), std::move(labels), std::move(read)});
}

std::string Registry::render() const {
    // The callbacks run outside the lock: they read other components, which may be busy.
    std::map<std::string, Callback, std::less<>> callbacks;
    {
        std::lock_guard lock(mutex_);
        callbacks = callbacks_;
    }
    std::map<std::string, std::string> texts;  // by name, so that both kinds interleave
    for (const auto& [name, cb] : callbacks) {
        std::string text = "# HELP " + name + " ";
        append_escaped(text, cb.help, false);
        text += "\n# TYPE " + name + " gauge\n";
        auto values = cb.read();
        std::sort(values.begin(), values.end());
        for (const auto& [labels, value] : values) {
            if (labels.size() != cb.labels.size()) continue;
            append_sample(text, name, "", format_labels(cb.labels, labels), format_value(value));
        }
        texts.emplace(name, std::move(text));
    }
    {
        std::lock_guard lock(mutex_);
        for (const auto& [name, family] : families_) family->render(texts[name]);
    }
    std::string out;
    for (const auto& [name, text] : texts) out += text;
    return out;
}

}  // namespace peerchain::util::metrics
