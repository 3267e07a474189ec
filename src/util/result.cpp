#include "util/result.hpp"

namespace peerchain::util {

const char* errc_name(Errc code) noexcept {
    switch (code) {
        case Errc::kInvalidArgument:
            return "invalid-argument";
        case Errc::kDecode:
            return "decode";
        case Errc::kNotFound:
            return "not-found";
        case Errc::kIo:
            return "io";
        case Errc::kCorruption:
            return "corruption";
        case Errc::kUnavailable:
            return "unavailable";
    }
    return "unknown";
}

}  // namespace peerchain::util
