// Result<T>: a value or an Error, with the shape of std::expected (C++23), for recoverable
// failures: parsing, decoding, disk, configuration. Rule violations use ValidationResult
// (core/validation.hpp) instead; bugs use NODE_ASSERT.
//
// Thread-safety: plain value types.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "util/assert.hpp"

namespace peerchain::util {

enum class Errc {
    kInvalidArgument,  // a caller or user gave a value out of range
    kDecode,           // bytes that do not parse: short, trailing, oversized, malformed
    kNotFound,
    kIo,           // disk or socket failure
    kCorruption,   // stored data that does not match what we wrote
    kUnavailable,  // try again later: busy, shutting down
};

const char* errc_name(Errc code) noexcept;

struct Error {
    Errc code;
    std::string message;

    std::string to_string() const { return std::string(errc_name(code)) + ": " + message; }
};

// The error arm of a Result, so that `return Unexpected{...}` reads as it does with
// std::expected.
struct Unexpected {
    Error error;
    Unexpected(Errc code, std::string message) : error{code, std::move(message)} {}
    explicit Unexpected(Error e) : error(std::move(e)) {}
};

template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}         // NOLINT implicit
    Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & {
        NODE_ASSERT(has_value());
        return std::get<0>(v_);
    }
    const T& value() const& {
        NODE_ASSERT(has_value());
        return std::get<0>(v_);
    }
    T&& value() && {
        NODE_ASSERT(has_value());
        return std::get<0>(std::move(v_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const& {
        NODE_ASSERT(!has_value());
        return std::get<1>(v_);
    }
    Error&& error() && {
        NODE_ASSERT(!has_value());
        return std::get<1>(std::move(v_));
    }

  private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Unexpected u) : error_(std::move(u.error)), ok_(false) {}  // NOLINT implicit

    bool has_value() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    void value() const { NODE_ASSERT(ok_); }
    const Error& error() const& {
        NODE_ASSERT(!ok_);
        return error_;
    }

  private:
    Error error_{Errc::kInvalidArgument, {}};
    bool ok_ = true;
};

}  // namespace peerchain::util
