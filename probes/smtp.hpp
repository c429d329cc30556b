/*++
 * NAME
 *	smtp 3h
 * SUMMARY
 *	the SMTP probe: talk to a domain's mail hosts as a sending MTA would
 * DESCRIPTION
 *	probe_smtp() walks the MX hosts in preference order, each host's
 *	addresses in turn, and runs one dialogue (smtp/dialogue.hpp) per
 *	address until one gives a final answer for the main recipient, with
 *	the fallback a real MTA uses: the next address or host after a failed
 *	connection, a greeting other than 220, a broken session, or a 4xx to
 *	MAIL or the main RCPT. A TLS handshake failure is retried once without
 *	STARTTLS, as an opportunistic sender does.
 *
 *	Bounds, stated in the report: at most `max_connections` connections
 *	per domain, one at a time per domain; across a run at most
 *	`Gate::parallel` connections at once and one at a time per address.
 *	Never DATA.
 *
 *	Findings: port 25 unreachable on every MX, slow greetings, connection
 *	limits, STARTTLS missing or broken, certificate trust, name and expiry,
 *	DANE, plaintext injected after STARTTLS, greeting names against the MX
 *	name, forward-confirmed reverse DNS of each address, catch-all, postmaster,
 *	open relay. The replies themselves are matched to the catalog in report/.
 * SEE ALSO
 *	RFC 5321 sections 5.1 and 4.5.1, RFC 3207, RFC 7672.
 *--*/
#pragma once

#include "address.hpp"
#include "finding.hpp"
#include "mx.hpp"

#include <dialogue.hpp>
#include <resolver.hpp>

#include <asio/awaitable.hpp>

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace bp::probes {

/// Bounds the SMTP connections of one run: `parallel` at once, one per peer address.
class SmtpGate {
 public:
  SmtpGate(asio::any_io_executor ex, int parallel) : ex_(std::move(ex)), parallel_(parallel) {}
  asio::awaitable<void> acquire(std::string address);
  void release(const std::string& address);

 private:
  asio::any_io_executor ex_;
  int parallel_;
  int inflight_{0};
  std::set<std::string> busy_;
  std::deque<std::shared_ptr<asio::steady_timer>> waiters_;
};

struct SmtpOptions {
  smtp::Plan plan;              ///< helo, sender, recipients, timeouts, TLS, source address
  int max_connections{4};       ///< per domain, fallbacks and TLS retries included
  /// true (check): a dialogue with every MX host and address, in the order a sender
  /// tries them, each reported on its own; false (predict): the sender's walk, which
  /// stops at the first host that gives a final answer.
  bool every_address{false};
  smtp::Millis slow_banner{2000};  ///< a greeting slower than this is a finding
  bool dane{true};              ///< look up TLSA records for each MX host
};

struct SmtpReport {
  std::string domain;
  bool attempted{false};          ///< false when there was no host to talk to
  std::vector<smtp::Session> sessions;  ///< in the order tried
  int final_session{-1};          ///< the session whose answers count, or -1
  std::map<std::string, std::string> confirmed_names;  ///< MX address -> forward-confirmed reverse name ("" = none)
  std::vector<Finding> findings;

  const smtp::Session* final() const {
    return final_session >= 0 ? &sessions[static_cast<std::size_t>(final_session)] : nullptr;
  }
};

/// Runs the SMTP probe for a domain whose MX probe ran already; addresses the MX probe
/// found non-global (after --routable) are skipped. `r` and `gate` must outlive it.
asio::awaitable<SmtpReport> probe_smtp(resolver::Resolver& r, SmtpGate& gate, MxReport mx, SmtpOptions options);

/// \return a local part nobody has: "bounceprobe-" and 12 random hex digits.
std::string random_local_part();

/// \return the host name a greeting announces (the first word after the code), or "".
std::string greeting_name(const smtp::Reply& r);

}  // namespace bp::probes
