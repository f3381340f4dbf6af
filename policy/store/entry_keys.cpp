#include "store/entry_keys.hpp"

#include "proto/limits.hpp"
#include "proto/message_headers.hpp"
#include "proto/sanitize.hpp"
#include "proto/sha256.hpp"

#include <algorithm>
#include <vector>

namespace mxw::store {

std::string delivery_fingerprint(const new_entry& e)
{
    // Each part is length-prefixed so no two different envelopes hash
    // alike by shifting a separator.
    proto::sha256 h;
    auto part = [&h](std::string_view s) {
        h.update(std::to_string(s.size()));
        h.update(":");
        h.update(s);
    };
    part(e.queue_id);
    part(e.sender);
    std::vector<std::string> rcpts = e.recipients;
    std::sort(rcpts.begin(), rcpts.end());
    part(std::to_string(rcpts.size()));
    for (const auto& r : rcpts)
        part(r);
    part(e.message);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (auto b : h.finish()) {
        out.push_back(hex[b >> 4]);
        out.push_back(hex[b & 15]);
    }
    return out;
}

std::string summary_field(std::string_view message, std::string_view name)
{
    auto v = proto::find_header(message, name);
    return v ? v->substr(0, proto::max_summary_field_bytes) : std::string();
}

std::string substring_pattern(std::string_view text)
{
    std::string out = "%";
    for (char c : proto::to_lower(text)) {
        if (c == '%' || c == '_' || c == '\\')
            out += '\\';
        out += c;
    }
    out += '%';
    return out;
}

std::string deleted_detail(std::string_view by)
{
    return by.empty() ? std::string() : "by " + std::string(by);
}

std::vector<std::string> domain_set(const std::vector<std::string>& domains)
{
    std::vector<std::string> out;
    out.reserve(domains.size());
    for (const auto& d : domains)
        out.push_back(proto::to_lower(d));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace mxw::store
