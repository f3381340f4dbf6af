// proto/json_indent.hpp: re-indents a JSON document for people (the
// daemon's evidence in `quarantine show`) and tells whether it is whole.
// A lexical pass, not a parser: it tracks strings and brackets only, which
// is enough to lay out what mxwardend wrote and to refuse a truncated or
// unbalanced document. Pure.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace mxw::proto {

/// `json` with one member or element per line, two spaces per level; nullopt
/// if a string is unterminated, a bracket is unbalanced or mismatched, the
/// top level is not an object or array, or anything follows it.
std::optional<std::string> indent_json(std::string_view json);

}  // namespace mxw::proto
