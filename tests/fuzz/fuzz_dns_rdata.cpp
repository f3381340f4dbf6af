// Fuzz target for proto/dns_rdata: RDATA as libunbound hands it over.
//
// The same bytes go to every parser. Invariants: nothing crashes; a parsed
// name is at most 255 wire bytes (the whole input, since trailing bytes are
// refused), so at most 255*4 characters; it uses only [a-z0-9-_.\] and turns
// back into the input's wire form (upper case folded); MX and A/AAAA parsing
// agree with parse_dns_name and the length rules.
#include "proto/dns_rdata.hpp"
#include "proto/limits.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

namespace {

using bytes = std::span<const std::uint8_t>;

// Fuzz builds define NDEBUG in release modes, so invariants abort explicitly.
void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

bool digit(char c) { return c >= '0' && c <= '9'; }

// Presentation form -> wire form, for names parse_dns_name produced: '.'
// separates labels (a literal dot is always escaped) and \DDD is one byte.
std::vector<std::uint8_t> to_wire(const std::string& name)
{
    std::vector<std::uint8_t> out;
    std::vector<std::uint8_t> label;
    auto flush = [&] {
        require(!label.empty(), "no empty label inside a name");
        out.push_back(static_cast<std::uint8_t>(label.size()));
        out.insert(out.end(), label.begin(), label.end());
        label.clear();
    };
    for (std::size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        if (c == '.') {
            flush();
        } else if (c == '\\') {
            require(i + 3 < name.size(), "\\DDD is complete");
            require(digit(name[i + 1]) && digit(name[i + 2]) && digit(name[i + 3]), "\\DDD has three digits");
            int v = (name[i + 1] - '0') * 100 + (name[i + 2] - '0') * 10 + (name[i + 3] - '0');
            require(v <= 255, "\\DDD is a byte");
            label.push_back(static_cast<std::uint8_t>(v));
            i += 3;
        } else {
            bool plain = (c >= 'a' && c <= 'z') || digit(c) || c == '-' || c == '_';
            require(plain, "unescaped characters are lower-case LDH or '_'");
            label.push_back(static_cast<std::uint8_t>(c));
        }
    }
    if (!name.empty())
        flush();
    out.push_back(0);
    return out;
}

std::vector<std::uint8_t> fold_case(bytes in)
{
    std::vector<std::uint8_t> out(in.begin(), in.end());
    for (auto& b : out)
        if (b >= 'A' && b <= 'Z')
            b = static_cast<std::uint8_t>(b - 'A' + 'a');
    return out;
}

void check_name(bytes in)
{
    auto name = mxw::proto::parse_dns_name(in);
    if (!name)
        return;
    require(in.size() <= mxw::proto::max_dns_name_bytes, "a name is at most 255 wire bytes");
    require(name->size() <= mxw::proto::max_dns_name_bytes * 4, "a name is at most 255*4 characters");
    require(to_wire(*name) == fold_case(in), "the name converts back to its wire form");
}

void check_mx(bytes in)
{
    auto mx = mxw::proto::parse_mx_rdata(in);
    auto name = in.size() >= 2 ? mxw::proto::parse_dns_name(in.subspan(2)) : std::nullopt;
    require(mx.has_value() == name.has_value(), "MX parses iff its exchange name parses");
    if (mx) {
        require(mx->preference == (in[0] << 8 | in[1]), "preference is big-endian");
        require(mx->exchange == *name, "exchange equals the parsed name");
    }
}

void check_address(bytes in)
{
    auto text = mxw::proto::parse_address_rdata(in);
    require(text.has_value() == (in.size() == 4 || in.size() == 16), "only 4 or 16 bytes are an address");
    if (text) {
        // The text form is canonical and has a reverse name.
        require(mxw::proto::canonical_address(*text) == text, "address text is canonical");
        require(mxw::proto::reverse_name(*text).has_value(), "an address has a reverse name");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    bytes in(data, size);
    check_name(in);
    check_mx(in);
    check_address(in);
    // Text helpers must reject or canonicalise any string without crashing.
    std::string text(reinterpret_cast<const char*>(data), size);
    if (auto canon = mxw::proto::canonical_address(text))
        require(mxw::proto::canonical_address(*canon) == canon, "canonical form is stable");
    (void)mxw::proto::reverse_name(text);
    return 0;
}
