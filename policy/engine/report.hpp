// engine/report.hpp: decisions as text for people (mxwarden check), JSON for
// scripts (--json), and one key=value log line per decision.
#pragma once
#include "engine/policy_engine.hpp"

#include <cstdint>
#include <string>

namespace mxw::engine {

std::string format_text(const decision& d);
std::string format_json(const decision& d);

/// "decision id=7 queue_id=ABC state=RCPT client=.. sender=.. check=sender
/// result=null-mx subject=.. dns=\"..\" action=reject reply=\"..\"". Every
/// peer-supplied value is sanitized and quoted as needed.
std::string format_log(const decision& d, const proto::policy_request& req, std::uint64_t id);

}  // namespace mxw::engine
