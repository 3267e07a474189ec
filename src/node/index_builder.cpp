#include "node/index_builder.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

namespace peerchain::node {

namespace {

// Short enough that what waits behind a slice waits no longer than behind a block.
constexpr auto kSlice = std::chrono::milliseconds(20);

}  // namespace

IndexBuilder::IndexBuilder(chain::Chainstate& chain, util::SerialExecutor& executor,
                           std::function<void(const std::string&)> store_failed)
    : chain_(chain), executor_(executor), store_failed_(std::move(store_failed)) {}

void IndexBuilder::on_tick() {
    if (running_ || chain_.index_progress().complete) return;
    slice();
}

void IndexBuilder::slice() {
    const auto before = chain_.index_progress();
    auto more = chain_.build_indexes(kSlice);
    if (!more) {
        running_ = false;
        if (store_failed_) {
            store_failed_("storage failure while building the indexes: " +
                          more.error().to_string());
        }
        return;
    }
    // A build's first slice (on_tick found the indexes incomplete): said even when that
    // slice finished it, so that the log always shows where a build started.
    if (!running_) {
        spdlog::info(
            "chain: building the transaction and address indexes from height {} (left "
            "out during the sync); transactions above it are found once it is done",
            before.height);
    }
    running_ = *more;
    if (running_ && !executor_.post([this] { slice(); })) running_ = false;
}

}  // namespace peerchain::node
