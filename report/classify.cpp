#include "classify.hpp"

#include <data_file.hpp>
#include <fmt/format.h>
#include <re2/re2.h>
#include <re2/set.h>
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <stdexcept>

namespace bp::embedded {
extern const std::string_view reasons_toml;
}

namespace bp::report {

namespace {

// How strong each kind of decision is; explain() compares them across the replies of one paste.
constexpr int rank_decisive_status = 50;
constexpr int rank_phrase_in_reply = 40;
constexpr int rank_phrase_in_text = 35;
constexpr int rank_hint_status = 30;
constexpr int rank_decisive_reply = 25;
constexpr int rank_hint_reply = 10;

std::string str(const toml::table& t, std::string_view key, const std::string& where) {
  return probes::toml_string(t, key, where, true);
}

bool to_int(std::string_view s, int& out) {
  if (s.empty() || s.size() > 4) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

/// "X.1.1", "5.7.1", "5.7.606-649" -> a rule's code fields; false when malformed.
bool parse_rule_code(std::string_view s, StatusRule& r) {
  const auto d1 = s.find('.');
  const auto d2 = d1 == std::string_view::npos ? d1 : s.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return false;
  const auto k = s.substr(0, d1);
  if (k == "X") {
    r.klass = 0;
  } else if (!to_int(k, r.klass) || (r.klass != 4 && r.klass != 5)) {
    return false;
  }
  if (!to_int(s.substr(d1 + 1, d2 - d1 - 1), r.subject)) return false;
  auto detail = s.substr(d2 + 1);
  const auto dash = detail.find('-');
  if (dash == std::string_view::npos) {
    if (!to_int(detail, r.detail_lo)) return false;
    r.detail_hi = r.detail_lo;
  } else if (!to_int(detail.substr(0, dash), r.detail_lo) || !to_int(detail.substr(dash + 1), r.detail_hi) ||
             r.detail_hi < r.detail_lo) {
    return false;
  }
  return true;
}

/// Addresses are the sender's words, not the receiver's: "<spam-reports@x>" says nothing about spam.
std::string without_addresses(std::string_view text) {
  static const RE2 addr(R"(<?[^\s<>@]+@[^\s<>]+>?)");
  std::string s(text);
  RE2::GlobalReplace(&s, addr, " ");
  return s;
}

}  // namespace

const char* to_string(Confidence c) {
  switch (c) {
    case Confidence::catalog: return "catalog";
    case Confidence::code: return "code";
    case Confidence::phrase: return "phrase";
    case Confidence::guess: return "guess";
  }
  return "guess";
}

Enhanced Enhanced::parse(std::string_view s) {
  Enhanced e;
  const auto d1 = s.find('.');
  const auto d2 = d1 == std::string_view::npos ? d1 : s.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return {};
  int k = 0, sub = 0, det = 0;
  if (!to_int(s.substr(0, d1), k) || !to_int(s.substr(d1 + 1, d2 - d1 - 1), sub) || !to_int(s.substr(d2 + 1), det)) return {};
  if (k != 2 && k != 4 && k != 5) return {};
  e.klass = k;
  e.subject = sub;
  e.detail = det;
  return e;
}

Reasons::Reasons() = default;
Reasons::Reasons(Reasons&&) noexcept = default;
Reasons& Reasons::operator=(Reasons&&) noexcept = default;
Reasons::~Reasons() = default;

Reasons Reasons::load(std::string_view text, const std::string& origin) {
  const toml::table root = probes::parse_toml(text, origin);
  Reasons r;
  std::set<std::string> ids;
  probes::for_each_table(root, "reason", origin, [&](const toml::table& t) {
    ReasonInfo info;
    info.id = str(t, "id", origin + ": reason");
    const auto where = fmt::format("{}: reason '{}'", origin, info.id);
    if (!ids.insert(info.id).second) throw std::runtime_error(where + ": duplicate id");
    info.title = str(t, "title", where);
    info.explanation = str(t, "explanation", where);
    info.fix = str(t, "fix", where);
    info.confirm = str(t, "confirm", where);
    static const std::set<std::string> probes{"mx", "sender", "spf-dmarc", "dnsbl", "rdns", "smtp", "none"};
    if (!probes.count(info.confirm)) throw std::runtime_error(where + ": unknown confirm probe '" + info.confirm + "'");
    r.reasons_.push_back(std::move(info));
  });
  if (!ids.count("other")) throw std::runtime_error(origin + ": the reason 'other' is required");
  auto known = [&](const std::string& reason, const std::string& where) {
    if (!ids.count(reason)) throw std::runtime_error(where + ": unknown reason '" + reason + "'");
  };
  // A rule's reason, whether it decides alone, what it means and where that is documented.
  auto rule_fields = [&](const toml::table& t, const std::string& where, auto& rule) {
    rule.reason = str(t, "reason", where);
    known(rule.reason, where);
    rule.decisive = t["decisive"].value_or(false);
    rule.meaning = str(t, "meaning", where);
    rule.source = str(t, "source", where);
  };
  probes::for_each_table(root, "status", origin, [&](const toml::table& t) {
    StatusRule s;
    s.code = str(t, "code", origin + ": status");
    const auto where = fmt::format("{}: status '{}'", origin, s.code);
    if (!parse_rule_code(s.code, s)) throw std::runtime_error(where + ": code must look like X.1.1, 5.7.1 or 5.7.606-649");
    rule_fields(t, where, s);
    r.status_.push_back(std::move(s));
  });
  probes::for_each_table(root, "reply", origin, [&](const toml::table& t) {
    ReplyRule p;
    const auto code = probes::toml_int(t, "code", origin + ": [[reply]]", 200, 599);
    if (!code) throw std::runtime_error(origin + ": [[reply]] needs a code");
    p.code = static_cast<int>(*code);
    rule_fields(t, fmt::format("{}: reply {}", origin, p.code), p);
    r.replies_.push_back(std::move(p));
  });
  RE2::Options opts;
  opts.set_case_sensitive(false);
  opts.set_log_errors(false);
  opts.set_max_mem(64 << 20);
  r.set_ = std::make_unique<RE2::Set>(opts, RE2::UNANCHORED);
  std::size_t group = 0;
  probes::for_each_table(root, "phrase", origin, [&](const toml::table& t) {
    const auto where = fmt::format("{}: phrase group {}", origin, group + 1);
    const auto reason = str(t, "reason", where);
    known(reason, where);
    const auto source = str(t, "source", where);
    const auto* pats = t["patterns"].as_array();
    if (pats == nullptr || pats->empty()) throw std::runtime_error(where + ": 'patterns' must be a non-empty array");
    for (const auto& pn : *pats) {
      auto pat = pn.value<std::string>();
      if (!pat) throw std::runtime_error(where + ": patterns must be strings");
      std::string error;
      // Multi-line so that '^' anchors a line of a pasted message.
      const std::string full = "(?m)" + *pat;
      if (r.set_->Add(full, &error) < 0) throw std::runtime_error(fmt::format("{}: pattern '{}': {}", where, *pat, error));
      auto re = std::make_unique<RE2>(full, opts);
      r.phrases_.push_back({group, reason, source, *pat, std::move(re)});
    }
    ++group;
  });
  if (!r.set_->Compile()) throw std::runtime_error(origin + ": the phrase patterns do not compile together (too large)");
  return r;
}

const Reasons& Reasons::builtin() {
  static const Reasons r = load(embedded::reasons_toml, "reasons.toml (built in)");
  return r;
}

const ReasonInfo* Reasons::find(std::string_view id) const {
  for (const auto& r : reasons_) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

const StatusRule* Reasons::status_rule(std::string_view enhanced) const {
  const auto e = Enhanced::parse(enhanced);
  if (e.klass == 0) return nullptr;
  const StatusRule* best = nullptr;
  for (const auto& s : status_) {
    if (s.subject != e.subject || e.detail < s.detail_lo || e.detail > s.detail_hi) continue;
    if (s.klass != 0 && s.klass != e.klass) continue;
    // A rule for one class beats "X"; a narrower range beats a wider one.
    auto specificity = [](const StatusRule& r) { return (r.klass != 0 ? 10000 : 0) - (r.detail_hi - r.detail_lo); };
    if (best == nullptr || specificity(s) > specificity(*best)) best = &s;
  }
  return best;
}

const ReplyRule* Reasons::reply_rule(int code) const {
  for (const auto& r : replies_) {
    if (r.code == code) return &r;
  }
  return nullptr;
}

Classification Reasons::classify(int code, std::string_view enhanced, std::string_view text) const {
  Classification c;
  const StatusRule* status = enhanced.empty() ? nullptr : status_rule(enhanced);
  if (status != nullptr && status->decisive) {
    c.reason = status->reason;
    c.confidence = Confidence::code;
    c.basis = fmt::format("enhanced status code {}: {} ({})", enhanced, status->meaning, status->source);
    c.rank = rank_decisive_status;
    return c;
  }
  if (!text.empty() && !phrases_.empty()) {
    const auto cleaned = without_addresses(text);
    std::vector<int> hits;
    if (set_->Match(cleaned, &hits) && !hits.empty()) {
      const auto first = static_cast<std::size_t>(*std::min_element(hits.begin(), hits.end()));
      const auto& p = phrases_[first];
      re2::StringPiece m;
      re2::StringPiece in(cleaned);
      if (p.re->Match(in, 0, in.size(), RE2::UNANCHORED, &m, 1)) c.matched = std::string(m);
      c.reason = p.reason;
      c.group = p.group;
      c.confidence = Confidence::phrase;
      c.basis = fmt::format("the wording \"{}\" (texts of {})", c.matched, p.source);
      c.rank = (code != 0 || !enhanced.empty()) ? rank_phrase_in_reply : rank_phrase_in_text;
      return c;
    }
  }
  if (status != nullptr) {
    c.reason = status->reason;
    c.confidence = Confidence::code;
    c.basis = fmt::format("enhanced status code {}: {} ({})", enhanced, status->meaning, status->source);
    c.rank = rank_hint_status;
    return c;
  }
  if (const auto* reply = code != 0 ? reply_rule(code) : nullptr) {
    c.reason = reply->reason;
    c.confidence = reply->decisive ? Confidence::code : Confidence::guess;
    c.basis = fmt::format("reply code {}: {} ({})", code, reply->meaning, reply->source);
    c.rank = reply->decisive ? rank_decisive_reply : rank_hint_reply;
    return c;
  }
  const auto e = Enhanced::parse(enhanced);
  const int klass = code != 0 ? code / 100 : e.klass;
  if (klass == 4 || klass == 5) {
    c.basis = fmt::format("only the class of the code: a {} failure", klass == 4 ? "temporary" : "permanent");
    c.rank = 1;
  } else {
    c.basis = "no status code and no known wording";
  }
  return c;
}

}  // namespace bp::report
