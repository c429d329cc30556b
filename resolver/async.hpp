/*++
 * NAME
 *	async 3h
 * SUMMARY
 *	what Asio 1.22 lacks for fan-out: when_all over a runtime-sized set
 * DESCRIPTION
 *	Debian 12's Asio has only the variadic experimental parallel_group, so
 *	waiting on "every MX target" needs this helper. Each operation runs as its
 *	own coroutine on the caller's executor; the caller resumes when all have
 *	finished. Results keep the order of the inputs. An exception from any
 *	operation is rethrown (exceptions are bugs here, not outcomes).
 *--*/
#pragma once

#include <asio/experimental/as_tuple.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <vector>

namespace bp {

/// \return the results of every operation, in input order, once all have finished.
template <typename T>
asio::awaitable<std::vector<T>> when_all(std::vector<asio::awaitable<T>> ops) {
  auto ex = co_await asio::this_coro::executor;
  struct State {
    explicit State(asio::any_io_executor e, std::size_t n) : results(n), remaining(n), done(e) {
      done.expires_at(asio::steady_timer::time_point::max());
    }
    std::vector<std::optional<T>> results;
    std::size_t remaining;
    asio::steady_timer done;
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
      if (--state->remaining == 0) state->done.cancel();
    });
  }
  if (state->remaining > 0) {
    co_await state->done.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
  if (state->error) std::rethrow_exception(state->error);
  std::vector<T> out;
  out.reserve(state->results.size());
  for (auto& r : state->results) out.push_back(std::move(*r));
  co_return out;
}

}  // namespace bp
