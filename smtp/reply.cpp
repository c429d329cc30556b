#include "reply.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace bp::smtp {

namespace {

std::string shown(std::string_view line) {
  auto s = censor(line.substr(0, 80));
  return line.size() > 80 ? s + "..." : s;
}

/// "x.y.z " at the start of the text, x in 2/4/5 (RFC 3463 section 2).
std::size_t enhanced_length(std::string_view t) {
  std::size_t i = 0;
  if (t.empty() || (t[0] != '2' && t[0] != '4' && t[0] != '5')) return 0;
  i = 1;
  for (int part = 0; part < 2; ++part) {
    if (i >= t.size() || t[i] != '.') return 0;
    ++i;
    const std::size_t start = i;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])) != 0 && i - start < 3) ++i;
    if (i == start) return 0;
  }
  if (i < t.size() && t[i] != ' ') return 0;
  return i;
}

}  // namespace

std::string_view to_string(ReplyErrorKind k) {
  switch (k) {
    case ReplyErrorKind::line_too_long: return "line_too_long";
    case ReplyErrorKind::too_many_lines: return "too_many_lines";
    case ReplyErrorKind::reply_too_long: return "reply_too_long";
    case ReplyErrorKind::malformed: return "malformed";
    case ReplyErrorKind::code_mismatch: return "code_mismatch";
  }
  return "malformed";
}

std::string censor(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) c = '?';
  }
  return out;
}

std::string Reply::text() const {
  std::string out;
  for (const auto& l : lines) {
    if (!out.empty()) out += ' ';
    out += l;
  }
  return out;
}

void ReplyParser::push(std::string_view bytes) {
  if (failed_) return;
  // Keep at most one over-long line's worth: the next() call reports it.
  const std::size_t room = limits_.max_line + 2 > buffer_.size() ? limits_.max_line + 2 - buffer_.size() : 0;
  const auto nl = bytes.find('\n');
  if (nl == std::string_view::npos && bytes.size() > room) {
    buffer_.append(bytes.substr(0, room + 1));
    return;
  }
  buffer_.append(bytes);
}

std::optional<Result<Reply, ReplyError>> ReplyParser::next() {
  if (failed_) return Result<Reply, ReplyError>(*failed_);
  auto fail = [&](ReplyErrorKind k, std::string detail) {
    failed_ = ReplyError{k, std::move(detail)};
    buffer_.clear();
    return std::optional<Result<Reply, ReplyError>>(Result<Reply, ReplyError>(*failed_));
  };
  while (true) {
    const auto nl = buffer_.find('\n');
    if (nl == std::string::npos) {
      if (buffer_.size() > limits_.max_line) {
        return fail(ReplyErrorKind::line_too_long, fmt::format("a reply line longer than {} bytes: {}", limits_.max_line, shown(buffer_)));
      }
      return std::nullopt;
    }
    std::string line = buffer_.substr(0, nl);
    buffer_.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > limits_.max_line) {
      return fail(ReplyErrorKind::line_too_long, fmt::format("a reply line of {} bytes: {}", line.size(), shown(line)));
    }
    // RFC 5321 4.2: three digits, then SP, "-" or the end of the line.
    if (line.size() < 3 || !std::all_of(line.begin(), line.begin() + 3, [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }) ||
        line[0] < '2' || line[0] > '5' || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
      return fail(ReplyErrorKind::malformed, fmt::format("not an SMTP reply line: '{}'", shown(line)));
    }
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');  // three digits, checked above
    const bool more = line.size() > 3 && line[3] == '-';
    std::string text = line.size() > 4 ? line.substr(4) : std::string{};
    if (pending_.lines.empty()) {
      pending_.code = code;
    } else if (code != pending_.code) {
      return fail(ReplyErrorKind::code_mismatch, fmt::format("line with code {} inside a {} reply: '{}'", code, pending_.code, shown(line)));
    }
    // The enhanced code is taken from the first line, kept only if its class matches (Postfix does the same).
    if (auto n = enhanced_length(text); n > 0) {
      auto enh = text.substr(0, n);
      if (pending_.lines.empty() && enh[0] == line[0]) pending_.enhanced = enh;
      text = text.size() > n ? text.substr(n + 1) : std::string{};
    }
    pending_.lines.push_back(censor(text));
    pending_bytes_ += line.size();
    if (pending_.lines.size() > limits_.max_lines) {
      return fail(ReplyErrorKind::too_many_lines, fmt::format("more than {} lines in one reply", limits_.max_lines));
    }
    if (pending_bytes_ > limits_.max_reply) {
      return fail(ReplyErrorKind::reply_too_long, fmt::format("more than {} bytes in one reply", limits_.max_reply));
    }
    if (!more) {
      Reply done = std::move(pending_);
      pending_ = Reply{};
      pending_bytes_ = 0;
      return Result<Reply, ReplyError>(std::move(done));
    }
  }
}

std::map<std::string, std::string> parse_ehlo(const Reply& ehlo) {
  std::map<std::string, std::string> out;
  for (std::size_t i = 1; i < ehlo.lines.size(); ++i) {
    const auto& l = ehlo.lines[i];
    auto sp = l.find(' ');
    std::string key = l.substr(0, sp);
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (!key.empty()) out[key] = sp == std::string::npos ? std::string{} : l.substr(sp + 1);
  }
  return out;
}

}  // namespace bp::smtp
