#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace tasker {

/// What kind of failure an Error is, so callers know whether to retry, report or give up.
enum class ErrorKind {
  kInvalidInput,  ///< The input itself is wrong; retrying cannot help.
  kNotFound,      ///< The thing asked for does not exist (image, queue, file).
  kDenied,        ///< Credentials missing or refused.
  kTransient,     ///< Network, throttling, 5xx, busy database: retry with backoff.
  kTimeout,       ///< An operation ran out of time.
  kUnavailable,   ///< A dependency (daemon, endpoint) cannot be reached at all.
  kNoSpace,       ///< The disk holding a queue or journal is full: retrying cannot help until
                  ///< someone frees space, so a run stops (and resumes once there is room).
  kCancelled,     ///< The caller gave the operation up (its abort_if said so): not a failure
                  ///< of the thing called, and not retried as one.
  kInternal,      ///< Anything else: a bug or an unexpected answer.
};

/// A failure as a value: a kind and a one-line message saying what failed, on which input, and
/// what to do.
struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;

  /// True when the same call may succeed later.
  bool transient() const {
    return kind == ErrorKind::kTransient || kind == ErrorKind::kTimeout ||
           kind == ErrorKind::kUnavailable;
  }

  static Error invalid(std::string m) { return {ErrorKind::kInvalidInput, std::move(m)}; }
  static Error not_found(std::string m) { return {ErrorKind::kNotFound, std::move(m)}; }
  static Error denied(std::string m) { return {ErrorKind::kDenied, std::move(m)}; }
  static Error transient_failure(std::string m) { return {ErrorKind::kTransient, std::move(m)}; }
  static Error timeout(std::string m) { return {ErrorKind::kTimeout, std::move(m)}; }
  static Error unavailable(std::string m) { return {ErrorKind::kUnavailable, std::move(m)}; }
  static Error no_space(std::string m) { return {ErrorKind::kNoSpace, std::move(m)}; }
  static Error cancelled(std::string m) { return {ErrorKind::kCancelled, std::move(m)}; }
  static Error internal(std::string m) { return {ErrorKind::kInternal, std::move(m)}; }
};

/// Either a value or an Error: the return type of every call that can fail for a reason the caller
/// must handle. A small stand-in for C++23's std::expected (the project builds as C++20).
template <class T>
class Expected {
 public:
  Expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  Expected(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(implicit)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

/// The result of a call that returns nothing but can fail.
class Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(implicit)
  static Status success() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace tasker

/// Propagates a failed Status or Expected to the caller in one line.
#define TASKER_TRY(expr)                          \
  do {                                            \
    auto&& tasker_try_result_ = (expr);           \
    if (!tasker_try_result_) return tasker_try_result_.error(); \
  } while (0)
