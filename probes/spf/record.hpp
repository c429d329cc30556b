/*++
 * NAME
 *	spf/record 3h
 * SUMMARY
 *	SPF record parser and macro expander (RFC 7208 sections 4.6, 7 and 12)
 * DESCRIPTION
 *	parse_record() turns the text of one "v=spf1" record into terms:
 *	mechanisms with their qualifier, domain-spec and CIDR lengths, and
 *	modifiers (redirect, exp, unknown ones). Every term keeps its column, so
 *	an error points at the offending term. expand_macros() expands a
 *	macro-string for a given context; the letters c, r and t are allowed only
 *	in explanation text.
 * DIAGNOSTICS
 *	ParseError: column (1-based), the term, and what is wrong with it.
 * SEE ALSO
 *	RFC 7208 sections 4.6.1, 5, 6, 7 and 12 (ABNF).
 *--*/
#pragma once

#include <result.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bp::probes::spf {

enum class Mechanism { all, include, a, mx, ptr, ip4, ip6, exists };
std::string_view to_string(Mechanism m);

struct Term {
  bool modifier{false};
  char qualifier{'+'};            ///< + - ~ ? (mechanisms)
  Mechanism mechanism{Mechanism::all};
  std::string name;               ///< modifier name, lower case
  std::string domain_spec;        ///< macro-string (empty = current domain for a/mx/ptr)
  std::string network;            ///< ip4/ip6 address text
  int cidr4{32};
  int cidr6{128};
  std::string text;               ///< the term as written
  std::size_t column{0};          ///< 1-based

  /// \return true for the terms that count toward the 10-lookup limit (section 4.6.4).
  bool counts_lookup() const;
};

struct Record {
  std::string text;
  std::vector<Term> terms;  ///< mechanisms and modifiers, in order
  std::optional<Term> redirect;
  std::optional<Term> exp;
};

struct ParseError {
  std::size_t column{0};
  std::string term;
  std::string message;
};

/// \return true when the text is an SPF version 1 record ("v=spf1" then a space or the end).
bool is_spf_record(std::string_view txt);

/// \return the parsed record, or where and why it is malformed.
Result<Record, ParseError> parse_record(std::string_view txt);

/// \return an empty string if `spec` is a valid macro-string (domain-spec when `domain` is set), else the reason.
std::string macro_string_problem(std::string_view spec, bool domain, bool explanation);

struct MacroContext {
  std::string sender;      ///< s
  std::string local;       ///< l
  std::string sender_domain;  ///< o
  std::string domain;      ///< d
  std::string ip;          ///< the client address, normalised
  bool ipv6{false};
  std::string helo;        ///< h
  std::string validated;   ///< p ("unknown" when not validated)
  std::string receiver{"unknown"};  ///< r
  long long timestamp{0};  ///< t
};

struct MacroError {
  std::string message;
};

/// \return the expansion, or the reason it failed. Domain expansions longer than 253
/// octets are cut from the left, label by label (section 7.3).
Result<std::string, MacroError> expand_macros(std::string_view spec, const MacroContext& ctx, bool domain,
                                               bool explanation);

}  // namespace bp::probes::spf
