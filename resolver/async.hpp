/*++
 * NAME
 *	async 3h
 * SUMMARY
 *	what Asio 1.22 lacks: an event to wait for, and when_all over a runtime-sized set
 * DESCRIPTION
 *	Event is a one-shot signal: co_await event.wait() returns once set() was
 *	called (at once if it was). Waiters are resumed through their executor,
 *	never inside set(), and hold the loop's work while they wait, as a timer
 *	would; unlike a timer used as a condition variable, waiting costs no
 *	timer-queue operation.
 *
 *	Debian 12's Asio has only the variadic experimental parallel_group, so
 *	waiting on "every MX target" needs this helper. Each operation runs as its
 *	own coroutine on the caller's executor; the caller resumes when all have
 *	finished. Results keep the order of the inputs. An exception from any
 *	operation is rethrown (exceptions are bugs here, not outcomes).
 *--*/
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <vector>

namespace bp {

/// A suspended coroutine's completion handler, kept until resume() posts it to
/// its executor; it holds the loop's work meanwhile, as a pending timer would.
class Resumable {
 public:
  virtual ~Resumable() = default;
  virtual void resume() = 0;

  /// \return `handler` kept for a later resume().
  template <typename Handler>
  static std::unique_ptr<Resumable> keep(Handler handler, const asio::any_io_executor& ex);
};

namespace detail {
template <typename Handler>
class KeptHandler final : public Resumable {
 public:
  KeptHandler(Handler h, const asio::any_io_executor& ex)
      : handler_(std::move(h)), work_(asio::get_associated_executor(handler_, ex)) {}
  void resume() override {
    auto ex = work_.get_executor();
    asio::post(ex, std::move(handler_));
    work_.reset();
  }

 private:
  Handler handler_;
  asio::executor_work_guard<asio::associated_executor_t<Handler, asio::any_io_executor>> work_;
};
}  // namespace detail

template <typename Handler>
std::unique_ptr<Resumable> Resumable::keep(Handler handler, const asio::any_io_executor& ex) {
  return std::make_unique<detail::KeptHandler<Handler>>(std::move(handler), ex);
}

/// A one-shot event: wait() completes once set() has been called.
class Event {
 public:
  explicit Event(asio::any_io_executor ex) : ex_(std::move(ex)) {}
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool is_set() const { return set_; }

  /// Resumes every waiter (posted, not called here); later waits complete at once.
  void set() {
    if (set_) return;
    set_ = true;
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& w : waiters) w->resume();
  }

  /// \return an awaitable that completes once the event is set.
  asio::awaitable<void> wait() {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
        [this](auto handler) {
          auto w = Resumable::keep(std::move(handler), ex_);
          if (set_) {
            w->resume();
          } else {
            waiters_.push_back(std::move(w));
          }
        },
        asio::use_awaitable);
  }

 private:
  asio::any_io_executor ex_;
  bool set_{false};
  std::vector<std::unique_ptr<Resumable>> waiters_;
};

/// \return the results of every operation, in input order, once all have finished.
template <typename T>
asio::awaitable<std::vector<T>> when_all(std::vector<asio::awaitable<T>> ops) {
  auto ex = co_await asio::this_coro::executor;
  struct State {
    explicit State(asio::any_io_executor e, std::size_t n) : results(n), remaining(n), done(e) {}
    std::vector<std::optional<T>> results;
    std::size_t remaining;
    Event done;
    std::exception_ptr error;
  };
  auto state = std::make_shared<State>(ex, ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    asio::co_spawn(ex, std::move(ops[i]), [state, i](std::exception_ptr e, T value) {
      if (e) {
        if (!state->error) state->error = e;
      } else {
        state->results[i] = std::move(value);
      }
      if (--state->remaining == 0) state->done.set();
    });
  }
  if (state->remaining > 0) {
    co_await state->done.wait();
  }
  if (state->error) std::rethrow_exception(state->error);
  std::vector<T> out;
  out.reserve(state->results.size());
  for (auto& r : state->results) out.push_back(std::move(*r));
  co_return out;
}

}  // namespace bp
