#include "proto/socketmap.hpp"

#include "proto/errors.hpp"
#include "proto/limits.hpp"
#include "proto/netstring.hpp"

#include <algorithm>
#include <array>

namespace mxw::proto {
namespace {

constexpr std::array<std::string_view, 5> status_words{"OK", "NOTFOUND", "TEMP", "TIMEOUT", "PERM"};

bool is_map_name_char(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
}

}  // namespace

std::optional<socketmap_request> parse_socketmap_request(std::string_view payload, std::error_code& ec)
{
    ec.clear();
    std::size_t sp = payload.find(' ');
    std::string_view map = payload.substr(0, sp);
    if (map.empty() || !std::all_of(map.begin(), map.end(), is_map_name_char)) {
        ec = proto_errc::socketmap_bad_map_name;
        return std::nullopt;
    }
    if (sp == std::string_view::npos || sp + 1 == payload.size()) {
        ec = proto_errc::socketmap_empty_key;
        return std::nullopt;
    }
    std::string_view key = payload.substr(sp + 1);
    if (key.find('\0') != std::string_view::npos) {
        ec = proto_errc::socketmap_nul_in_key;
        return std::nullopt;
    }
    return socketmap_request{std::string(map), std::string(key)};
}

std::optional<socketmap_request> parse_socketmap_request(std::string_view payload)
{
    std::error_code ignored;
    return parse_socketmap_request(payload, ignored);
}

std::string encode_socketmap_request(const socketmap_request& req)
{
    std::string payload;
    payload.reserve(req.map.size() + 1 + req.key.size());
    payload.append(req.map).append(" ").append(req.key);
    return encode_netstring(payload);
}

std::string_view to_string(socketmap_status st) noexcept { return status_words.at(static_cast<std::size_t>(st)); }

std::string encode_socketmap_reply(socketmap_status st, std::string_view data)
{
    if (st == socketmap_status::notfound)
        data = {};
    std::string_view word = to_string(st);
    std::size_t room = max_socketmap_reply_bytes - word.size() - 1;
    if (data.size() > room) {
        if (st == socketmap_status::ok) {
            // A cut value could be a wrong route (a list missing hosts, a
            // nexthop missing its port). TEMP makes Postfix retry later and
            // says in its log what went wrong.
            return encode_netstring("TEMP mxwarden: reply of " + std::to_string(word.size() + 1 + data.size()) +
                                    " bytes exceeds " + std::to_string(max_socketmap_reply_bytes));
        }
        // A reason is only logged (Postfix logs 200 bytes of it).
        data = data.substr(0, room);
    }
    // Replacing bytes keeps the length, so the netstring is written in one
    // go: this runs for every lookup an MTA makes.
    std::size_t length = word.size() + 1 + data.size();
    std::string out = std::to_string(length);
    out.reserve(out.size() + length + 2);
    out.push_back(':');
    out.append(word).push_back(' ');
    for (char c : data)
        out.push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
    out.push_back(',');
    return out;
}

std::optional<socketmap_reply> parse_socketmap_reply(std::string_view payload)
{
    std::size_t sp = payload.find(' ');
    std::string_view word = payload.substr(0, sp);
    auto it = std::find(status_words.begin(), status_words.end(), word);
    if (it == status_words.end())
        return std::nullopt;
    socketmap_reply r;
    r.status = static_cast<socketmap_status>(it - status_words.begin());
    if (sp != std::string_view::npos)
        r.data.assign(payload.substr(sp + 1));
    return r;
}

}  // namespace mxw::proto
