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
 *
 *	all(a, b, c...) is the same over a fixed set of operations of different
 *	types: the first runs in the caller's coroutine, each other one as its
 *	own, and the caller resumes with the tuple of results once all finished.
 *	It costs one spawn per operation after the first, where the experimental
 *	awaitable operators (a && b && c) cost a coroutine, a parallel group and a
 *	cancellation signal per operator and a spawn per operand.
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
#include <tuple>
#include <utility>
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

namespace detail {
template <typename... Ts>
struct AllState {
  AllState(asio::any_io_executor ex, std::size_t n) : remaining(n), done(std::move(ex)) {}
  std::tuple<std::optional<Ts>...> results;
  std::size_t remaining;
  Event done;
  std::exception_ptr error;
};

template <typename State, typename... Ts, std::size_t... I>
void spawn_each(const asio::any_io_executor& ex, const std::shared_ptr<State>& state, std::index_sequence<I...>,
                asio::awaitable<Ts>&... ops) {
  (asio::co_spawn(ex, std::move(ops),
                  [state](std::exception_ptr e, Ts value) {
                    if (e) {
                      if (!state->error) state->error = e;
                    } else {
                      std::get<I>(state->results).emplace(std::move(value));
                    }
                    if (--state->remaining == 0) state->done.set();
                  }),
   ...);
}
}  // namespace detail

/// \return every operation's result, once all have finished (see the description).
template <typename T0, typename... Ts>
asio::awaitable<std::tuple<T0, Ts...>> all(asio::awaitable<T0> first, asio::awaitable<Ts>... rest) {
  auto ex = co_await asio::this_coro::executor;
  auto state = std::make_shared<detail::AllState<Ts...>>(ex, sizeof...(Ts));
  detail::spawn_each(ex, state, std::index_sequence_for<Ts...>{}, rest...);
  std::optional<T0> head;
  std::exception_ptr head_error;
  try {
    head.emplace(co_await std::move(first));
  } catch (...) {
    head_error = std::current_exception();  // the others may use the caller's state: they finish first
  }
  if (state->remaining > 0) co_await state->done.wait();
  if (head_error) std::rethrow_exception(head_error);
  if (state->error) std::rethrow_exception(state->error);
  co_return std::apply([&](auto&... r) { return std::tuple<T0, Ts...>(std::move(*head), std::move(*r)...); }, state->results);
}

}  // namespace bp
