// Fuzz target for proto/form: query strings, form bodies and Cookie
// headers, all of them browser-controlled.
//
// Invariants: nothing over the caps parses; a parsed form holds at most
// max_form_fields fields; encoding each decoded name and value with
// form_encode and joining them gives a form that parses to the same
// fields; cookies stay within max_cookies.
#include "proto/form.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

namespace proto = mxw::proto;

void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view in(reinterpret_cast<const char*>(data), size);
    if (auto f = proto::parse_form(in)) {
        require(in.size() <= proto::max_form_bytes, "no form over max_form_bytes");
        require(f->size() <= proto::max_form_fields, "no more than max_form_fields fields");
        std::string again;
        for (const auto& [n, v] : *f) {
            if (!again.empty())
                again += '&';
            again += proto::form_encode(n) + "=" + proto::form_encode(v);
        }
        // Re-encoding can grow a field threefold, past the byte cap: only
        // compare when it still fits.
        if (again.size() <= proto::max_form_bytes) {
            auto g = proto::parse_form(again);
            require(g.has_value(), "an encoded form parses");
            require(g->size() == f->size(), "the same number of fields");
            for (std::size_t i = 0; i < f->size(); ++i)
                require((*g)[i] == (*f)[i], "the same fields");
        }
    }
    if (auto c = proto::parse_cookies(in)) {
        require(c->size() <= proto::max_cookies, "no more than max_cookies cookies");
        for (const auto& [n, v] : *c)
            require(n.size() + v.size() < in.size(), "a cookie is a piece of the header");
    }
    return 0;
}
