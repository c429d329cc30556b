#include "catalog.hpp"
#include "classify.hpp"

#include <data_file.hpp>
#include <fmt/format.h>
#include <re2/re2.h>
#include <toml++/toml.h>

#include <set>
#include <stdexcept>

namespace bp::embedded {
extern const std::string_view catalog_toml;
}

namespace bp::report {

namespace {


std::vector<std::string> strings(const toml::table& t, std::string_view key) {
  std::vector<std::string> out;
  if (auto arr = t[key].as_array()) {
    for (const auto& v : *arr) {
      if (auto s = v.value<std::string>()) out.push_back(*s);
    }
  }
  return out;
}

}  // namespace

Catalog Catalog::load(std::string_view text, const std::string& origin) {
  const toml::table root = probes::parse_toml(text, origin);
  Catalog cat;
  const auto* arr = root["entry"].as_array();
  if (arr == nullptr || arr->empty()) throw std::runtime_error(origin + ": no [[entry]] tables");
  std::set<std::string> ids;
  probes::for_each_table(root, "entry", origin, [&](const toml::table& table) {
    const auto* t = &table;
    CatalogEntry e;
    e.id = probes::toml_string(*t, "id", origin + ": entry", true);
    const std::string where = fmt::format("{}: entry '{}'", origin, e.id);
    if (!ids.insert(e.id).second) throw std::runtime_error(where + ": duplicate id");
    e.reason = probes::toml_string(*t, "reason", where, true);
    if (Reasons::builtin().find(e.reason) == nullptr) throw std::runtime_error(where + ": unknown reason '" + e.reason + "'");
    e.seed = (*t)["seed"].value_or(true);
    e.judges_client = (*t)["judges_client"].value_or(false);
    // code = 0: the entry has no reply code of its own (a bounce text without one).
    e.code = static_cast<int>(probes::toml_int(*t, "code", where, 0, 599).value_or(0));
    if (e.code != 0 && e.code < 200) throw std::runtime_error(fmt::format("{}: 'code' = {} is not 0 or 200..599", where, e.code));
    if (const auto* alt = t->get("code_alt")) {
      const auto* codes = alt->as_array();
      if (codes == nullptr) throw std::runtime_error(where + ": 'code_alt' must be an array of integers");
      for (const auto& v : *codes) e.code_alt.push_back(static_cast<int>(probes::toml_int_value(v, where + ": 'code_alt'", 200, 599)));
    }
    e.enhanced = probes::toml_string(*t, "enhanced", where);
    e.pattern = probes::toml_string(*t, "pattern", where, true);
    e.priority = static_cast<int>(probes::toml_int(*t, "priority", where, -1000000, 1000000).value_or(0));
    e.stage = probes::toml_string(*t, "stage", where, true);
    static const std::set<std::string> stages{"connect", "helo", "mail", "rcpt", "data", "none"};
    if (!stages.count(e.stage)) throw std::runtime_error(where + ": unknown stage '" + e.stage + "'");
    e.klass = probes::toml_string(*t, "class", where, true);
    if (e.klass != "temporary" && e.klass != "permanent") throw std::runtime_error(where + ": class must be temporary or permanent");
    e.predictable = probes::toml_string(*t, "predictable", where);
    e.probes = strings(*t, "probes");
    e.reply = probes::toml_string(*t, "reply", where);
    e.related = strings(*t, "related");
    e.condition = probes::toml_string(*t, "condition", where);
    e.explanation = probes::toml_string(*t, "explanation", where);
    e.fix = probes::toml_string(*t, "fix", where);
    e.postfix = probes::toml_string(*t, "postfix", where);
    e.source = probes::toml_string(*t, "source", where);
    e.note = probes::toml_string(*t, "note", where);
    e.example = probes::toml_string(*t, "example", where);
    if (auto docs = (*t)["documented"].as_array()) {
      for (const auto& d : *docs) {
        const auto* dt = d.as_table();
        if (dt == nullptr) throw std::runtime_error(where + ": documented rows must be tables");
        e.documented.push_back({probes::toml_string(*dt, "source", where, true), probes::toml_string(*dt, "row", where, true), probes::toml_string(*dt, "text", where, true)});
      }
    }
    if (e.seed && e.documented.empty()) throw std::runtime_error(where + ": a seed entry needs documented rows");
    RE2::Options opts;
    opts.set_case_sensitive(false);
    opts.set_log_errors(false);
    auto re = std::make_shared<RE2>(e.pattern, opts);
    if (!re->ok()) throw std::runtime_error(fmt::format("{}: pattern does not compile: {}", where, re->error()));
    e.regex = std::move(re);
    cat.entries_.push_back(std::move(e));
  });
  return cat;
}

const Catalog& Catalog::builtin() {
  static const Catalog cat = load(embedded::catalog_toml, "bounces.toml (built in)");
  return cat;
}

Catalog Catalog::load_file(const std::string& path) { return load(probes::read_data_file(path, "catalog"), path); }

const CatalogEntry* Catalog::find(std::string_view id) const {
  for (const auto& e : entries_) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

std::size_t Catalog::documented_rows() const {
  std::size_t n = 0;
  for (const auto& e : entries_) n += e.documented.size();
  return n;
}

}  // namespace bp::report
