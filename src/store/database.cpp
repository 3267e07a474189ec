#include "store/database.hpp"

namespace peerchain::store {

util::Result<void> Database::put(util::ByteSpan key, util::ByteSpan value, bool sync) {
    WriteBatch batch;
    batch.put(key, value);
    return write(batch, sync);
}

util::Result<void> Database::erase(util::ByteSpan key, bool sync) {
    WriteBatch batch;
    batch.erase(key);
    return write(batch, sync);
}

}  // namespace peerchain::store
