/*++
 * NAME
 *	catalog 3h
 * SUMMARY
 *	the documented bounces, as data
 * DESCRIPTION
 *	The catalog is report/catalog/bounces.toml, compiled into the binary
 *	(Catalog::builtin()) and replaceable with --catalog FILE. Every row of
 *	both provider articles is an entry there, with the SMTP text copied
 *	exactly, the RE2 pattern that recognises it, and our own explanation
 *	and fix. Loading validates every entry: unique ids, known stage and
 *	class, a pattern that compiles.
 * DIAGNOSTICS
 *	load() throws std::runtime_error naming the file, entry and field.
 *--*/
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace bp::report {

struct Documented {
  std::string source;  ///< "thexyz" or "rackspace"
  std::string row;     ///< "T02", "R17"
  std::string text;    ///< the SMTP text exactly as the article shows it
};

struct CatalogEntry {
  std::string id;
  std::string reason;  ///< the reason class (classify.hpp), e.g. "recipient-unknown"
  bool seed{true};
  bool judges_client{false};  ///< the answer depends on the connecting address
  int code{0};  ///< 0 = the article shows none
  std::vector<int> code_alt;
  std::string enhanced;
  std::string pattern;
  int priority{0};
  std::string stage;
  std::string klass;  ///< "temporary" | "permanent"
  std::string predictable;
  std::vector<std::string> probes;
  std::string reply;  ///< template of what a receiver prints
  std::vector<std::string> related;
  std::string condition, explanation, fix, postfix, source, note, example;
  std::vector<Documented> documented;
  std::shared_ptr<const re2::RE2> regex;

  bool temporary() const { return klass == "temporary"; }
};

class Catalog {
 public:
  /// \return the catalog compiled into the binary.
  static const Catalog& builtin();
  /// \return the catalog parsed from TOML text; `origin` names it in errors.
  static Catalog load(std::string_view toml_text, const std::string& origin);
  /// \return the catalog read from a file.
  static Catalog load_file(const std::string& path);

  const std::vector<CatalogEntry>& entries() const { return entries_; }
  /// \return the entry with that id, or nullptr.
  const CatalogEntry* find(std::string_view id) const;
  /// \return how many documented article rows the catalog holds.
  std::size_t documented_rows() const;

 private:
  std::vector<CatalogEntry> entries_;
};

}  // namespace bp::report
