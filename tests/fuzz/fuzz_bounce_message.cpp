// Fuzz target: a whole bounce message (report/bounce_message.cpp): MIME,
// RFC 3464 delivery-status fields, encodings and charsets through GMime; and the
// same bytes as a message to predict for (probes/message.cpp, predict --message)
// and to the DKIM parsers (probes/dkim.cpp).
#include <bounce_message.hpp>
#include <catalog.hpp>
#include <dkim.hpp>
#include <explain.hpp>
#include <message.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  auto m = bp::report::parse_bounce_message(raw);
  for (const auto& r : m.recipients) {
    auto text = bp::report::recipient_text(m, r);
    (void)bp::report::explain(bp::report::Catalog::builtin(), text);
  }
  // The DKIM parsers see the same bytes: a tag list, a header field, a body.
  std::string error;
  const std::string text(raw);
  (void)bp::probes::dkim::parse_tag_list(text, &error);
  (void)bp::probes::dkim::canonical_header(text, true);
  for (const bool relaxed : {false, true}) {
    bp::probes::dkim::BodyCanon canon(relaxed);
    std::string out;
    canon.feed(raw.substr(0, raw.size() / 2), out);
    canon.feed(raw.substr(raw.size() / 2), out);
    canon.finish(out);
  }
  // read_message() takes a file: a memory file stands in for the .eml.
  const int fd = memfd_create("message", 0);
  if (fd >= 0) {
    if (write(fd, data, size) == static_cast<ssize_t>(size)) {
      try {
        auto facts = bp::probes::read_message("/proc/self/fd/" + std::to_string(fd));
        (void)bp::probes::message_findings(facts);
      } catch (const std::runtime_error&) {
        // not a message: one error line in the product
      }
    }
    close(fd);
  }
  return 0;
}
