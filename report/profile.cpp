#include "profile.hpp"

#include <address.hpp>

#include <data_file.hpp>
#include <fmt/format.h>
#include <re2/re2.h>
#include <toml++/toml.h>

#include <set>
#include <stdexcept>

namespace bp::embedded {
extern const std::string_view profile_toml;
}

namespace bp::report {

namespace {
const std::set<std::string> known_restrictions{
    "recipient_mail_host",          "reject_sender_syntax", "reject_non_fqdn_sender",
    "reject_unknown_sender_domain", "check_sender_access",  "check_sender_mx_access", "reject_spf_fail", "reject_dmarc", "reject_rbl_client",
    "message_size", "reject_attachment", "attachment_name_length", "content_test_string",
};

const CatalogEntry* entry_ref(const toml::table& t, std::string_view key, const Catalog& cat, const std::string& where,
                              bool required) {
  auto id = t[key].value<std::string>();
  if (!id) {
    if (required) throw std::runtime_error(fmt::format("{}: '{}' is missing", where, key));
    return nullptr;
  }
  const auto* e = cat.find(*id);
  if (e == nullptr) throw std::runtime_error(fmt::format("{}: catalog has no entry '{}'", where, *id));
  return e;
}
}  // namespace

Profile Profile::load(std::string_view text, const std::string& origin, const Catalog& catalog) {
  const toml::table root = probes::parse_toml(text, origin);
  Profile p;
  p.name = root["name"].value_or(std::string("unnamed"));
  p.description = root["description"].value_or(std::string{});
  const auto* checks = root["check"].as_array();
  if (checks == nullptr) throw std::runtime_error(origin + ": no [[check]] tables");
  int n = 0;
  for (const auto& node : *checks) {
    ++n;
    const auto* t = node.as_table();
    if (t == nullptr) throw std::runtime_error(origin + ": [[check]] must be a table");
    ProfileCheck c;
    c.restriction = (*t)["restriction"].value_or(std::string{});
    const std::string where = fmt::format("{}: check {} ({})", origin, n, c.restriction);
    if (!known_restrictions.count(c.restriction)) throw std::runtime_error(where + ": unknown restriction");
    const bool has_rules = c.restriction == "check_sender_access" || c.restriction == "check_sender_mx_access" ||
                           c.restriction == "reject_rbl_client" || c.restriction == "reject_attachment";
    c.entry = entry_ref(*t, "entry", catalog, where, !has_rules);
    c.nullmx_entry = entry_ref(*t, "nullmx_entry", catalog, where, false);
    c.tempfail_entry = entry_ref(*t, "tempfail_entry", catalog, where, false);
    c.enhanced = (*t)["enhanced"].value_or(std::string{});
    c.table = (*t)["table"].value_or(std::string{});
    c.quarantine_as_reject = (*t)["quarantine_as_reject"].value_or(false);
    c.declared = (*t)["declared"].value_or(false);
    c.test_string = (*t)["string"].value_or(std::string{});
    c.archives = (*t)["archives"].value_or(false);
    if (c.archives && c.restriction != "reject_attachment") throw std::runtime_error(where + ": 'archives' is for reject_attachment");
    if (c.restriction == "message_size" || c.restriction == "attachment_name_length") {
      const auto limit = probes::toml_int(*t, "limit", where, 1, std::int64_t{1} << 50);
      if (!limit) throw std::runtime_error(where + ": needs a positive 'limit'");
      c.limit = static_cast<std::uint64_t>(*limit);
    }
    if (c.restriction == "content_test_string" && c.test_string != "gtube" && c.test_string != "eicar") {
      throw std::runtime_error(where + ": 'string' must be \"gtube\" or \"eicar\"");
    }
    if (auto rules = (*t)["rules"].as_array()) {
      for (const auto& rn : *rules) {
        const auto* rt = rn.as_table();
        if (rt == nullptr) throw std::runtime_error(where + ": rules must be tables");
        ProfileRule r;
        r.entry = entry_ref(*rt, "entry", catalog, where, true);
        r.pattern = (*rt)["pattern"].value_or(std::string{});
        r.prefix = (*rt)["prefix"].value_or(std::string{});
        r.list = (*rt)["list"].value_or(std::string{});
        r.code = (*rt)["code"].value_or(std::string{});
        r.sublist = (*rt)["sublist"].value_or(std::string{});
        if (c.restriction == "reject_attachment") {
          r.source = (*rt)["source"].value_or(std::string{});
          if (const auto* ext = (*rt)["extensions"].as_array()) {
            for (const auto& e : *ext) {
              auto v = e.value<std::string>();
              if (!v || v->empty()) throw std::runtime_error(where + ": extensions must be strings");
              std::string x = *v;
              for (auto& ch : x) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
              r.extensions.push_back(x);
            }
          }
          if (r.extensions.empty()) throw std::runtime_error(where + ": an attachment rule needs 'extensions'");
        } else if (c.restriction == "reject_rbl_client") {
          if (r.list.empty()) throw std::runtime_error(where + ": an rbl rule needs 'list'");
          if (!r.code.empty() && !probes::Cidr::parse(r.code)) {
            throw std::runtime_error(fmt::format("{}: '{}' is not an address prefix", where, r.code));
          }
        } else if (c.restriction == "check_sender_access") {
          RE2::Options o;
          o.set_case_sensitive(false);  // Postfix regexp tables ignore case unless /i is turned off
          o.set_log_errors(false);
          auto re = std::make_shared<RE2>(r.pattern, o);
          if (!re->ok()) throw std::runtime_error(fmt::format("{}: bad pattern '{}': {}", where, r.pattern, re->error()));
          r.regex = std::move(re);
        } else if (!probes::Cidr::parse(r.prefix)) {
          throw std::runtime_error(fmt::format("{}: '{}' is not an address prefix", where, r.prefix));
        }
        c.rules.push_back(std::move(r));
      }
    }
    if (has_rules && c.rules.empty()) throw std::runtime_error(where + ": no rules");
    p.checks.push_back(std::move(c));
  }
  return p;
}

Profile Profile::builtin(const Catalog& catalog) { return load(embedded::profile_toml, "default.toml (built in)", catalog); }

Profile Profile::load_file(const std::string& path, const Catalog& catalog) {
  return load(probes::read_data_file(path, "profile"), path, catalog);
}

}  // namespace bp::report
