#include "explain.hpp"

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
};

RE2::Options ci() {
  RE2::Options o;
  o.set_case_sensitive(false);
  o.set_log_errors(false);
  return o;
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
    if (q > 0 && line.find('>') < q) line = line.substr(q);
    lines.push_back(line);
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
    out.push_back(line);
  }
  return out;
}

std::string normalize(std::string_view text) {
  auto lines = fold_lines(text);
  std::string joined;
  for (const auto& l : lines) joined += l + " ";
  static const RE2 in_reply(R"(\(in reply to [A-Za-z ]+ command\))", ci());
  static const RE2 said(R"(host\s+\S+\s+said:)", ci());
  static const RE2 diag(R"(Diagnostic-Code:\s*smtp\s*;)", ci());
  static const RE2 remote(R"(Remote Server returned ')", ci());
  static const RE2 spaces(R"(\s+)");
  RE2::GlobalReplace(&joined, in_reply, " ");
  RE2::GlobalReplace(&joined, said, " | ");
  RE2::GlobalReplace(&joined, diag, " | ");
  RE2::GlobalReplace(&joined, remote, " | ");
  RE2::GlobalReplace(&joined, spaces, " ");
  while (!joined.empty() && joined.back() == ' ') joined.pop_back();
  while (!joined.empty() && joined.front() == ' ') joined.erase(joined.begin());
  return joined;
}

std::vector<Candidate> candidates(const std::string& text) {
  // A reply code or an enhanced status code, standing alone (not inside an IP address or zone).
  static const RE2 start(
      R"((?:^|[\s:;'"(|#])(?:([245][0-9]{2})(?:[ -]+([245]\.[0-9]{1,3}\.[0-9]{1,3}))?|([245]\.[0-9]{1,3}\.[0-9]{1,3}))(?:\s|$))");
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
    Mark mk{static_cast<std::size_t>(m[0].data() - text.data()), static_cast<std::size_t>(m[0].data() - text.data()) + m[0].size(), 0, {}};
    if (!m[1].empty()) mk.code = std::stoi(std::string(m[1]));
    if (!m[2].empty()) mk.enhanced = std::string(m[2]);
    if (!m[3].empty()) mk.enhanced = std::string(m[3]);
    marks.push_back(mk);
    // Continue just before the trailing space so "550 5.4.1 x: 550 5.4.1 y" finds both.
    pos = mk.end > mk.begin + 1 ? mk.end - 1 : mk.end;
    if (pos <= mk.begin) pos = mk.begin + 1;
  }
  std::vector<Candidate> out;
  for (std::size_t i = 0; i < marks.size(); ++i) {
    const std::size_t b = marks[i].end;
    const std::size_t e = i + 1 < marks.size() ? marks[i + 1].begin : text.size();
    Candidate c{marks[i].code, marks[i].enhanced, b < e ? text.substr(b, e - b) : std::string{}};
    // A bare code followed only by an enhanced code belongs to the next text.
    out.push_back(std::move(c));
  }
  // Codes split across candidates: "554 5.7.1" then text -> merge an empty candidate into its successor.
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    auto trimmed = out[i].text;
    trimmed.erase(std::remove(trimmed.begin(), trimmed.end(), ' '), trimmed.end());
    if (trimmed.empty()) {
      if (out[i + 1].code == 0) out[i + 1].code = out[i].code;
      if (out[i + 1].enhanced.empty()) out[i + 1].enhanced = out[i].enhanced;
    }
  }
  out.push_back(Candidate{0, {}, text});  // the whole text, for replies quoted without a code
  for (auto& c : out) {
    while (!c.text.empty() && (c.text.back() == ' ' || c.text.back() == '\'' || c.text.back() == '|')) c.text.pop_back();
    while (!c.text.empty() && (c.text.front() == ' ' || c.text.front() == '|')) c.text.erase(c.text.begin());
  }
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

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
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

}  // namespace

ExplainResult explain(const Catalog& catalog, std::string_view pasted) {
  ExplainResult res;
  if (pasted.size() > max_input_bytes) {
    pasted = pasted.substr(0, max_input_bytes);
    res.truncated = true;
  }
  res.normalized = normalize(pasted);
  struct Scored {
    ExplainMatch m;
    bool has_code;
  };
  std::vector<Scored> all;
  for (const auto& cand : candidates(res.normalized)) {
    for (const auto& e : catalog.entries()) {
      re2::StringPiece hit;
      if (!e.regex->Match(cand.text, 0, cand.text.size(), RE2::UNANCHORED, &hit, 1)) continue;
      ExplainMatch m;
      m.entry = &e;
      m.code = cand.code != 0 ? cand.code : e.code;
      m.enhanced = !cand.enhanced.empty() ? cand.enhanced : e.enhanced;
      m.codes_agree = code_agrees(cand.code, e) && enhanced_agrees(cand.enhanced, e.enhanced);
      m.matched_text = std::string(hit);
      m.facts = extract_facts(cand.text);
      all.push_back({std::move(m), cand.code != 0 || !cand.enhanced.empty()});
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const Scored& a, const Scored& b) {
    if (a.m.codes_agree != b.m.codes_agree) return a.m.codes_agree;
    if (a.m.entry->priority != b.m.entry->priority) return a.m.entry->priority > b.m.entry->priority;
    if (a.m.matched_text.size() != b.m.matched_text.size()) return a.m.matched_text.size() > b.m.matched_text.size();
    return a.has_code && !b.has_code;
  });
  for (auto& s : all) {
    const bool seen = std::any_of(res.matches.begin(), res.matches.end(),
                                  [&](const ExplainMatch& m) { return m.entry == s.m.entry; });
    if (!seen) res.matches.push_back(std::move(s.m));
  }
  return res;
}

}  // namespace bp::report
