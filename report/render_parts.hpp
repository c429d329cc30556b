/*++
 * NAME
 *	render_parts 3h
 * SUMMARY
 *	the pieces every renderer shares (not part of the report's interface)
 * DESCRIPTION
 *	render.cpp defines them: the marks and colours of text output, the
 *	findings grouped by probe, the JSON writers of findings, evidence, MX
 *	sets, DMARC discoveries and tallies (keys in sorted order, as
 *	nlohmann::json prints them), the run's JSON and the SMTP transcript.
 *	render_check.cpp and render_commands.cpp build their outputs from them.
 *--*/
#pragma once

#include "json_writer.hpp"
#include "render.hpp"

#include <fmt/format.h>

#include <string>
#include <vector>

namespace bp::report::parts {

/// ANSI colour when on; the text as it is when off.
struct Paint {
  bool on;
  std::string operator()(const char* code, const std::string& s) const {
    return on ? fmt::format("\033[{}m{}\033[0m", code, s) : s;
  }
};

/// \return the finding's mark: ✓ i ! ✗, or ? when it could not be checked.
std::string mark(const probes::Finding& f, const Paint& paint);

/// Appends the findings grouped by probe, in the order probes first appear; evidence with -v.
void findings_text(std::string& out, const std::vector<probes::Finding>& findings, const RenderOptions& o, const Paint& paint,
                   const std::string& indent);

std::string tally_line(const Tally& t);
std::string explanation_of(const PredictedBounce& b);
std::string transcript_text(const smtp::Session& s, const std::string& indent);

void write_evidence(JsonWriter& w, const std::vector<probes::Evidence>& ev);
void write_host(JsonWriter& w, const probes::HostLookup& h);
void write_mx(JsonWriter& w, const probes::MxReport& mx);
void write_tally(JsonWriter& w, const Tally& t);
void write_finding(JsonWriter& w, const probes::Finding& f);
/// The fields of a DMARC discovery, into an object the caller opened.
void write_dmarc_fields(JsonWriter& w, const probes::dmarc::DmarcDiscovery& d);

nlohmann::json evidence_json(const std::vector<probes::Evidence>& ev);
nlohmann::json tally_json(const Tally& t);
nlohmann::json run_json(const RunInfo& run, bool verbose);

}  // namespace bp::report::parts
