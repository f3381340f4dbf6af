// cli/health_cli.hpp: `mxwarden health [--json]`: the daemon's
// proto/health_report answer shown to a person (a hosts table, the failing
// destinations, an activity summary) or as JSON for scripts. Pure
// rendering; main.cpp asks the daemon.
#pragma once
#include "proto/health_report.hpp"

#include <string>

namespace mxw::cli {

/// Text: every peer-supplied field sanitized, times as ages relative to
/// the report's `now`.
std::string format_health_text(const proto::health_report& r);

/// JSON: {"now", "bucket_seconds", "hosts": [...], "failing": [...],
/// "activity": [...]}, with the report's field names and values as they are.
std::string format_health_json(const proto::health_report& r);

}  // namespace mxw::cli
