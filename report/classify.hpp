/*++
 * NAME
 *	classify 3h
 * SUMMARY
 *	the reason class of any bounce reply, under the catalog
 * DESCRIPTION
 *	The reason vocabulary, the enhanced status code table (RFC 3463, the
 *	IANA registry, receivers' own documented codes), the reply code table
 *	(RFC 5321 section 4.2.3) and a phrase lexicon per reason are data:
 *	report/catalog/reasons.toml, compiled in. classify() decides one reply
 *	in a fixed order and says which step decided:
 *	a decisive enhanced code ("code"), then the first phrase group that
 *	matches ("phrase"), then an enhanced code that is only a hint or a
 *	reply code with one meaning ("code"), then the reply class ("guess").
 *	The phrases are compiled once into one RE2::Set.
 * DIAGNOSTICS
 *	load() throws std::runtime_error naming the file and the rule.
 *--*/
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <re2/re2.h>
#include <re2/set.h>

namespace bp::report {

enum class Confidence { catalog, code, phrase, guess };
const char* to_string(Confidence c);

struct ReasonInfo {
  std::string id;
  std::string title;
  std::string explanation;
  std::string fix;
  std::string confirm;  ///< the probe that can confirm it: mx, sender, spf-dmarc, dnsbl, rdns, smtp, none
};

struct StatusRule {
  int klass{0};  ///< 4 or 5; 0 = either
  int subject{0};
  int detail_lo{0}, detail_hi{0};
  std::string code;  ///< as written in the table ("X.1.1", "5.7.606-649")
  std::string reason;
  bool decisive{false};
  std::string meaning, source;
};

struct ReplyRule {
  int code{0};
  std::string reason;
  bool decisive{false};
  std::string meaning, source;
};

struct Classification {
  std::string reason{"other"};
  Confidence confidence{Confidence::guess};
  std::string basis;    ///< one line: what decided, with its source
  std::string matched;  ///< the phrase that matched, when a phrase decided
  int rank{0};          ///< how strong the decision is, higher is stronger (see classify.cpp)
  std::size_t group{0}; ///< the phrase group that decided (lower is more specific)
};

/// An enhanced status code split into its parts; class 0 when `s` is not one.
struct Enhanced {
  int klass{0}, subject{0}, detail{0};
  static Enhanced parse(std::string_view s);
};

class Reasons {
 public:
  /// \return the tables compiled into the binary.
  static const Reasons& builtin();
  /// \return the tables parsed from TOML text; `origin` names it in errors.
  static Reasons load(std::string_view toml_text, const std::string& origin);

  Reasons(Reasons&&) noexcept;
  Reasons& operator=(Reasons&&) noexcept;
  ~Reasons();

  const std::vector<ReasonInfo>& reasons() const { return reasons_; }
  const ReasonInfo* find(std::string_view id) const;
  /// \return the most specific rule for an enhanced code, or nullptr.
  const StatusRule* status_rule(std::string_view enhanced) const;
  const ReplyRule* reply_rule(int code) const;
  /// \return the reason of one reply: its reply code (0 = none), enhanced code ("" = none) and text.
  Classification classify(int code, std::string_view enhanced, std::string_view text) const;

 private:
  Reasons();
  std::vector<ReasonInfo> reasons_;
  std::vector<StatusRule> status_;
  std::vector<ReplyRule> replies_;
  struct Phrase {
    std::size_t group;
    std::string reason, source, pattern;
    std::unique_ptr<re2::RE2> re;
  };
  std::vector<Phrase> phrases_;
  std::unique_ptr<re2::RE2::Set> set_;
};

}  // namespace bp::report
