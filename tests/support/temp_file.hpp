// A file written for one test case and removed after it.
#pragma once

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

namespace bp::test {

struct TempFile {
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/bp-unit-XXXXXX";
    const int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    close(fd);
    path = name;
    std::ofstream(path, std::ios::binary) << text;
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() { std::remove(path.c_str()); }
  std::string path;
};

}  // namespace bp::test
