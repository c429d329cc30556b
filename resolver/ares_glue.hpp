/*++
 * NAME
 *	ares_glue 3h
 * SUMMARY
 *	a c-ares channel driven by an Asio event loop
 * DESCRIPTION
 *	The only place that knows c-ares. Each socket c-ares opens is watched
 *	through a posix::stream_descriptor that it never owns; one steady_timer
 *	follows ares_timeout(). async_query() sends one question and completes
 *	with the raw reply bytes or a c-ares status, always through the
 *	handler's executor, never from inside ares_process_fd().
 * DIAGNOSTICS
 *	The constructor throws std::runtime_error when c-ares cannot start or the
 *	server list is rejected (a start-up failure, exit code 3).
 * SEE ALSO
 *	ares_init_options(3) ARES_OPT_SOCK_STATE_CB, ares_process_fd(3), ares_send(3).
 *--*/
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bp::resolver {

struct RawReply {
  int status{0};                    ///< ARES_SUCCESS or an ARES_E* code
  std::string status_text;          ///< ares_strerror(status)
  std::vector<std::uint8_t> packet; ///< the reply, when status is success
};

/// Classifies a c-ares status for the failure enum without exposing <ares.h>.
enum class AresStatusClass { success, timeout, connection_refused, cancelled, bad_name, no_server, other };
AresStatusClass classify_status(int status);

struct ChannelOptions {
  std::vector<std::string> servers;  ///< "IP", "IP:PORT" or "[IPv6]:PORT"; empty = /etc/resolv.conf
  std::chrono::milliseconds timeout{2000};
};

class AresChannel {
 public:
  AresChannel(asio::any_io_executor ex, const ChannelOptions& options);
  ~AresChannel();
  AresChannel(const AresChannel&) = delete;
  AresChannel& operator=(const AresChannel&) = delete;

  /// \return the servers in use, as "IP:PORT" strings.
  std::vector<std::string> servers() const;

  /// Completes every query in flight at once with ARES_ECANCELLED.
  void cancel_all();

  /// Sends (name, type) and completes with the raw reply: void(RawReply).
  template <typename Token>
  auto async_query(std::string name, std::uint16_t type, Token&& token) {
    return asio::async_initiate<Token, void(RawReply)>(
        [this](auto handler, std::string n, std::uint16_t t) {
          using H = decltype(handler);
          start(std::move(n), t, std::make_unique<Pending<H>>(std::move(handler), ex_));
        },
        token, std::move(name), type);
  }

  struct PendingBase {
    virtual ~PendingBase() = default;
    virtual void complete(RawReply reply) = 0;
  };

 private:
  template <typename Handler>
  struct Pending final : PendingBase {
    Pending(Handler h, asio::any_io_executor ex)
        : handler(std::move(h)), work(asio::get_associated_executor(handler, ex)) {}
    void complete(RawReply reply) override {
      auto ex = work.get_executor();
      asio::post(ex, [h = std::move(handler), r = std::move(reply)]() mutable { std::move(h)(std::move(r)); });
    }
    Handler handler;
    asio::executor_work_guard<asio::associated_executor_t<Handler, asio::any_io_executor>> work;
  };

  void start(std::string name, std::uint16_t type, std::unique_ptr<PendingBase> op);

  struct Impl;
  asio::any_io_executor ex_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bp::resolver
