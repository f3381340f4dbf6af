#include "proto/dns_message.hpp"

#include "proto/dns_rdata.hpp"
#include "proto/limits.hpp"
#include "proto/sanitize.hpp"

#include <algorithm>

namespace mxw::proto {
namespace {

void put16(std::string& out, std::uint16_t v)
{
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xff));
}

class reader {
public:
    explicit reader(std::span<const std::uint8_t> w) : w_(w) {}
    [[nodiscard]] bool has(std::size_t n) const { return pos_ + n <= w_.size(); }
    std::uint16_t u16()
    {
        std::uint16_t v = static_cast<std::uint16_t>((w_[pos_] << 8) | w_[pos_ + 1]);
        pos_ += 2;
        return v;
    }
    std::uint32_t u32()
    {
        std::uint32_t hi = u16();
        return (hi << 16) | u16();
    }
    /// A possibly compressed name at the cursor; the cursor moves past it.
    std::optional<std::string> name()
    {
        std::string out;
        std::size_t at = pos_;
        std::size_t end = 0;  // where the cursor goes: after the first pointer or the root label
        std::size_t hops = 0, wire_bytes = 0;
        for (;;) {
            if (at >= w_.size())
                return std::nullopt;
            std::uint8_t len = w_[at];
            if ((len & 0xc0) == 0xc0) {
                if (at + 1 >= w_.size() || ++hops > max_dns_pointer_hops)
                    return std::nullopt;
                std::size_t target = static_cast<std::size_t>((len & 0x3f) << 8 | w_[at + 1]);
                if (target >= at)  // only backwards: no loops
                    return std::nullopt;
                if (end == 0)
                    end = at + 2;
                at = target;
                continue;
            }
            if ((len & 0xc0) != 0)
                return std::nullopt;  // extended label types (RFC 6891 §5) are not used
            wire_bytes += len + 1u;
            if (wire_bytes > max_dns_name_bytes || at + 1 + len > w_.size())
                return std::nullopt;
            if (len == 0) {
                pos_ = end ? end : at + 1;
                return out;
            }
            std::vector<std::uint8_t> label{static_cast<std::uint8_t>(len)};
            label.insert(label.end(), w_.begin() + static_cast<std::ptrdiff_t>(at + 1),
                         w_.begin() + static_cast<std::ptrdiff_t>(at + 1 + len));
            label.push_back(0);
            auto text = parse_dns_name(label);
            if (!text)
                return std::nullopt;
            out.append(out.empty() ? "" : ".").append(*text);
            at += 1u + len;
        }
    }
    std::span<const std::uint8_t> bytes(std::size_t n)
    {
        auto s = w_.subspan(pos_, n);
        pos_ += n;
        return s;
    }
    [[nodiscard]] std::size_t pos() const { return pos_; }
    [[nodiscard]] std::span<const std::uint8_t> whole() const { return w_; }

private:
    std::span<const std::uint8_t> w_;
    std::size_t pos_ = 0;
};

std::string rdata_text(std::uint16_t type, std::span<const std::uint8_t> rd, std::size_t offset, const reader& msg)
{
    if (type == 1 || type == 28) {
        if (auto a = parse_address_rdata(rd))
            return *a;
    } else if (type == 15 || type == 12 || type == 5 || type == 2) {
        if (type == 15 && rd.size() < 3)
            return "malformed";
        // Names in RDATA may be compressed against the whole message.
        reader r(msg.whole());
        r.bytes(offset + (type == 15 ? 2 : 0));
        auto n = r.name();
        if (n && r.pos() <= offset + rd.size()) {
            if (type == 15 && rd.size() >= 2)
                return std::to_string(rd[0] << 8 | rd[1]) + " " + (n->empty() ? "." : *n);
            if (type != 15)
                return n->empty() ? "." : *n;
        }
        return "malformed";
    }
    return "TYPE" + std::to_string(type) + " " + std::to_string(rd.size()) + " bytes";
}

}  // namespace

std::optional<std::string> encode_dns_query(std::uint16_t id, std::string_view name, std::uint16_t qtype,
                                            std::uint16_t edns_size)
{
    while (!name.empty() && name.back() == '.')
        name.remove_suffix(1);
    std::string out;
    put16(out, id);
    put16(out, 0x0100);  // standard query, RD
    put16(out, 1);
    put16(out, 0);
    put16(out, 0);
    put16(out, edns_size ? 1 : 0);
    std::size_t wire = 1;
    std::size_t start = 0;
    while (start < name.size()) {
        std::size_t dot = name.find('.', start);
        if (dot == std::string_view::npos)
            dot = name.size();
        std::string_view label = name.substr(start, dot - start);
        if (label.empty() || label.size() > max_dns_label_bytes)
            return std::nullopt;
        for (char c : label)
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
                return std::nullopt;
        wire += label.size() + 1;
        if (wire > max_dns_name_bytes)
            return std::nullopt;
        out.push_back(static_cast<char>(label.size()));
        out.append(label);
        start = dot + 1;
    }
    out.push_back('\0');
    put16(out, qtype);
    put16(out, 1);  // IN
    if (edns_size) {
        out.push_back('\0');  // root owner
        put16(out, 41);       // OPT
        put16(out, edns_size);
        put16(out, 0);  // extended rcode, version
        put16(out, 0);  // flags
        put16(out, 0);  // no options
    }
    return out;
}

std::optional<dns_reply> parse_dns_reply(std::span<const std::uint8_t> wire)
{
    reader r(wire);
    if (!r.has(12))
        return std::nullopt;
    dns_reply out;
    out.id = r.u16();
    std::uint16_t flags = r.u16();
    if (!(flags & 0x8000))
        return std::nullopt;  // not a response
    out.authoritative = flags & 0x0400;
    out.truncated = flags & 0x0200;
    out.recursion_available = flags & 0x0080;
    out.rcode = static_cast<std::uint8_t>(flags & 0x0f);
    std::uint16_t qd = r.u16(), an = r.u16(), ns = r.u16(), ar = r.u16();
    for (std::uint16_t i = 0; i < qd; ++i) {
        if (!r.name() || !r.has(4))
            return out.truncated ? std::optional<dns_reply>(out) : std::nullopt;
        r.u32();
    }
    auto sections = static_cast<std::size_t>(an) + ns + ar;
    for (std::size_t i = 0; i < sections; ++i) {
        auto name = r.name();
        if (!name || !r.has(10))
            return out.truncated ? std::optional<dns_reply>(out) : std::nullopt;
        std::uint16_t type = r.u16(), klass = r.u16();
        std::uint32_t ttl = r.u32();
        std::uint16_t len = r.u16();
        if (!r.has(len))
            return out.truncated ? std::optional<dns_reply>(out) : std::nullopt;
        std::size_t offset = r.pos();
        auto rd = r.bytes(len);
        if (type == 41) {
            out.has_opt = true;
            out.edns_size = klass;
            out.rcode = static_cast<std::uint8_t>(out.rcode | ((ttl >> 24) << 4));
            continue;
        }
        if (i < an)
            out.answers.push_back(dns_record{to_lower(*name), type, ttl, rdata_text(type, rd, offset, r)});
        // SOA RDATA ends in five fixed 32-bit fields, MINIMUM last, after
        // two names of at least one byte each.
        constexpr std::uint16_t soa = 6;
        if (i >= an && i < an + ns && type == soa && len >= 22 && !out.negative_ttl) {
            std::uint32_t minimum = static_cast<std::uint32_t>(rd[len - 4]) << 24 |
                                    static_cast<std::uint32_t>(rd[len - 3]) << 16 |
                                    static_cast<std::uint32_t>(rd[len - 2]) << 8 | rd[len - 1];
            out.negative_ttl = std::min(ttl, minimum);
        }
    }
    return out;
}

std::string dns_rcode_name(std::uint8_t rcode)
{
    switch (rcode) {
    case 0: return "NOERROR";
    case 1: return "FORMERR";
    case 2: return "SERVFAIL";
    case 3: return "NXDOMAIN";
    case 4: return "NOTIMP";
    case 5: return "REFUSED";
    default: return "RCODE" + std::to_string(rcode);
    }
}

}  // namespace mxw::proto
