#include "data_file.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <sys/stat.h>

namespace bp::probes {

std::string read_data_file(const std::string& path, std::string_view what, std::size_t limit) {
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> f(std::fopen(path.c_str(), "rb"));
  if (!f) throw std::runtime_error(fmt::format("cannot read {} '{}': {}", what, path, std::strerror(errno)));
  struct stat st {};
  if (fstat(fileno(f.get()), &st) != 0) throw std::runtime_error(fmt::format("cannot read {} '{}': {}", what, path, std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) throw std::runtime_error(fmt::format("{} '{}' is a directory, not a file", what, path));
  if (!S_ISREG(st.st_mode)) throw std::runtime_error(fmt::format("{} '{}' is not a regular file", what, path));
  if (static_cast<std::uint64_t>(st.st_size) > limit) {
    throw std::runtime_error(fmt::format("{} '{}' is {} bytes, over the limit of {}", what, path, st.st_size, limit));
  }
  std::string text;
  char buf[65536];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
    text.append(buf, n);
    // The file may grow while it is read.
    if (text.size() > limit) throw std::runtime_error(fmt::format("{} '{}' is over the limit of {} bytes", what, path, limit));
  }
  if (std::ferror(f.get())) throw std::runtime_error(fmt::format("cannot read {} '{}': {}", what, path, std::strerror(errno)));
  return text;
}

bool read_line(std::FILE* in, std::string& line, std::size_t cap, bool& cut) {
  constexpr std::size_t give_up = 64u << 20;
  line.clear();
  cut = false;
  int c = 0;
  bool any = false;
  std::size_t skipped = 0;
  while ((c = std::getc(in)) != EOF) {
    any = true;
    if (c == '\n') break;
    if (line.size() < cap) {
      line.push_back(static_cast<char>(c));
    } else {
      cut = true;
      if (++skipped > give_up) throw std::runtime_error("a line of the input is longer than 64 MiB: this is not a text file");
    }
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return any;
}

toml::table parse_toml(std::string_view text, const std::string& origin) {
  try {
    return toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(fmt::format("{}:{}:{}: {}", origin, e.source().begin.line, e.source().begin.column,
                                         e.description()));
  }
}

std::string toml_string(const toml::table& t, std::string_view key, const std::string& where, bool required) {
  if (auto v = t[key].value<std::string>()) return *v;
  if (t.contains(key)) throw std::runtime_error(fmt::format("{}: '{}' must be a string", where, key));
  if (required) throw std::runtime_error(fmt::format("{}: '{}' is missing", where, key));
  return {};
}

std::int64_t toml_int_value(const toml::node& n, const std::string& where, std::int64_t min, std::int64_t max) {
  const auto* v = n.as_integer();
  if (v == nullptr) throw std::runtime_error(fmt::format("{} must be an integer", where));
  const std::int64_t x = v->get();
  if (x < min || x > max) throw std::runtime_error(fmt::format("{} = {} is outside {}..{}", where, x, min, max));
  return x;
}

std::optional<std::int64_t> toml_int(const toml::table& t, std::string_view key, const std::string& where,
                                     std::int64_t min, std::int64_t max) {
  const auto* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  return toml_int_value(*n, fmt::format("{}: '{}'", where, key), min, max);
}

}  // namespace bp::probes
