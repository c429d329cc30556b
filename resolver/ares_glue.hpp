/*++
 * NAME
 *	ares_glue 3h
 * SUMMARY
 *	a c-ares channel driven by an Asio event loop
 * DESCRIPTION
 *	The only place that knows c-ares. Each socket c-ares opens is watched
 *	through a posix::stream_descriptor that it never owns; one steady_timer
 *	follows ares_timeout(). send() sends one question; its Reply is told the
 *	raw reply bytes or a c-ares status from the event loop, without a
 *	coroutine or a posted handler per query (the fleet's hot path).
 * DIAGNOSTICS
 *	The constructor throws std::runtime_error when c-ares cannot start or the
 *	server list is rejected (a start-up failure, exit code 3).
 * SEE ALSO
 *	ares_init_options(3) ARES_OPT_SOCK_STATE_CB, ares_process_fd(3), ares_send(3).
 *--*/
#pragma once

#include <asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bp::resolver {

/// Classifies a c-ares status for the failure enum without exposing <ares.h>.
enum class AresStatusClass { success, timeout, connection_refused, cancelled, bad_name, no_server, other };
AresStatusClass classify_status(int status);

struct ChannelOptions {
  std::vector<std::string> servers;  ///< "IP", "IP:PORT" or "[IPv6]:PORT"; empty = /etc/resolv.conf
  std::chrono::milliseconds timeout{2000};
};

class AresChannel {
  struct Impl;

 public:
  AresChannel(asio::any_io_executor ex, const ChannelOptions& options);
  ~AresChannel();
  AresChannel(const AresChannel&) = delete;
  AresChannel& operator=(const AresChannel&) = delete;

  /// \return the servers in use, as "IP:PORT" strings.
  std::vector<std::string> servers() const;

  /// Completes every query in flight at once with ARES_ECANCELLED.
  void cancel_all();

  /// What a question sent with send() is answered with: status is ARES_SUCCESS
  /// (with the reply's bytes) or an ARES_E* code (with ares_strerror's text).
  class Reply {
   public:
    virtual ~Reply() = default;
    virtual void done(int status, const char* status_text, const unsigned char* packet, std::size_t len) = 0;

   private:
    friend class AresChannel;
    Impl* channel_{nullptr};  ///< set by send(): where c-ares's callback finds the channel
  };

  /// Sends (name, type); `reply` is told the outcome once, from the event loop:
  /// inside ares_process_fd() or cancel_all(), or posted when c-ares answers
  /// at once (never inside send() itself), then destroyed.
  void send(const std::string& name, std::uint16_t type, std::unique_ptr<Reply> reply, bool checking_disabled = false);

 private:
  asio::any_io_executor ex_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bp::resolver
