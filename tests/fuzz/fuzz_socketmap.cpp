// Fuzz target for proto/socketmap: the request and reply parsers and the
// reply encoder. The input is one netstring payload, as the netstring decoder
// hands it over (that decoder has its own target).
// Invariants: a parsed request has a valid map name and a non-empty key
// without NUL, and survives encode_socketmap_request -> decode -> parse
// unchanged; a refused request has its error set; a parsed reply survives
// encode_socketmap_reply -> decode -> parse with its status and cleaned data;
// the input used as data for every status encodes to a reply Postfix accepts
// (payload within max_socketmap_reply_bytes, one line, a known status).
#include "proto/limits.hpp"
#include "proto/netstring.hpp"
#include "proto/socketmap.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace {

namespace proto = mxw::proto;
using proto::socketmap_status;

// Fuzz builds define NDEBUG in release modes, so invariants abort explicitly.
void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

std::string unframe(std::string_view wire, std::size_t max)
{
    proto::netstring_decoder d(max);
    require(d.feed(wire) == proto::step::frame, "an encoded message decodes to a frame");
    require(d.consumed() == wire.size(), "an encoded message is consumed whole");
    return std::string(d.payload());
}

bool is_map_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
}

void check_request(std::string_view in)
{
    std::error_code ec;
    auto req = proto::parse_socketmap_request(in, ec);
    require(req.has_value() != static_cast<bool>(ec), "error set exactly when parsing fails");
    require(proto::parse_socketmap_request(in) == req, "both overloads agree");
    if (!req)
        return;
    require(!req->map.empty(), "map name non-empty");
    for (char c : req->map)
        require(is_map_name_char(c), "map name in [A-Za-z0-9_.-]");
    require(!req->key.empty(), "key non-empty");
    require(req->key.find('\0') == std::string::npos, "key without NUL");
    require(req->map + " " + req->key == in, "map and key are the payload, split at the first space");

    // The netstring limit is the session's business; this checks the codec.
    std::string payload = unframe(proto::encode_socketmap_request(*req), in.size());
    require(payload == in, "an encoded request carries the same payload");
    require(proto::parse_socketmap_request(payload) == req, "an encoded request parses back unchanged");
}

std::string cleaned(std::string_view data)
{
    std::string out(data);
    for (char& c : out)
        if (c == '\r' || c == '\n' || c == '\0')
            c = ' ';
    return out;
}

// Encodes `data` with status `st` and checks what Postfix would read.
proto::socketmap_reply check_encoded(socketmap_status st, std::string_view data)
{
    std::string payload = unframe(proto::encode_socketmap_reply(st, data), proto::max_socketmap_reply_bytes);
    require(payload.size() <= proto::max_socketmap_reply_bytes, "a reply is within Postfix's limit");
    require(payload.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos, "a reply is one line");
    auto r = proto::parse_socketmap_reply(payload);
    require(r.has_value(), "an encoded reply parses");
    return *r;
}

void check_reply(std::string_view in)
{
    if (auto r = proto::parse_socketmap_reply(in)) {
        auto again = check_encoded(r->status, r->data);
        bool fits = proto::to_string(r->status).size() + 1 + r->data.size() <= proto::max_socketmap_reply_bytes;
        if (r->status == socketmap_status::notfound) {
            require(again == proto::socketmap_reply{socketmap_status::notfound, ""}, "NOTFOUND drops its data");
        } else if (fits) {
            require(again.status == r->status, "a reply keeps its status");
            require(again.data == cleaned(r->data), "a reply keeps its cleaned data");
        }
    }
    // Any bytes as data, under every status.
    for (auto st : {socketmap_status::ok, socketmap_status::notfound, socketmap_status::temp,
                    socketmap_status::timeout, socketmap_status::perm}) {
        auto r = check_encoded(st, in);
        std::size_t room = proto::max_socketmap_reply_bytes - proto::to_string(st).size() - 1;
        if (st == socketmap_status::notfound) {
            require(r == proto::socketmap_reply{st, ""}, "NOTFOUND drops its data");
        } else if (in.size() <= room) {
            require(r == proto::socketmap_reply{st, cleaned(in)}, "status and cleaned data survive");
        } else if (st == socketmap_status::ok) {
            require(r.status == socketmap_status::temp, "an OK value that does not fit becomes TEMP");
        } else {
            require(r == proto::socketmap_reply{st, cleaned(in.substr(0, room))}, "a long reason is cut to fit");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view in(reinterpret_cast<const char*>(data), size);
    check_request(in);
    check_reply(in);
    return 0;
}
