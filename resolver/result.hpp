/*++
 * NAME
 *	result 3h
 * SUMMARY
 *	an expected-like value: an answer or a typed failure
 * DESCRIPTION
 *	std::expected needs C++23; this is the small subset we use, over
 *	std::variant. Lookups, probes and dialogue steps return it at module
 *	boundaries, so that a failure to look is a value that becomes a finding,
 *	never an exception and never an absence.
 *--*/
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace bp {

template <typename T, typename E>
class [[nodiscard]] Result {
 public:
  Result() = default;
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit by design

  /// \return true when the result holds a value.
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  E& error() & { assert(!ok()); return std::get<1>(v_); }
  const E& error() const& { assert(!ok()); return std::get<1>(v_); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, E> v_;
};

}  // namespace bp
