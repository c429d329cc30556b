/*++
 * NAME
 *	profile 3h
 * SUMMARY
 *	a receiver's checks, in order, as data
 * DESCRIPTION
 *	A Profile is an ordered list of checks, each naming a restriction the
 *	predictor can evaluate and the catalog entries it produces. The default
 *	(report/profiles/default.toml) is compiled in; --profile FILE replaces it.
 * DIAGNOSTICS
 *	load() throws std::runtime_error for unknown restrictions, entries that
 *	are not in the catalog, and rules that do not parse.
 *--*/
#pragma once

#include "catalog.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bp::report {

struct ProfileRule {
  std::string pattern;  ///< regexp tables
  std::string prefix;   ///< cidr tables
  std::string list;     ///< reject_rbl_client: the list id
  std::string code;     ///< reject_rbl_client: answer prefix ("" = any)
  std::string sublist;  ///< reject_rbl_client: sublist ("" = any)
  const CatalogEntry* entry{nullptr};
  std::shared_ptr<const re2::RE2> regex;
  std::vector<std::string> extensions;  ///< reject_attachment: file name extensions, lower case, no dot
  std::string source;                   ///< reject_attachment: where the list comes from
};

struct ProfileCheck {
  std::string restriction;
  const CatalogEntry* entry{nullptr};
  const CatalogEntry* nullmx_entry{nullptr};
  const CatalogEntry* tempfail_entry{nullptr};
  std::string enhanced;  ///< overrides the entry's enhanced code in predictions
  std::string table;
  bool quarantine_as_reject{false};  ///< reject_dmarc: treat p=quarantine as reject
  std::vector<ProfileRule> rules;
  std::uint64_t limit{0};    ///< message_size: octets; attachment_name_length: characters
  bool declared{false};      ///< message_size: judge the SIZE= declared at MAIL FROM, not the message
  std::string test_string;   ///< content_test_string: "gtube" or "eicar"
  bool archives{false};      ///< reject_attachment: also judge the names inside zip attachments
};

struct Profile {
  std::string name;
  std::string description;
  std::vector<ProfileCheck> checks;

  /// \return the built-in default profile, bound to `catalog`.
  static Profile builtin(const Catalog& catalog);
  /// \return a profile parsed from TOML; entries must exist in `catalog`.
  static Profile load(std::string_view toml_text, const std::string& origin, const Catalog& catalog);
  static Profile load_file(const std::string& path, const Catalog& catalog);
};

}  // namespace bp::report
