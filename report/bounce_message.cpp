#include "bounce_message.hpp"

#include <gmime/gmime.h>
#include <gmime_support.hpp>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

namespace bp::report {

namespace {

constexpr std::size_t max_recipients = 1000;     // per report
constexpr std::size_t max_field_bytes = 16 * 1024;
constexpr std::size_t max_text_bytes = 256 * 1024;
constexpr int max_parts = 200;

using probes::GPtr;
using probes::gmime_once;

/// Replaces every byte sequence that is not UTF-8 with U+FFFD, and control characters with spaces.
std::string clean_utf8(std::string_view in, std::size_t limit) {
  std::string out;
  out.reserve(std::min(in.size(), limit));
  const char* p = in.data();
  const char* end = p + std::min(in.size(), limit);
  while (p < end) {
    const char* next = nullptr;
    if (g_utf8_validate(p, end - p, &next)) {
      out.append(p, end);
      break;
    }
    out.append(p, next);
    out += "\xEF\xBF\xBD";
    p = next + 1;
  }
  for (auto& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 32 && c != '\n' && c != '\t') || u == 127) c = ' ';
  }
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

/// The decoded bytes of a leaf part (transfer encoding removed).
std::string part_bytes(GMimePart* part) {
  GMimeDataWrapper* w = g_mime_part_get_content(part);
  if (w == nullptr) return {};
  GPtr<GMimeStream> out(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(w, out.get());
  GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  if (arr == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(arr->data), std::min<std::size_t>(arr->len, max_message_bytes));
}

/// The text of a text part in UTF-8, converted from its declared charset.
std::string part_text(GMimeObject* obj) {
  if (GMIME_IS_TEXT_PART(obj)) {
    char* t = g_mime_text_part_get_text(GMIME_TEXT_PART(obj));
    if (t != nullptr) {
      std::string s(t);
      g_free(t);
      return clean_utf8(s, max_text_bytes);
    }
  }
  if (GMIME_IS_PART(obj)) return clean_utf8(part_bytes(GMIME_PART(obj)), max_text_bytes);
  return {};
}

/// The whole object as text (for message/* parts GMime parses as messages).
std::string object_text(GMimeObject* obj) {
  GPtr<GMimeStream> out(g_mime_stream_mem_new());
  g_mime_object_write_to_stream(obj, nullptr, out.get());
  GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  if (arr == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(arr->data), std::min<std::size_t>(arr->len, max_message_bytes));
}

/// Header blocks separated by blank lines, folded lines joined (RFC 3464 section 2.1, RFC 5322 2.2.3).
std::vector<std::vector<std::pair<std::string, std::string>>> header_blocks(std::string_view text) {
  std::vector<std::vector<std::pair<std::string, std::string>>> blocks(1);
  std::size_t pos = 0;
  while (pos < text.size() && blocks.size() <= max_recipients + 1) {
    auto nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) {
      if (!blocks.back().empty()) blocks.emplace_back();
      continue;
    }
    if ((line.front() == ' ' || line.front() == '\t') && !blocks.back().empty()) {
      auto& v = blocks.back().back().second;
      if (v.size() < max_field_bytes) v += " " + trim(line);
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    blocks.back().emplace_back(lower(trim(line.substr(0, colon))), trim(line.substr(colon + 1)).substr(0, max_field_bytes));
  }
  if (blocks.back().empty()) blocks.pop_back();
  return blocks;
}

/// "rfc822; bob@example.com" -> "bob@example.com"; "smtp; 550 ..." -> ("smtp", "550 ...").
std::pair<std::string, std::string> typed_value(const std::string& v) {
  const auto semi = v.find(';');
  if (semi == std::string::npos) return {"", trim(v)};
  return {lower(trim(std::string_view(v).substr(0, semi))), trim(std::string_view(v).substr(semi + 1))};
}

void read_delivery_status(BounceMessage& m, std::string_view text) {
  m.report_text = clean_utf8(text, max_text_bytes);
  auto blocks = header_blocks(m.report_text);
  bool first = true;
  for (const auto& block : blocks) {
    DsnRecipient r;
    bool is_recipient = false;
    for (const auto& [k, v] : block) {
      if (k == "reporting-mta") m.reporting_mta = typed_value(v).second;
      if (k == "final-recipient") r.final_recipient = typed_value(v).second, is_recipient = true;
      if (k == "original-recipient") r.original_recipient = typed_value(v).second;
      if (k == "action") r.action = lower(trim(v.substr(0, v.find_first_of(" (")))), is_recipient = true;
      if (k == "status") r.status = trim(v.substr(0, v.find_first_of(" (")));
      if (k == "remote-mta") r.remote_mta = typed_value(v).second;
      if (k == "diagnostic-code") std::tie(r.diagnostic_type, r.diagnostic) = typed_value(v);
    }
    if (first && !is_recipient) {
      first = false;
      continue;
    }
    first = false;
    if (is_recipient && m.recipients.size() < max_recipients) m.recipients.push_back(std::move(r));
  }
}

void read_returned_headers(BounceMessage& m, std::string_view headers) {
  for (const auto& block : header_blocks(headers.substr(0, headers.find("\n\n")))) {
    for (const auto& [k, v] : block) {
      if (k == "return-path" && m.original_sender.empty()) {
        auto s = v;
        s.erase(std::remove(s.begin(), s.end(), '<'), s.end());
        s.erase(std::remove(s.begin(), s.end(), '>'), s.end());
        m.original_sender = trim(s);
      }
      if (k == "from" && m.original_from.empty()) m.original_from = v;
    }
    break;
  }
}

struct Walk {
  BounceMessage* m;
  int parts{0};
  std::string html;
};

void visit(GMimeObject* /*parent*/, GMimeObject* part, gpointer data) {
  auto* w = static_cast<Walk*>(data);
  if (++w->parts > max_parts) return;
  GMimeContentType* ct = g_mime_object_get_content_type(part);
  if (ct == nullptr) return;
  auto is = [&](const char* type, const char* sub) { return g_mime_content_type_is_type(ct, type, sub) != FALSE; };
  BounceMessage& m = *w->m;
  if (is("message", "delivery-status") || is("message", "global-delivery-status")) {
    m.kind = "dsn";
    read_delivery_status(m, GMIME_IS_PART(part) ? part_bytes(GMIME_PART(part)) : object_text(part));
  } else if (is("message", "feedback-report")) {
    m.kind = "feedback";
    m.report_text = GMIME_IS_PART(part) ? clean_utf8(part_bytes(GMIME_PART(part)), max_text_bytes) : clean_utf8(object_text(part), max_text_bytes);
  } else if (is("text", "rfc822-headers") || is("message", "global-headers")) {
    read_returned_headers(m, GMIME_IS_PART(part) ? part_bytes(GMIME_PART(part)) : object_text(part));
  } else if (GMIME_IS_MESSAGE_PART(part)) {
    if (GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part))) {
      const char* rp = g_mime_object_get_header(GMIME_OBJECT(inner), "Return-Path");
      const char* from = g_mime_object_get_header(GMIME_OBJECT(inner), "From");
      if (rp != nullptr && m.original_sender.empty()) read_returned_headers(m, std::string("Return-Path: ") + rp + "\n");
      if (from != nullptr && m.original_from.empty()) m.original_from = clean_utf8(from, max_field_bytes);
    }
  } else if (is("text", "*") && m.human.size() < max_text_bytes) {
    const bool attachment = g_mime_object_get_disposition(part) != nullptr &&
                            g_ascii_strcasecmp(g_mime_object_get_disposition(part), "attachment") == 0;
    if (attachment) return;
    auto t = part_text(part);
    // The plain alternative is preferred; HTML only when there is no plain text.
    auto& into = is("text", "html") ? w->html : m.human;
    into += (into.empty() ? "" : "\n") + t;
  }
}

}  // namespace

BounceMessage parse_bounce_message(std::string_view raw) {
  gmime_once();
  BounceMessage m;
  if (raw.size() > max_message_bytes) {
    raw = raw.substr(0, max_message_bytes);
    m.truncated = true;
  }
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  GPtr<GMimeMessage> msg(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!msg) {
    m.human = clean_utf8(raw, max_text_bytes);
    return m;
  }
  if (const char* s = g_mime_message_get_subject(msg.get())) m.subject = clean_utf8(s, max_field_bytes);
  if (const char* f = g_mime_object_get_header(GMIME_OBJECT(msg.get()), "From")) m.from = clean_utf8(f, max_field_bytes);
  Walk w{&m};
  GMimeObject* body = g_mime_message_get_mime_part(msg.get());
  if (body != nullptr) {
    if (GMIME_IS_MULTIPART(body)) {
      g_mime_multipart_foreach(GMIME_MULTIPART(body), visit, &w);
    } else {
      visit(nullptr, body, &w);
    }
  }
  if (m.human.empty() && !w.html.empty()) {
    static const RE2 tags(R"(<[^>]*>)");
    RE2::GlobalReplace(&w.html, tags, " ");
    m.human = std::move(w.html);
  }
  return m;
}

std::string recipient_text(const BounceMessage& m, const DsnRecipient& r) {
  std::string t;
  if (!r.final_recipient.empty()) t += "Final-Recipient: rfc822; " + r.final_recipient + "\n";
  if (!r.status.empty()) t += "Status: " + r.status + "\n";
  if (!r.diagnostic.empty()) t += "Diagnostic-Code: " + (r.diagnostic_type.empty() ? "" : r.diagnostic_type + "; ") + r.diagnostic + "\n";
  // Without a diagnostic the human-readable part is the only wording there is.
  if (r.diagnostic.empty()) t += "\n" + m.human;
  return t;
}

}  // namespace bp::report
