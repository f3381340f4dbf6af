#include "proto/dns_filter_key.hpp"

#include "proto/dns_rdata.hpp"
#include "proto/limits.hpp"
#include "proto/sanitize.hpp"

#include <charconv>
#include <limits>

namespace mxw::proto {
namespace {

// Splits off the field before the next space; the rest follows the space.
// Stray spaces are refused beforehand, so an empty field means the key has
// no more fields.
std::optional<std::string_view> next_field(std::string_view& rest)
{
    auto sp = rest.find(' ');
    std::string_view field = rest.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    if (field.empty())
        return std::nullopt;
    return field;
}

// A fully qualified name as dn_expand() writes it (escapes such as \046 are
// kept as text): the final dot is required, so "example.com" is refused
// rather than guessed at.
std::optional<std::string> parse_name(std::string_view field)
{
    if (field.empty() || field.back() != '.')
        return std::nullopt;
    if (field == ".")
        return std::string();
    field.remove_suffix(1);
    if (field.size() > max_dns_name_bytes || field.front() == '.' || field.find("..") != std::string_view::npos)
        return std::nullopt;
    return to_lower(field);
}

template <typename T>
std::optional<T> parse_number(std::string_view field)
{
    // from_chars alone would take "0x1" as 0 with "x1" left: the whole
    // field must be digits.
    T v{};
    auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
    if (ec != std::errc() || end != field.data() + field.size())
        return std::nullopt;
    return v;
}

}  // namespace

std::optional<dns_filter_record> parse_dns_filter_key(std::string_view key)
{
    if (key.size() > max_dns_filter_key_bytes)
        return std::nullopt;
    // Postfix writes names in presentation form with non-printables escaped,
    // so any control byte (NUL, CR, LF, TAB) or 8-bit byte is not a record.
    for (char c : key)
        if (c < ' ' || c > '~')
            return std::nullopt;
    // Postfix separates fields by exactly one space; anything else is not
    // its output, and a trailing space would hide behind the last field.
    if (key.empty() || key.front() == ' ' || key.back() == ' ' || key.find("  ") != std::string_view::npos)
        return std::nullopt;

    std::string_view rest = key;
    auto owner_f = next_field(rest);
    auto ttl_f = owner_f ? next_field(rest) : std::nullopt;
    auto class_f = ttl_f ? next_field(rest) : std::nullopt;
    auto type_f = class_f ? next_field(rest) : std::nullopt;
    if (!type_f || *class_f != "IN")
        return std::nullopt;

    dns_filter_record r;
    auto owner = parse_name(*owner_f);
    auto ttl = parse_number<std::uint32_t>(*ttl_f);
    if (!owner || !ttl)
        return std::nullopt;
    r.owner = std::move(*owner);
    r.ttl = *ttl;

    if (*type_f == "MX") {
        r.type = dns_filter_type::mx;
        auto pref_f = next_field(rest);
        auto exchange_f = pref_f ? next_field(rest) : std::nullopt;
        if (!exchange_f || !rest.empty())
            return std::nullopt;
        auto pref = parse_number<std::uint16_t>(*pref_f);
        auto exchange = parse_name(*exchange_f);
        if (!pref || !exchange)
            return std::nullopt;
        r.preference = *pref;
        r.value = std::move(*exchange);
        return r;
    }
    if (*type_f == "A" || *type_f == "AAAA") {
        r.type = *type_f == "A" ? dns_filter_type::a : dns_filter_type::aaaa;
        auto addr_f = next_field(rest);
        if (!addr_f || !rest.empty())
            return std::nullopt;
        // inet_pton alone would let an AAAA record carry an IPv4 address
        // (or the reverse) and the record then be judged by the wrong
        // family's siblings.
        bool v6 = addr_f->find(':') != std::string_view::npos;
        if (v6 != (r.type == dns_filter_type::aaaa))
            return std::nullopt;
        auto addr = canonical_address(std::string(*addr_f));
        if (!addr)
            return std::nullopt;
        r.value = std::move(*addr);
        return r;
    }
    r.type = *type_f == "TLSA" ? dns_filter_type::tlsa : dns_filter_type::other;
    return r;
}

}  // namespace mxw::proto
