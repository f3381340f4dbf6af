// proto/json.hpp: a minimal JSON writer for --json output. Writing only:
// mxwarden never parses JSON. Strings are escaped per RFC 8259 §7, and every
// byte outside printable ASCII as \u00XX (so UTF-8 text comes out as its
// bytes): peer text need not be valid UTF-8, and the output always parses.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace mxw::proto {

class json_writer {
public:
    json_writer& begin_object();
    json_writer& end_object();
    json_writer& begin_array();
    json_writer& end_array();
    json_writer& key(std::string_view k);
    json_writer& value(std::string_view v);
    json_writer& value(const char* v) { return value(std::string_view(v)); }
    json_writer& value(std::int64_t v);
    json_writer& value(bool v);
    /// Inserts `json` as a value, unchanged: a document another writer made
    /// (the daemon's evidence), which the caller has checked is whole.
    json_writer& raw_value(std::string_view json);
    /// The document; valid once every begin_* has its end_*.
    [[nodiscard]] const std::string& str() const noexcept { return out_; }

private:
    void separate();
    void put_string(std::string_view s);
    std::string out_;
    bool need_comma_ = false;
};

}  // namespace mxw::proto
