// MTA-STS policies remembered between runs, as a sender's cache holds them
// (mta_sts.hpp: PolicyMemory, id_findings).
#include "mta_sts.hpp"
#include "text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bp::probes::transport {

std::string policy_summary(const Policy& p) {
  std::string mx;
  for (const auto& m : p.mx) mx += " " + m;
  return fmt::format("mode {}, max_age {}{}", p.mode, p.max_age ? std::to_string(*p.max_age) : "?",
                     mx.empty() ? std::string() : ", mx" + mx);
}

std::string policy_digest(const Policy& p) {
  auto mx = p.mx;
  std::sort(mx.begin(), mx.end());
  std::string canonical = fmt::format("version:{}\nmode:{}\nmax_age:{}\n", p.version, p.mode, p.max_age ? *p.max_age : -1);
  for (const auto& m : mx) canonical += "mx:" + m + "\n";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(canonical.data(), canonical.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

PolicyMemory PolicyMemory::load(const std::string& path) {
  PolicyMemory m;
  // Whatever stops the state from being written is said now, not after the run.
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto fail = [&](const std::string& why) {
    return std::runtime_error(fmt::format("--mta-sts-state '{}' {}", shown(path), why));
  };
  if (path.empty()) throw fail("is not a file name");
  if (fs::is_directory(path, ec)) throw fail("is a directory");
  if (!fs::exists(path, ec)) {
    const auto dir = fs::path(path).parent_path();
    if (!dir.empty() && !fs::is_directory(dir, ec)) throw fail(fmt::format("cannot be written: no directory {}", shown(dir.string())));
    return m;  // the first run: nothing remembered yet
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw fail(fmt::format("cannot be read: {}", std::strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  const auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  const auto bad = [&](const std::string& why) {
    return std::runtime_error(fmt::format("--mta-sts-state '{}' is not a state file: {}", shown(path), why));
  };
  if (j.is_discarded() || !j.is_object()) throw bad("not a JSON object");
  for (const auto& [domain, v] : j.items()) {
    if (!v.is_object() || !v.contains("id") || !v["id"].is_string() || !v.contains("digest") || !v["digest"].is_string()) {
      throw bad(fmt::format("the entry for '{}' has no id and digest", shown(domain, 80)));
    }
    m.seen_[domain] = SeenPolicy{v["id"], v["digest"], v.value("summary", ""), v.value("seen_at", "")};
  }
  return m;
}

void PolicyMemory::save(const std::string& path) const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [domain, p] : seen_) {
    j[domain] = {{"id", p.id}, {"digest", p.digest}, {"summary", p.summary}, {"seen_at", p.seen_at}};
  }
  const std::string tmp = path + ".new";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    if (!out) throw std::runtime_error(fmt::format("--mta-sts-state '{}' cannot be written", shown(tmp)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw std::runtime_error(fmt::format("--mta-sts-state '{}' cannot be replaced: {}", shown(path), std::strerror(errno)));
  }
}

std::optional<SeenPolicy> PolicyMemory::recall(const std::string& domain) const {
  auto it = seen_.find(domain);
  if (it == seen_.end()) return std::nullopt;
  return it->second;
}

void PolicyMemory::remember(const std::string& domain, SeenPolicy p) { seen_[domain] = std::move(p); }

std::vector<Finding> id_findings(const std::string& domain, const std::optional<SeenPolicy>& before, const SeenPolicy& now) {
  std::vector<Finding> out;
  if (!before) return out;
  const bool same_id = before->id == now.id, same_policy = before->digest == now.digest;
  if (same_id && same_policy) return out;
  const std::string then = before->seen_at.empty() ? "the last run" : before->seen_at;
  Finding f = same_id ? make_finding("mta-sts", "mta-sts.id-unchanged", Severity::warning, domain,
                                     fmt::format("the MTA-STS policy changed since {} ({} -> {}) but the record's id is still "
                                                 "{}: senders that cached the old policy keep it until its max_age passes",
                                                 then, before->summary, now.summary, now.id))
                  : same_policy ? make_finding("mta-sts", "mta-sts.id-changed", Severity::info, domain,
                                               fmt::format("the record's id changed from {} to {} since {}, the policy did "
                                                           "not: senders fetch the same policy again",
                                                           before->id, now.id, then))
                                : make_finding("mta-sts", "mta-sts.policy-changed", Severity::info, domain,
                                               fmt::format("the MTA-STS policy changed since {} ({} -> {}), with a new id "
                                                           "({} -> {}): senders fetch the new one",
                                                           then, before->summary, now.summary, before->id, now.id));
  f.reference = "RFC 8461 section 3.1 (id), section 3.3 (caching)";
  if (same_id) f.fix = fmt::format("change the id in _mta-sts.{} whenever the policy changes", domain);
  out.push_back(std::move(f));
  return out;
}

}  // namespace bp::probes::transport
