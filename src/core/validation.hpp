// ValidationResult: why a block, header or transaction was refused.
//
// `reason` is a short, stable kebab-case token (every one is listed in
// docs/reject-reasons.md); `detail` is free text for logs and API answers. The code tells
// peer_manager what the refusal means for the peer that sent it.
//
// Thread-safety: a plain value type.
#pragma once

#include <string>
#include <utility>

namespace peerchain::core {

enum class ValidationCode {
    kOk,
    kInvalid,      // breaks a consensus rule: the sender is misbehaving
    kTimeFuture,   // too far in the future: may become valid, nobody is punished
    kMissingPrev,  // the previous block is unknown: ask for it, nobody is punished yet
    kDuplicate,    // already known
    kPolicy,       // valid, but this node will not relay or keep it (fee, pool full)
    kInternal,     // our own failure (disk): not the sender's fault
};

struct [[nodiscard]] ValidationResult {
    ValidationCode code = ValidationCode::kOk;
    std::string reason;
    std::string detail;

    static ValidationResult ok() { return {}; }
    static ValidationResult invalid(std::string reason, std::string detail = {}) {
        return {ValidationCode::kInvalid, std::move(reason), std::move(detail)};
    }
    static ValidationResult fail(ValidationCode code, std::string reason, std::string detail = {}) {
        return {code, std::move(reason), std::move(detail)};
    }

    bool is_ok() const noexcept { return code == ValidationCode::kOk; }
    explicit operator bool() const noexcept { return is_ok(); }
    // "reason (detail)" or just the reason.
    std::string to_string() const {
        if (is_ok()) return "ok";
        return detail.empty() ? reason : reason + " (" + detail + ")";
    }
};

}  // namespace peerchain::core
