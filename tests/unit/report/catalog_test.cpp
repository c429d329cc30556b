// The catalog holds every row of both provider articles, verbatim.
#include <doctest/doctest.h>

#include <catalog.hpp>

#include <re2/re2.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace bp::report;

#ifdef BP_SEEDS_DIR
namespace {

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The article text as rendered: markdown bold, escapes and autolink brackets removed.
std::string rendered(std::string s) {
  RE2::GlobalReplace(&s, R"(\*\*)", "");
  RE2::GlobalReplace(&s, R"(\\([<>]))", "\\1");
  RE2::GlobalReplace(&s, R"(<(https?://[^>]+)>)", "\\1");
  RE2::GlobalReplace(&s, R"(\s+)", " ");
  while (!s.empty() && s.back() == ' ') s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  return s;
}

/// Rows of the Thexyz article: lines that start with a reply code, section headings excluded.
std::vector<std::string> thexyz_rows(const std::string& text) {
  std::vector<std::string> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (RE2::PartialMatch(line, R"(^[245][0-9]{2} )") && !RE2::PartialMatch(line, R"(^[0-9]{3} - )")) {
      rows.push_back(rendered(line));
    }
  }
  return rows;
}

/// Rows of the Rackspace article: the first cell of each table row.
std::vector<std::string> rackspace_rows(const std::string& text) {
  std::vector<std::string> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("|", 0) != 0 || line.rfind("| SMTP error", 0) == 0 || line.rfind("| ---", 0) == 0) continue;
    auto end = line.find('|', 1);
    rows.push_back(rendered(line.substr(1, end - 1)));
  }
  return rows;
}

}  // namespace
#endif

TEST_CASE("the built-in catalog loads and holds 42 documented bounces from 53 article rows") {
  const auto& c = Catalog::builtin();
  std::size_t seed = 0;
  std::set<std::string> rows;
  for (const auto& e : c.entries()) {
    if (e.seed) ++seed;
    for (const auto& d : e.documented) CHECK_MESSAGE(rows.insert(d.row).second, "row cited twice: " << d.row);
    CHECK_FALSE(e.explanation.empty());
    CHECK_FALSE(e.fix.empty());
  }
  CHECK(seed == 42);
  CHECK(c.documented_rows() == 53);
  CHECK(rows.size() == 53);
}

TEST_CASE("every documented text matches its own entry's pattern") {
  for (const auto& e : Catalog::builtin().entries()) {
    for (const auto& d : e.documented) {
      CAPTURE(d.row);
      CHECK(RE2::PartialMatch(d.text, *e.regex));
    }
  }
}

#ifdef BP_SEEDS_DIR
TEST_CASE("every row of both seed articles is in the catalog, verbatim") {
  const std::filesystem::path dir = BP_SEEDS_DIR;
  std::set<std::string> documented;
  for (const auto& e : Catalog::builtin().entries()) {
    for (const auto& d : e.documented) documented.insert(d.text);
  }
  auto t = thexyz_rows(read(dir / "000_b69e920ae9b2bde2.txt"));
  auto r = rackspace_rows(read(dir / "001_bd1e4b521271a09d.txt"));
  CHECK(t.size() == 23);
  CHECK(r.size() == 30);
  for (const auto& row : t) {
    CAPTURE(row);
    CHECK(documented.count(row) == 1);
  }
  for (const auto& row : r) {
    CAPTURE(row);
    CHECK(documented.count(row) == 1);
  }
}
#endif

TEST_CASE("a catalog with a broken pattern, an unknown stage or an unknown reason is refused with the entry named") {
  CHECK_THROWS_WITH_AS(Catalog::load("[[entry]]\nid='x'\nreason='policy'\nseed=false\npattern='('\nstage='rcpt'\nclass='permanent'\n", "t.toml"),
                       doctest::Contains("entry 'x'"), std::runtime_error);
  CHECK_THROWS_WITH_AS(Catalog::load("[[entry]]\nid='x'\nreason='policy'\nseed=false\npattern='a'\nstage='later'\nclass='permanent'\n", "t.toml"),
                       doctest::Contains("unknown stage"), std::runtime_error);
  CHECK_THROWS_WITH_AS(Catalog::load("[[entry]]\nid='x'\nreason='bad-luck'\nseed=false\npattern='a'\nstage='rcpt'\nclass='permanent'\n", "t.toml"),
                       doctest::Contains("unknown reason 'bad-luck'"), std::runtime_error);
  CHECK_THROWS_WITH_AS(Catalog::load("[[entry]]\nid='x'\nseed=false\npattern='a'\nstage='rcpt'\nclass='permanent'\n", "t.toml"),
                       doctest::Contains("'reason' is missing"), std::runtime_error);
  CHECK_THROWS_AS(Catalog::load("this is = not toml [", "t.toml"), std::runtime_error);
}

TEST_CASE("numbers in a catalog are TOML integers within range, never silently cast") {
  const std::string head = "[[entry]]\nid='x'\nreason='policy'\nseed=false\npattern='a'\nstage='rcpt'\nclass='permanent'\n";
  // 4294967846 once wrapped to 550, and 5e54 was an undefined float-to-int cast.
  CHECK_THROWS_WITH_AS(Catalog::load(head + "code=4294967846\n", "t.toml"), doctest::Contains("'code' = 4294967846 is outside"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(Catalog::load(head + "code=5e54\n", "t.toml"), doctest::Contains("'code' must be an integer"), std::runtime_error);
  CHECK_THROWS_WITH_AS(Catalog::load(head + "code=550.0\n", "t.toml"), doctest::Contains("must be an integer"), std::runtime_error);
  CHECK_THROWS_WITH_AS(Catalog::load(head + "code='550'\n", "t.toml"), doctest::Contains("must be an integer"), std::runtime_error);
  CHECK_THROWS_WITH_AS(Catalog::load(head + "code=150\n", "t.toml"), doctest::Contains("not 0 or 200..599"), std::runtime_error);
  CHECK_THROWS_WITH_AS(Catalog::load(head + "code=550\ncode_alt=[554, 1e9]\n", "t.toml"), doctest::Contains("'code_alt' must be an integer"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(Catalog::load(head + "code=550\npriority=99999999999\n", "t.toml"), doctest::Contains("'priority'"),
                       std::runtime_error);
  auto ok = Catalog::load(head + "code=550\ncode_alt=[554]\npriority=3\n", "t.toml");
  CHECK(ok.entries().front().code == 550);
  CHECK(ok.entries().front().code_alt == std::vector<int>{554});
}

TEST_CASE("a catalog file must be a regular file under the size limit") {
  CHECK_THROWS_WITH_AS(Catalog::load_file("/dev/zero"), doctest::Contains("is not a regular file"), std::runtime_error);
  CHECK_THROWS_WITH_AS(Catalog::load_file("/tmp"), doctest::Contains("is a directory"), std::runtime_error);
  CHECK_THROWS_WITH_AS(Catalog::load_file("/nonexistent/catalog.toml"), doctest::Contains("No such file"), std::runtime_error);
  const auto big = std::filesystem::temp_directory_path() / "bp-catalog-too-big.toml";
  {
    std::ofstream out(big, std::ios::binary);
    out << std::string(5 * 1024 * 1024, '#');
  }
  CHECK_THROWS_WITH_AS(Catalog::load_file(big.string()), doctest::Contains("over the limit"), std::runtime_error);
  std::filesystem::remove(big);
}
