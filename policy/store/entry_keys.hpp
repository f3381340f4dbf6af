// store/entry_keys.hpp: what every quarantine backend derives from a new
// entry the same way, so a store copied from one backend to another still
// recognises a repeated delivery and shows the same summaries. Pure.
#pragma once
#include "store/quarantine.hpp"

#include <cstdint>
#include <string>
#include <string_view>

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

}  // namespace mxw::store
