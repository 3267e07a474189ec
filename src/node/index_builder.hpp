// IndexBuilder: builds the index history that an initial sync left out (docs/STORAGE.md,
// section 3, "Indexes built after the sync"), a slice at a time on the chain executor:
// each slice (Chainstate::build_indexes, about 20 ms) posts the next one behind whatever
// else waits there, so peers' messages and API calls keep their turn.
//
// Ownership: node/ owns it; the chain and the executor must outlive it.
// Thread-safety: on_tick() and every slice run on the chain executor.
#pragma once

#include <functional>
#include <string>

#include "chain/chainstate.hpp"
#include "util/executor.hpp"

namespace peerchain::node {

class IndexBuilder {
  public:
    // `store_failed` hears of a slice whose write or read failed (the node stops then).
    IndexBuilder(chain::Chainstate& chain, util::SerialExecutor& executor,
                 std::function<void(const std::string&)> store_failed);

    // From the node's tick, on the chain executor: starts the slices when there is history
    // to build and none is under way (there is none while the sync is on).
    void on_tick();

  private:
    void slice();

    chain::Chainstate& chain_;
    util::SerialExecutor& executor_;
    std::function<void(const std::string&)> store_failed_;
    bool running_ = false;
};

}  // namespace peerchain::node
