# Every dependency comes from a Debian package and is found here, once, under one canonical name.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(OpenSSL REQUIRED)

# c-ares 1.18 ships only libcares.pc.
pkg_check_modules(CARES REQUIRED IMPORTED_TARGET libcares)
add_library(c-ares::cares ALIAS PkgConfig::CARES)

pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
add_library(re2::re2 ALIAS PkgConfig::RE2)

pkg_check_modules(IDN2 REQUIRED IMPORTED_TARGET libidn2)
add_library(idn2::idn2 ALIAS PkgConfig::IDN2)

pkg_check_modules(PSL REQUIRED IMPORTED_TARGET libpsl)

# Abseil's flat_hash_map holds the resolver's run cache (libabsl-dev): a probe
# is one group of control bytes in a power-of-two table, where std::unordered_map
# divides by a prime and follows a node per step (bench/README.md).
find_package(absl CONFIG REQUIRED)

# Knot DNS's zone scanner (libknot-dev) reads zone files for --zone-file.
pkg_check_modules(ZSCANNER REQUIRED IMPORTED_TARGET libzscanner)
add_library(zscanner::zscanner ALIAS PkgConfig::ZSCANNER)

# GMime reads bounce messages: MIME structure, transfer encodings, charsets (through iconv), encoded words.
pkg_check_modules(GMIME REQUIRED IMPORTED_TARGET gmime-3.0)
add_library(gmime::gmime ALIAS PkgConfig::GMIME)

# libzip lists the members of zip attachments (predict --message, a profile's archives = true).
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
add_library(libzip::zip ALIAS PkgConfig::LIBZIP)
add_library(psl::psl ALIAS PkgConfig::PSL)

# tcmalloc (gperftools' minimal allocator) for the executable: a check allocates many
# small short-lived objects (coroutine frames, answers, findings), and glibc's malloc
# costs about a quarter of the run's time there (bench/README.md). Not with the
# sanitizers or the fuzz build, which bring their own allocator.
if(BP_TCMALLOC AND NOT BP_SANITIZE AND NOT BP_FUZZ)
  pkg_check_modules(TCMALLOC REQUIRED IMPORTED_TARGET libtcmalloc_minimal)
  add_library(tcmalloc::minimal ALIAS PkgConfig::TCMALLOC)
endif()

find_package(tomlplusplus CONFIG QUIET)
if(NOT TARGET tomlplusplus::tomlplusplus)
  pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
  add_library(tomlplusplus::tomlplusplus ALIAS PkgConfig::TOMLPP)
endif()

# Debian's libasio-dev is headers only: no .pc, no CMake config.
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(asio::asio INTERFACE IMPORTED)
target_include_directories(asio::asio INTERFACE ${ASIO_INCLUDE_DIR})
target_compile_definitions(asio::asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(asio::asio INTERFACE Threads::Threads)

if(BP_BUILD_TESTS)
  find_package(doctest CONFIG REQUIRED)
endif()
