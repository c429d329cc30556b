#include "message.hpp"

#include "gmime_support.hpp"
#include "limits.hpp"
#include "text.hpp"

#include <fmt/format.h>
#include <zip.h>
#include <gmime/gmime.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace bp::probes {

namespace {


/// Finds `needles` in a stream of chunks, keeping only a window of the longest needle.
class Scanner {
 public:
  explicit Scanner(std::vector<std::string> needles) : needles_(std::move(needles)), found_(needles_.size(), false) {
    for (const auto& n : needles_) keep_ = std::max(keep_, n.size());
  }
  void feed(const char* data, std::size_t n) {
    window_.append(data, n);
    for (std::size_t i = 0; i < needles_.size(); ++i) {
      if (!found_[i] && window_.find(needles_[i]) != std::string::npos) found_[i] = true;
    }
    if (window_.size() > keep_) window_.erase(0, window_.size() - keep_);
  }
  void reset() { window_.clear(); }
  bool found(std::size_t i) const { return found_[i]; }

 private:
  std::vector<std::string> needles_;
  std::vector<bool> found_;
  std::size_t keep_{0};
  std::string window_;
};

bool is_zip(const std::string& filename, const std::string& type) {
  const std::string lower = ascii_lower(filename);
  return (lower.size() > 4 && lower.compare(lower.size() - 4, 4, ".zip") == 0) || type == "application/zip" ||
         type == "application/x-zip-compressed";
}

/// The member names of the zip archive in `bytes` (libzip reads its central directory).
void list_zip(const std::string& bytes, Attachment& a) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  zip_t* za = src != nullptr ? zip_open_from_source(src, ZIP_RDONLY, &error) : nullptr;
  if (za == nullptr) {
    a.archive_error = fmt::format("not a readable zip archive: {}", zip_error_strerror(&error));
    if (src != nullptr) zip_source_free(src);
    zip_error_fini(&error);
    return;
  }
  const zip_int64_t n = zip_get_num_entries(za, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    if (a.members.size() >= limits::archive_members) {
      a.members_capped = true;
      break;
    }
    if (const char* name = zip_get_name(za, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_GUESS)) a.members.emplace_back(name);
  }
  zip_discard(za);  // frees the source too
  zip_error_fini(&error);
}

/// Reads the decoded content of a leaf part through the scanner, in bounded chunks;
/// a zip archive's bytes are also kept (up to limits::archive_octets) to list it.
void scan_part(GMimePart* part, Scanner& scanner, Attachment* zip) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return;
  GMimeStream* raw = g_mime_data_wrapper_get_stream(content);
  if (raw == nullptr) return;
  g_mime_stream_reset(raw);
  // The transfer encoding undone as the bytes are read: base64 and quoted-printable.
  GPtr<GMimeStream> decoded(g_mime_stream_filter_new(raw));
  GPtr<GMimeFilter> filter(g_mime_filter_basic_new(g_mime_data_wrapper_get_encoding(content), FALSE));
  g_mime_stream_filter_add(GMIME_STREAM_FILTER(decoded.get()), filter.get());
  scanner.reset();
  std::string kept;
  bool too_big = false;
  char buf[64 * 1024];
  for (;;) {
    const auto n = g_mime_stream_read(decoded.get(), buf, sizeof buf);
    if (n <= 0) break;
    scanner.feed(buf, static_cast<std::size_t>(n));
    if (zip != nullptr && !too_big) {
      too_big = kept.size() + static_cast<std::size_t>(n) > limits::archive_octets;
      if (too_big) kept = std::string();
      else kept.append(buf, static_cast<std::size_t>(n));
    }
  }
  if (zip == nullptr) return;
  if (too_big) {
    zip->archive_error = fmt::format("over {} MB decoded: not opened", limits::archive_octets >> 20);
  } else {
    list_zip(kept, *zip);
  }
}

struct Walk {
  MessageFacts* facts;
  Scanner* scanner;
};

void walk(GMimeObject* obj, int depth, Walk& w) {
  if (obj == nullptr) return;
  auto& m = *w.facts;
  if (m.parts >= limits::message_parts || depth > limits::message_depth) {
    m.parts_capped = true;
    return;
  }
  ++m.parts;
  m.max_depth = std::max(m.max_depth, depth);
  if (GMIME_IS_MULTIPART(obj)) {
    auto* mp = GMIME_MULTIPART(obj);
    const int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; ++i) walk(g_mime_multipart_get_part(mp, i), depth + 1, w);
    return;
  }
  if (GMIME_IS_MESSAGE_PART(obj)) {
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
    if (inner != nullptr) walk(g_mime_message_get_mime_part(inner), depth + 1, w);
    return;
  }
  if (GMIME_IS_PART(obj)) {
    auto* part = GMIME_PART(obj);
    Attachment* zip = nullptr;
    if (const char* name = g_mime_part_get_filename(part); name != nullptr && *name != '\0') {
      GMimeContentType* ct = g_mime_object_get_content_type(obj);
      char* type = ct != nullptr ? g_mime_content_type_get_mime_type(ct) : nullptr;
      Attachment a;
      a.filename = name;
      a.content_type = type != nullptr ? type : "";
      a.depth = depth;
      a.archive = is_zip(a.filename, a.content_type);
      m.attachments.push_back(std::move(a));
      if (m.attachments.back().archive) zip = &m.attachments.back();
      g_free(type);
    }
    scan_part(part, *w.scanner, zip);
  }
}

/// Line lengths and 8-bit octets of the raw file, read in chunks; \return the size.
std::uint64_t raw_scan(int fd, MessageFacts& m) {
  char buf[64 * 1024];
  std::uint64_t size = 0, line = 0;
  for (;;) {
    const auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(fmt::format("cannot read --message '{}': {}", m.source, std::strerror(errno)));
    if (n == 0) break;
    size += static_cast<std::uint64_t>(n);
    for (ssize_t i = 0; i < n; ++i) {
      const auto c = static_cast<unsigned char>(buf[i]);
      if (c >= 0x80) m.eight_bit = true;
      if (c == '\n') {
        m.longest_line = std::max(m.longest_line, line);
        line = 0;
      } else if (c != '\r') {
        ++line;
      }
    }
  }
  m.longest_line = std::max(m.longest_line, line);
  return size;
}

}  // namespace

std::string gtube_string() { return std::string("XJS*C4JDBQADN1.NSBN3*2IDNEN*") + "GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"; }

std::string eicar_string() {
  return std::string("X5O!P%@AP[4\\PZX54(P^)7CC)7}$") + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
}

MessageFacts read_message(const std::string& path) {
  gmime_once();
  MessageFacts m;
  m.source = path;
  int fd = -1;
  std::string temp;
  if (path == "-") {
    // Standard input may be a pipe: GMime's persistent stream needs a file to seek in.
    char name[] = "/tmp/bounceprobe-message-XXXXXX";
    fd = mkstemp(name);
    if (fd < 0) throw std::runtime_error(fmt::format("cannot keep --message -: {}", std::strerror(errno)));
    temp = name;
    ::unlink(name);
    char buf[64 * 1024];
    for (;;) {
      const auto n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      if (::write(fd, buf, static_cast<std::size_t>(n)) != n) {
        ::close(fd);
        throw std::runtime_error(fmt::format("cannot keep --message -: {}", std::strerror(errno)));
      }
    }
    ::lseek(fd, 0, SEEK_SET);
    // A second descriptor keeps the copy readable (DKIM reads it again) after GMime closes its own.
    const int again = ::dup(fd);
    if (again >= 0) {
      m.copy = std::shared_ptr<int>(new int(again), [](int* p) {
        ::close(*p);
        delete p;
      });
      m.file = "/proc/self/fd/" + std::to_string(again);
    }
  } else {
    m.file = path;
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error(fmt::format("cannot read --message '{}': {}", path, std::strerror(errno)));
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw std::runtime_error(fmt::format("--message '{}' is not a regular file", path));
    }
  }
  try {
    m.size = raw_scan(fd, m);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::lseek(fd, 0, SEEK_SET);
  // The stream owns fd from here.
  GPtr<GMimeStream> stream(g_mime_stream_fs_new(fd));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  g_mime_parser_set_persist_stream(parser.get(), TRUE);
  GPtr<GMimeMessage> msg(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!msg) throw std::runtime_error(fmt::format("--message '{}' is not an RFC 5322 message", path));

  auto* headers = g_mime_object_get_header_list(GMIME_OBJECT(msg.get()));
  const int nh = g_mime_header_list_get_count(headers);
  for (int i = 0; i < nh; ++i) {
    GMimeHeader* h = g_mime_header_list_get_header_at(headers, i);
    if (g_ascii_strcasecmp(g_mime_header_get_name(h), "From") == 0) ++m.from_headers;
  }
  if (InternetAddressList* from = g_mime_message_get_from(msg.get()); from != nullptr) {
    const int n = internet_address_list_length(from);
    for (int i = 0; i < n; ++i) {
      InternetAddress* a = internet_address_list_get_address(from, i);
      if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
        if (const char* addr = internet_address_mailbox_get_idn_addr(INTERNET_ADDRESS_MAILBOX(a)); addr != nullptr) {
          m.from.emplace_back(addr);
        }
      }
    }
  }
  m.has_date = g_mime_object_get_header(GMIME_OBJECT(msg.get()), "Date") != nullptr;
  m.has_message_id = g_mime_message_get_message_id(msg.get()) != nullptr;
  if (const char* subject = g_mime_message_get_subject(msg.get()); subject != nullptr) m.subject = subject;

  Scanner scanner({gtube_string(), eicar_string()});
  Walk w{&m, &scanner};
  walk(g_mime_message_get_mime_part(msg.get()), 0, w);
  m.gtube = scanner.found(0);
  m.eicar = scanner.found(1);
  return m;
}

std::string from_domain(const MessageFacts& m) {
  if (m.from.empty()) return {};
  const auto& a = m.from.front();
  const auto at = a.rfind('@');
  if (at == std::string::npos) return {};
  std::string d = a.substr(at + 1);
  for (auto& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return d;
}

std::vector<Finding> message_findings(const MessageFacts& m) {
  std::vector<Finding> out;
  auto add = [&](const char* code, Severity s, std::string summary, std::string fix, std::string ref) {
    auto f = make_finding("message", code, s, m.source, std::move(summary));
    f.fix = std::move(fix);
    f.reference = std::move(ref);
    out.push_back(std::move(f));
  };
  if (m.from_headers == 0) {
    add("message.no-from", Severity::error, "the message has no From: header: DMARC cannot be evaluated and receivers reject it",
        "add a From: header with the address the mail is from", "RFC 5322 section 3.6; RFC 7489 section 6.6.1");
  } else if (m.from_headers > 1 || m.from.size() > 1) {
    add("message.several-from", Severity::error,
        fmt::format("the message has {} From: address(es) in {} header(s): DMARC receivers reject it", m.from.size(), m.from_headers),
        "send with exactly one From: address", "RFC 7489 section 6.6.1");
  } else if (from_domain(m).empty()) {
    add("message.from-no-domain", Severity::error, "the From: address has no domain: DMARC cannot be evaluated",
        "use a From: address with a domain", "RFC 7489 section 6.6.1");
  }
  if (!m.has_date) {
    add("message.no-date", Severity::warning, "the message has no Date: header (RFC 5322 requires one; spam filters score it)",
        "let the sending program add Date:", "RFC 5322 section 3.6");
  }
  if (!m.has_message_id) {
    add("message.no-message-id", Severity::warning, "the message has no Message-ID: header (spam filters score it)",
        "let the sending program add Message-ID:", "RFC 5322 section 3.6.4");
  }
  if (m.longest_line > 998) {
    add("message.long-line", Severity::warning,
        fmt::format("a line of the message is {} octets long; SMTP allows 998 (receivers may break or refuse it)", m.longest_line),
        "encode long lines (quoted-printable or base64)", "RFC 5322 section 2.1.1; RFC 5321 section 4.5.3.1.6");
  }
  if (m.eight_bit) {
    add("message.eight-bit", Severity::info,
        "the message carries 8-bit octets: it needs a receiver that offers 8BITMIME (or SMTPUTF8), else it must be encoded",
        "use quoted-printable or base64 for non-ASCII text", "RFC 6152");
  }
  if (m.parts_capped) {
    add("message.parts-capped", Severity::warning,
        fmt::format("the message has more than {} MIME parts or nesting deeper than {}: the rest was not examined",
                    limits::message_parts, limits::message_depth),
        "", "docs/limits.md");
  }
  return out;
}

}  // namespace bp::probes
