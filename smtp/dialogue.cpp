#include "dialogue.hpp"

#include <fmt/format.h>

namespace bp::smtp {

namespace {

std::string first_word(const std::string& s) {
  const auto end = s.find(' ');
  return s.substr(0, end);
}

bool needs_smtputf8(const Plan& plan) {
  auto non_ascii = [](const std::string& s) {
    for (char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (c > 0x7f) return true;
    }
    return false;
  };
  if (non_ascii(plan.sender)) return true;
  for (const auto& r : plan.recipients) {
    if (non_ascii(r.address)) return true;
  }
  return false;
}

/// Sends `line`, reads the reply, records the exchange. \return the reply or nullptr when the session broke.
asio::awaitable<const Reply*> exchange(Connection& c, Session& s, std::string stage, std::string line, std::string role = {}) {
  Exchange x{std::move(stage), line, std::move(role), std::nullopt, std::nullopt};
  auto r = co_await c.command(std::move(line));
  if (r) {
    x.reply = std::move(r).value();
  } else {
    x.error = r.error();
    s.error = r.error();
    s.error_stage = x.stage;
  }
  s.exchanges.push_back(std::move(x));
  co_return s.exchanges.back().reply ? &*s.exchanges.back().reply : nullptr;
}

/// QUIT, politely; a server that already left is no error any more.
asio::awaitable<void> quit(Connection& c, Session& s) {
  if (co_await c.send("QUIT")) co_return;
  auto r = co_await c.read_reply(s.error ? Millis(2000) : Millis(5000));
  Exchange x{"quit", "QUIT", {}, std::nullopt, std::nullopt};
  if (r) x.reply = std::move(r).value();
  else x.error = r.error();
  s.exchanges.push_back(std::move(x));
}

/// EHLO, or HELO for a server that does not know EHLO. \return false when the session cannot go on.
asio::awaitable<bool> greet(Connection& c, Session& s, const Plan& plan) {
  const Reply* r = co_await exchange(c, s, "ehlo", "EHLO " + plan.helo);
  if (r == nullptr) co_return false;
  if (r->code == 250) {
    s.esmtp = true;
    s.ehlo_name = r->lines.empty() ? "" : first_word(r->lines.front());
    s.extensions = parse_ehlo(*r);
    co_return true;
  }
  if (r->code == 421) co_return false;
  const Reply* h = co_await exchange(c, s, "helo", "HELO " + plan.helo);
  if (h == nullptr || h->code != 250) co_return false;
  s.ehlo_name = h->lines.empty() ? "" : first_word(h->lines.front());
  co_return true;
}

asio::awaitable<void> converse(Connection& c, Session& s, const Plan& plan) {
  // Banner.
  auto banner = co_await c.read_reply(plan.timeouts.banner);
  s.banner_ms = c.elapsed_ms() - s.connect_ms;
  Exchange b{"banner", "", {}, std::nullopt, std::nullopt};
  if (!banner) {
    b.error = banner.error();
    s.error = banner.error();
    s.error_stage = "banner";
    s.exchanges.push_back(std::move(b));
    co_return;
  }
  b.reply = std::move(banner).value();
  const int banner_code = b.reply->code;
  s.exchanges.push_back(std::move(b));
  if (banner_code != 220) {
    co_await quit(c, s);  // 421/554 at connect: the server will not talk to us
    co_return;
  }

  if (!co_await greet(c, s, plan)) {
    if (!s.error) co_await quit(c, s);
    co_return;
  }

  // STARTTLS when offered; on success the session state is reset (RFC 3207 section 4.2): EHLO again.
  s.starttls_offered = s.extensions.count("STARTTLS") > 0;
  if (plan.starttls && s.starttls_offered) {
    const Reply* r = co_await exchange(c, s, "starttls", "STARTTLS");
    if (r == nullptr) co_return;
    if (r->code == 220) {
      s.plaintext_after_starttls = c.unread_bytes() > 0;
      s.tls = co_await c.start_tls(plan.tls);
      if (!s.tls->ok) {
        s.error = SessionError{SessionErrorKind::tls, s.tls->error};
        s.error_stage = "tls";
        co_return;  // the connection is unusable; a real MTA would retry without TLS
      }
      if (!co_await greet(c, s, plan)) {
        if (!s.error) co_await quit(c, s);
        co_return;
      }
    }
  }

  // The envelope. No DATA follows, whatever the answers.
  std::string mail = "MAIL FROM:" + path(plan.sender);
  if (needs_smtputf8(plan) && s.extensions.count("SMTPUTF8") > 0) mail += " SMTPUTF8";
  const Reply* m = co_await exchange(c, s, "mail", mail);
  if (m == nullptr) co_return;
  if (m->code == 421) co_return;
  if (m->positive()) {
    for (const auto& rcpt : plan.recipients) {
      const Reply* r = co_await exchange(c, s, "rcpt", "RCPT TO:" + path(rcpt.address), rcpt.role);
      if (r == nullptr) co_return;
      if (r->code == 421) co_return;  // the server is closing the session
    }
  }
  if (co_await exchange(c, s, "rset", "RSET") == nullptr) co_return;
  co_await quit(c, s);
}

}  // namespace

std::string path(const std::string& address) {
  if (address.empty() || address == "<>") return "<>";
  return "<" + address + ">";
}

const Exchange* Session::find(std::string_view stage, std::string_view role) const {
  for (const auto& x : exchanges) {
    if (x.stage == stage && (role.empty() || x.role == role)) return &x;
  }
  return nullptr;
}

const Reply* Session::banner() const {
  const auto* x = find("banner");
  return x != nullptr && x->reply ? &*x->reply : nullptr;
}

asio::awaitable<Session> run_session(asio::any_io_executor ex, std::string host, std::string address, Plan plan) {
  Session s;
  s.host = host;
  s.address = address;
  s.port = plan.port;
  plan.tls.host = host;
  Connection c(ex, plan.timeouts);
  if (auto e = co_await c.connect(address, plan.port, plan.source)) {
    s.error = *e;
    s.error_stage = "connect";
  } else {
    s.connected = true;
    s.source = c.local_address();
    s.connect_ms = c.elapsed_ms();
    co_await converse(c, s, plan);
    c.close();
  }
  s.total_ms = c.elapsed_ms();
  s.transcript = c.transcript();
  co_return s;
}

}  // namespace bp::smtp
