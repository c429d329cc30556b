#include "mta_sts.hpp"

#include "dkim.hpp"
#include "text.hpp"

#include <async.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

namespace bp::probes::transport {

namespace {

/// The TXT records at `name` that start with `version` ("v=STSv1"), joined from their strings.
std::vector<std::string> versioned(const resolver::Lookup& txt, const std::string& version) {
  std::vector<std::string> out;
  if (!txt.ok()) return out;
  for (const auto& rec : txt->records) {
    std::string joined;
    for (const auto& s : rec.strings) joined += s;
    std::string head = joined.substr(0, joined.find(';'));
    head.erase(std::remove_if(head.begin(), head.end(), [](char c) { return c == ' ' || c == '\t'; }), head.end());
    if (head == version) out.push_back(joined);
  }
  return out;
}

Finding finding(const char* probe, const char* code, Severity s, const std::string& subject, std::string summary,
                const std::string& name, const resolver::Lookup& txt, const char* reference, std::string fix = {}) {
  auto f = make_finding(probe, code, s, subject, std::move(summary));
  f.evidence = {{name + " TXT", resolver::answer_text(txt)}};
  f.reference = reference;
  f.fix = std::move(fix);
  return f;
}

/// What both records share: a lookup that failed, no record of the version, several.
struct RecordKind {
  const char* probe;    ///< "mta-sts"
  const char* version;  ///< "v=STSv1"
  const char* ref;
  std::string none;     ///< the summary when there is no record
  std::string none_fix;
  std::string several;  ///< what several records make senders do
};

/// \return the one record to judge, or nullopt with `out` saying why there is none.
std::optional<std::string> the_record(const RecordKind& kind, const std::string& domain, const std::string& name,
                                      const resolver::Lookup& txt, std::vector<Finding>& out) {
  const std::string p = kind.probe;
  if (!txt.ok() && !resolver::is_negative(txt.error().kind)) {
    out.push_back(finding(kind.probe, (p + ".lookup-failed").c_str(), Severity::warning, domain,
                          fmt::format("could not look up {}: {}", name, txt.error().detail), name, txt, kind.ref));
    out.back().checked = false;
    return std::nullopt;
  }
  const auto records = versioned(txt, kind.version);
  if (records.empty()) {
    out.push_back(finding(kind.probe, (p + ".none").c_str(), Severity::info, domain, kind.none, name, txt, kind.ref, kind.none_fix));
    return std::nullopt;
  }
  if (records.size() > 1) {
    out.push_back(finding(kind.probe, (p + ".several").c_str(), Severity::error, domain,
                          fmt::format("{} has {} {} records: {}", name, records.size(), kind.version, kind.several), name, txt,
                          kind.ref, fmt::format("keep one {} record", kind.version)));
    return std::nullopt;
  }
  return records.front();
}

}  // namespace

std::vector<Finding> mta_sts_findings(const std::string& domain, const resolver::Lookup& txt, std::string* valid_id) {
  const std::string name = "_mta-sts." + domain;
  const char* ref = "RFC 8461 section 3.1";
  std::vector<Finding> out;
  const auto record = the_record(
      {"mta-sts", "v=STSv1", ref, fmt::format("{} publishes no MTA-STS policy: senders deliver over TLS only opportunistically", domain),
       "publish _mta-sts TXT \"v=STSv1; id=...\" and the policy at https://mta-sts." + domain + "/.well-known/mta-sts.txt",
       "senders then act as if there were no policy"},
      domain, name, txt, out);
  if (!record) return out;
  std::string error;
  auto tags = dkim::parse_tag_list(*record, &error);
  if (!tags) {
    out.push_back(finding("mta-sts", "mta-sts.syntax", Severity::error, domain, fmt::format("{} is malformed: {}", name, error),
                          name, txt, ref, "write v=STSv1; id=<1 to 32 letters and digits>"));
    return out;
  }
  const std::string id = (*tags)["id"];
  if (id.empty() || id.size() > 32 || !std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; })) {
    out.push_back(finding("mta-sts", "mta-sts.syntax", Severity::error, domain,
                          fmt::format("{} has id={}: an id is 1 to 32 letters and digits, and senders ignore the record without one", name,
                                      shown(id, 40)),
                          name, txt, ref, "write id= as 1 to 32 letters and digits (change it with every policy change)"));
    return out;
  }
  out.push_back(finding("mta-sts", "mta-sts.record-ok", Severity::ok, domain, fmt::format("{}: v=STSv1, id={}", name, id), name,
                        txt, ref));
  if (valid_id != nullptr) *valid_id = id;
  return out;
}

std::vector<Finding> tls_rpt_findings(const std::string& domain, const resolver::Lookup& txt) {
  const std::string name = "_smtp._tls." + domain;
  const char* ref = "RFC 8460 section 3";
  std::vector<Finding> out;
  const auto record = the_record(
      {"tls-rpt", "v=TLSRPTv1", ref, fmt::format("{} asks for no TLS reports: failures of senders to reach it over TLS go unseen", domain),
       "publish _smtp._tls TXT \"v=TLSRPTv1; rua=mailto:tls-reports@" + domain + "\"", "senders send no report"},
      domain, name, txt, out);
  if (!record) return out;
  std::string error;
  auto tags = dkim::parse_tag_list(*record, &error);
  if (!tags || (*tags)["rua"].empty()) {
    out.push_back(finding("tls-rpt", "tls-rpt.syntax", Severity::error, domain,
                          fmt::format("{} is malformed: {}", name, tags ? "no rua= destination" : error), name, txt, ref,
                          "write v=TLSRPTv1; rua=mailto:... (or https://...)"));
    return out;
  }
  std::vector<std::string> bad;
  const std::string rua = (*tags)["rua"];
  std::size_t i = 0;
  while (i <= rua.size()) {
    auto comma = rua.find(',', i);
    std::string uri = rua.substr(i, comma == std::string::npos ? std::string::npos : comma - i);
    uri.erase(std::remove_if(uri.begin(), uri.end(), [](char c) { return c == ' ' || c == '\t'; }), uri.end());
    const bool mailto = uri.rfind("mailto:", 0) == 0 && uri.find('@') != std::string::npos;
    const bool https = uri.rfind("https://", 0) == 0 && uri.size() > 8;
    if (!mailto && !https) bad.push_back(uri);
    if (comma == std::string::npos) break;
    i = comma + 1;
  }
  if (!bad.empty()) {
    out.push_back(finding("tls-rpt", "tls-rpt.bad-rua", Severity::error, domain,
                          fmt::format("{}: rua= destination '{}' is neither mailto: nor https: (RFC 8460 section 3)", name,
                                      shown(bad.front(), 60)),
                          name, txt, ref, "use mailto:address or https://url"));
    return out;
  }
  out.push_back(finding("tls-rpt", "tls-rpt.ok", Severity::ok, domain, fmt::format("{}: TLS reports go to {}", name, shown(rua, 120)),
                        name, txt, ref));
  return out;
}

}  // namespace bp::probes::transport
