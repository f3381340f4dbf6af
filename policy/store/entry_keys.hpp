// store/entry_keys.hpp: what every quarantine backend derives from a new
// entry the same way, so a store copied from one backend to another still
// recognises a repeated delivery and shows the same summaries. Pure.
#pragma once
#include "store/quarantine.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::store {

/// One delivery the store recognises as already taken: its fingerprint and
/// when it arrived. An entry has one per delivery (the first, each return).
struct delivery_record {
    std::string fingerprint;  ///< delivery_fingerprint of that delivery
    std::int64_t at = 0;
};

/// The identity of one delivery by the MTA, as 64 hex digits: the same
/// queue file delivered to the same recipients (in any order) with the
/// same bytes.
std::string delivery_fingerprint(const new_entry& e);

/// The header `name` of `message`, unfolded and cut to
/// proto::max_summary_field_bytes; empty when absent.
std::string summary_field(std::string_view message, std::string_view name);

/// list_filter::text as a LIKE pattern with ESCAPE '\\': lowered (ASCII,
/// as both backends fold case), each % _ and backslash escaped so it
/// matches only itself, wrapped in % for "anywhere".
std::string substring_pattern(std::string_view text);

/// The detail of a "deleted" history event: "by NAME", or empty when
/// nobody is named.
std::string deleted_detail(std::string_view by);

/// list_filter::only_domains lowered, sorted and without repeats.
std::vector<std::string> domain_set(const std::vector<std::string>& domains);

}  // namespace mxw::store
