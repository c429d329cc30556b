#include "explain.hpp"

#include <domain_name.hpp>

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <arpa/inet.h>

namespace bp::report {

namespace {

struct Candidate {
  int code{0};
  std::string enhanced;
  std::string text;
  bool whole{false};  ///< the whole paste, for replies quoted without a code
};

RE2::Options ci() {
  RE2::Options o;
  o.set_case_sensitive(false);
  o.set_log_errors(false);
  return o;
}

/// Where a copy of the returned message begins in the report: its headers
/// (Received-SPF, Authentication-Results, the subject) are the sender's words.
std::size_t returned_message_start(std::string_view text) {
  static const RE2 marker(
      R"((?im)^[ \t>-]*(?:Original message headers:|-+ ?This is a copy of the message|-+ ?Below this line is a copy of the message|)"
      R"(-+ ?(?:Original|Unsent|Returned) message(?: follows)? ?-+|-+ ?The header of the original message is following|)"
      R"(Content-Type:\s*(?:message/rfc822|text/rfc822-headers|message/global)))",
      ci());
  re2::StringPiece m;
  re2::StringPiece in(text.data(), text.size());
  if (marker.Match(in, 0, in.size(), RE2::UNANCHORED, &m, 1)) return static_cast<std::size_t>(m.data() - text.data());
  return text.size();
}

/// Lines, with quoting markers removed and SMTP continuation lines folded
/// into their reply ("550-5.7.1 a" + "550 5.7.1 b" -> "550 5.7.1 a b").
std::vector<std::string> fold_lines(std::string_view text) {
  static const RE2 code_line(R"(^\s*([245][0-9]{2})([ -])(?:([245]\.[0-9]{1,3}\.[0-9]{1,3})\s+)?(.*)$)");
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto nl = text.find('\n', start);
    std::string line(text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    for (auto& c : line) {
      auto u = static_cast<unsigned char>(c);
      if (u < 32 || u == 127) c = ' ';
    }
    std::size_t q = 0;
    while (q < line.size() && (line[q] == '>' || line[q] == ' ')) ++q;  // "> > quoted"
    if (q > 0 && line.find('>') < q) line.erase(0, q);
    lines.push_back(std::move(line));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  std::vector<std::string> out;
  std::string open_code;  // code of a reply whose last line had "NNN-"
  for (auto& line : lines) {
    std::string code, sep, enh, rest;
    if (!open_code.empty() && RE2::FullMatch(line, code_line, &code, &sep, &enh, &rest) && code == open_code) {
      out.back() += " " + rest;
      if (sep == " ") open_code.clear();
      continue;
    }
    open_code.clear();
    if (RE2::FullMatch(line, code_line, &code, &sep, &enh, &rest) && sep == "-") open_code = code;
    out.push_back(std::move(line));
  }
  return out;
}

std::string normalize(std::string_view text) {
  auto lines = fold_lines(text);
  std::string joined;
  std::size_t total = 0;
  for (const auto& l : lines) total += l.size() + 1;
  joined.reserve(total);
  for (const auto& l : lines) {
    joined += l;
    joined += ' ';
  }
  // The wrappers MTAs and mail clients put around the receiver's reply become one separator.
  static const RE2 in_reply(R"(\(in reply to [A-Za-z ]+ command\))", ci());
  static const RE2 wrappers(
      R"((?:host\s+\S+\s+said:|Remote host said:|Diagnostic-Code:\s*smtp\s*;|Remote Server returned '|)"
      R"(SMTP error from remote mail server after [^:]*(?::<[^<>]*>)?:|The error that the other server returned was:|)"
      R"(Reported error:))",
      ci());
  static const RE2 spaces(R"(\s+)");
  RE2::GlobalReplace(&joined, in_reply, " ");
  RE2::GlobalReplace(&joined, wrappers, " | ");
  RE2::GlobalReplace(&joined, spaces, " ");
  const auto b = joined.find_first_not_of(' ');
  if (b == std::string::npos) return {};
  const auto e = joined.find_last_not_of(' ');
  return joined.substr(b, e - b + 1);
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '(' || c == ')' || c == '.' || c == '|' || c == '#'; });
}

void trim(std::string& s) {
  const char* junk = " '|";
  const auto b = s.find_first_not_of(junk);
  if (b == std::string::npos) {
    s.clear();
    return;
  }
  s.erase(s.find_last_not_of(junk) + 1);
  s.erase(0, b);
}

std::vector<Candidate> candidates(const std::string& text) {
  // A reply code or an enhanced status code, standing alone (not inside an IP address or zone):
  // "550 5.1.1", "550-5.1.1", "#5.1.1" (qmail, Exchange), "Status: 5.1.1".
  static const RE2 start(
      R"((?:^|[\s:;'"(|#\[])(?:([45][0-9]{2})(?:[ -]+#?([45]\.[0-9]{1,3}\.[0-9]{1,3}))?|([45]\.[0-9]{1,3}\.[0-9]{1,3}))(?:[\s)\],;:'"]|\.(?:\s|$)|$))");
  struct Mark {
    std::size_t begin, end;
    int code;
    std::string enhanced;
  };
  std::vector<Mark> marks;
  re2::StringPiece input(text);
  std::size_t pos = 0;
  re2::StringPiece m[4];
  while (pos <= text.size() && start.Match(input, pos, text.size(), RE2::UNANCHORED, m, 4)) {
    const auto b = static_cast<std::size_t>(m[0].data() - text.data());
    Mark mk{b, b + m[0].size(), 0, {}};
    if (!m[1].empty()) mk.code = (m[1][0] - '0') * 100 + (m[1][1] - '0') * 10 + (m[1][2] - '0');
    if (!m[2].empty()) mk.enhanced = std::string(m[2]);
    if (!m[3].empty()) mk.enhanced = std::string(m[3]);
    marks.push_back(mk);
    // Continue just before the trailing delimiter so "550 5.4.1 x: 550 5.4.1 y" finds both.
    pos = mk.end > mk.begin + 1 ? mk.end - 1 : mk.end;
    if (pos <= mk.begin) pos = mk.begin + 1;
  }
  std::vector<Candidate> out;
  for (std::size_t i = 0; i < marks.size(); ++i) {
    const std::size_t b = marks[i].end;
    const std::size_t e = i + 1 < marks.size() ? marks[i + 1].begin : text.size();
    Candidate c{marks[i].code, marks[i].enhanced, b < e ? text.substr(b, e - b) : std::string{}};
    // "Sorry, no mailbox here by that name. (#5.1.1)": the words come before the code.
    const char lead = text[marks[i].begin];
    if (c.code == 0 && (lead == '#' || lead == '(') && blank(c.text)) {
      const std::size_t pb = i > 0 ? marks[i - 1].end : 0;
      const std::size_t pe = marks[i].begin;
      if (pb < pe) {
        c.text = text.substr(pe - std::min<std::size_t>(pe - pb, 400), std::min<std::size_t>(pe - pb, 400));
        while (!c.text.empty() && (c.text.back() == '(' || c.text.back() == '#' || c.text.back() == ' ')) c.text.pop_back();
      }
    }
    out.push_back(std::move(c));
  }
  // Codes split across candidates: "554 5.7.1" then text -> merge an empty candidate into its successor.
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    if (blank(out[i].text)) {
      if (out[i + 1].code == 0) out[i + 1].code = out[i].code;
      if (out[i + 1].enhanced.empty()) out[i + 1].enhanced = out[i].enhanced;
    }
  }
  out.push_back(Candidate{0, {}, text, true});
  for (auto& c : out) trim(c.text);
  return out;
}

bool enhanced_agrees(const std::string& seen, const std::string& documented) {
  if (seen.empty() || documented.empty()) return true;
  // Postfix forces the class digit to the reply code's, so compare subject.detail.
  return seen.substr(1) == documented.substr(1);
}

bool code_agrees(int seen, const CatalogEntry& e) {
  if (seen == 0 || e.code == 0) return true;
  if (seen == e.code) return true;
  return std::find(e.code_alt.begin(), e.code_alt.end(), seen) != e.code_alt.end();
}

/// The class of the pasted codes (4 or 5), 0 when the paste has none.
int pasted_class(int code, const std::string& enhanced) {
  if (code >= 400 && code < 600) return code / 100;
  const auto e = Enhanced::parse(enhanced);
  return e.klass == 4 || e.klass == 5 ? e.klass : 0;
}

bool class_agrees(int code, const std::string& enhanced, const CatalogEntry& e) {
  const int k = pasted_class(code, enhanced);
  if (k == 0) return true;
  return (k == 4) == e.temporary();
}

bool is_ip(const std::string& s) {
  resolver::IpBytes ip;
  return resolver::parse_ip(s, &ip);
}

std::map<std::string, std::string> extract_facts(const std::string& text) {
  std::map<std::string, std::string> f;
  static const RE2 addr(R"(<([^<>\s]*@[^<>\s]+)>)");
  static const RE2 bracket_ip(R"(\[([0-9A-Fa-f:.]+)\])");
  static const RE2 host_ip(R"(<([A-Za-z0-9.-]+)\[([0-9A-Fa-f:.]+)\]>)");
  static const RE2 list(R"(blocked using ([A-Za-z0-9.-]+[A-Za-z])(?:=(127\.[0-9]+\.[0-9]+\.[0-9]+))?)", ci());
  static const RE2 dmarc_domain(R"(DMARC policy for \[?([A-Za-z0-9.-]+)\]?)", ci());
  static const RE2 nullmx_domain(R"(Domain (\S+) does not accept mail)", ci());
  std::string a, ip, host, zone, code;
  if (RE2::PartialMatch(text, addr, &a)) {
    f["address"] = a;
    f["domain"] = a.substr(a.rfind('@') + 1);
  }
  if (RE2::PartialMatch(text, host_ip, &host, &ip)) {
    if (host != "servername" && host != "unknown") f["host"] = host;
  }
  re2::StringPiece in(text);
  while (RE2::FindAndConsume(&in, bracket_ip, &ip)) {
    if (is_ip(ip)) {
      f["ip"] = ip;
      break;
    }
  }
  if (RE2::PartialMatch(text, list, &zone, &code)) {
    f["list"] = zone;
    if (!code.empty()) f["list_code"] = code;
  }
  std::string d;
  if (RE2::PartialMatch(text, dmarc_domain, &d) && d.find('.') != std::string::npos) f["domain"] = d;
  if (RE2::PartialMatch(text, nullmx_domain, &d)) f["domain"] = d;
  return f;
}

/// Who the bounce is about: the recipient that failed and, where the text says so, the refused sender.
void extract_parties(const std::string& text, std::map<std::string, std::string>& f) {
  static const RE2 sender(R"(<([^<>\s]*@[^<>\s]+)>:? ?Sender address rejected)", ci());
  static const RE2 recipient(
      R"((?:Final-Recipient:\s*rfc822\s*;\s*|Original-Recipient:\s*rfc822\s*;\s*|RCPT TO:\s*<|)"
      R"(failed to these recipients or (?:groups|distribution lists):\s*|address\(es\) failed:\s*|)"
      R"(wasn't delivered to\s*|Your message to\s*|could not be delivered to:?\s*))"
      R"(<?([^<>\s;,]+@[A-Za-z0-9.-]+[A-Za-z0-9]))",
      ci());
  static const RE2 refused(R"(<([^<>\s]*@[^<>\s]+)>:? ?(?:\||Recipient address rejected))", ci());
  std::string s, r;
  if (RE2::PartialMatch(text, sender, &s)) f["sender"] = s;
  if ((RE2::PartialMatch(text, recipient, &r) || RE2::PartialMatch(text, refused, &r)) && r != s) f["recipient"] = r;
}

/// Between replies of one paste: the stronger kind of decision, then the more specific phrase group.
bool stronger(const Classification& a, const Classification& b) {
  if (a.rank != b.rank) return a.rank > b.rank;
  return a.confidence == Confidence::phrase && b.confidence == Confidence::phrase && a.group < b.group;
}

}  // namespace

ExplainResult explain(const Catalog& catalog, std::string_view pasted, const Reasons& reasons) {
  ExplainResult res;
  if (pasted.size() > max_input_bytes) {
    pasted = pasted.substr(0, max_input_bytes);
    res.truncated = true;
  }
  pasted = pasted.substr(0, returned_message_start(pasted));
  res.normalized = normalize(pasted);
  struct Scored {
    ExplainMatch m;
    bool has_code;
  };
  std::vector<Scored> all;
  const auto cands = candidates(res.normalized);
  const Candidate* deciding = nullptr;
  Classification best;
  best.rank = -1;
  for (const auto& cand : cands) {
    for (const auto& e : catalog.entries()) {
      re2::StringPiece hit;
      if (!e.regex->Match(cand.text, 0, cand.text.size(), RE2::UNANCHORED, &hit, 1)) continue;
      ExplainMatch m;
      m.entry = &e;
      m.code = cand.code;
      m.enhanced = cand.enhanced;
      m.codes_agree = code_agrees(cand.code, e) && enhanced_agrees(cand.enhanced, e.enhanced);
      m.class_agrees = class_agrees(cand.code, cand.enhanced, e);
      m.matched_text = std::string(hit);
      m.facts = extract_facts(cand.text);
      all.push_back({std::move(m), cand.code != 0 || !cand.enhanced.empty()});
    }
    if (cand.whole) {
      // The whole paste decides only by its wording, never by a number in it.
      auto c = reasons.classify(0, "", cand.text);
      if (c.confidence == Confidence::phrase && stronger(c, best)) {
        best = std::move(c);
        deciding = &cand;
      }
      continue;
    }
    auto c = reasons.classify(cand.code, cand.enhanced, cand.text);
    res.replies.push_back({cand.code, cand.enhanced, cand.text, c});
    // At equal strength the reply with its own reply code and words beats a bare status field.
    const bool fuller = deciding != nullptr && c.rank == best.rank && cand.code != 0 && deciding->code == 0 && !cand.text.empty();
    if (stronger(c, best) || fuller) {
      best = std::move(c);
      deciding = &cand;
    }
  }
  // One match per entry: the reply that carries codes (the receiver's own) over the bare wording.
  std::vector<Scored> per_entry;
  for (auto& s : all) {
    auto it = std::find_if(per_entry.begin(), per_entry.end(), [&](const Scored& x) { return x.m.entry == s.m.entry; });
    if (it == per_entry.end()) {
      per_entry.push_back(std::move(s));
    } else if ((s.has_code && !it->has_code) ||
               (s.has_code == it->has_code && s.m.codes_agree && !it->m.codes_agree)) {
      *it = std::move(s);
    }
  }
  std::stable_sort(per_entry.begin(), per_entry.end(), [](const Scored& a, const Scored& b) {
    if (a.m.codes_agree != b.m.codes_agree) return a.m.codes_agree;
    if (a.m.entry->priority != b.m.entry->priority) return a.m.entry->priority > b.m.entry->priority;
    if (a.m.matched_text.size() != b.m.matched_text.size()) return a.m.matched_text.size() > b.m.matched_text.size();
    return a.has_code && !b.has_code;
  });
  for (auto& s : per_entry) res.matches.push_back(std::move(s.m));

  res.facts = extract_facts(res.normalized);
  extract_parties(res.normalized, res.facts);
  if (!res.matches.empty()) {
    const auto& m = res.matches.front();
    res.reason = m.entry->reason;
    res.confidence = Confidence::catalog;
    res.basis = fmt::format("the documented entry {}", m.entry->id);
    res.code = m.code;
    res.enhanced = m.enhanced;
    res.reply = m.matched_text;
    for (const auto& [k, v] : m.facts) res.facts[k] = v;
    // The paste's own codes: from the reply the entry matched, else from the strongest reply.
    if (res.code == 0 && res.enhanced.empty() && deciding != nullptr && !deciding->whole) {
      res.code = deciding->code;
      res.enhanced = deciding->enhanced;
    }
    return res;
  }
  if (deciding != nullptr) {
    res.reason = best.reason;
    res.confidence = best.confidence;
    res.basis = best.basis;
    if (!deciding->whole) {
      res.code = deciding->code;
      res.enhanced = deciding->enhanced;
      res.reply = deciding->text;
    } else if (!res.replies.empty()) {
      res.code = res.replies.front().code;
      res.enhanced = res.replies.front().enhanced;
      res.reply = res.replies.front().text;
    }
  } else {
    res.basis = "no status code and no known wording";
  }
  if (res.reply.size() > 500) res.reply = res.reply.substr(0, 500) + "...";
  // The nearest documented entries: the same reason, the closest codes first.
  std::vector<std::pair<int, const CatalogEntry*>> near;
  const auto seen_e = Enhanced::parse(res.enhanced);
  for (const auto& e : catalog.entries()) {
    if (e.reason != res.reason) continue;
    int score = 0;
    const auto de = Enhanced::parse(e.enhanced);
    if (seen_e.klass != 0 && de.klass != 0 && seen_e.subject == de.subject) score += de.detail == seen_e.detail ? 4 : 2;
    if (res.code != 0 && code_agrees(res.code, e)) score += 1;
    if (class_agrees(res.code, res.enhanced, e)) score += 1;
    near.emplace_back(score, &e);
  }
  std::stable_sort(near.begin(), near.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t i = 0; i < near.size() && i < 3; ++i) res.nearest.push_back(near[i].second);
  return res;
}

}  // namespace bp::report
