#pragma once

namespace bp::cli {
// The contract CI pipelines rely on (docs/exit-codes.md).
inline constexpr int exit_ok = 0;          ///< nothing at or above --fail-on
inline constexpr int exit_findings = 1;    ///< findings at or above --fail-on, or a bounce/deferral predicted
inline constexpr int exit_usage = 2;       ///< bad command line or input
inline constexpr int exit_cannot_run = 3;  ///< the probe could not run (no resolver reachable, ...)
inline constexpr int exit_interrupted_base = 128;  ///< + the signal's number: interrupted (130 for Ctrl-C)
}  // namespace bp::cli
