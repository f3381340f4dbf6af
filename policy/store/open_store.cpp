#include "store/open_store.hpp"

#include "store/pg_quarantine.hpp"
#include "store/quarantine_store.hpp"

#include <filesystem>
#include <string_view>

#include <libpq-fe.h>

namespace mxw::store {

std::unique_ptr<quarantine> open_quarantine(const store_location& where, open_mode m)
{
    if (!where.url.empty())
        return std::make_unique<pg_quarantine>(where.url, where.node);
    if (m != open_mode::create && !std::filesystem::exists(where.sqlite_path))
        return nullptr;
    auto mode = m == open_mode::create     ? database::mode::read_write_create
                : m == open_mode::existing ? database::mode::read_write
                                           : database::mode::read_only;
    return std::make_unique<quarantine_store>(where.sqlite_path, mode);
}

std::string describe(const store_location& where)
{
    if (where.url.empty())
        return where.sqlite_path;
    // libpq's own parser, so both forms (URI and key=value) read the same
    // way they connect; a password in them is never repeated.
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(where.url.c_str(), &err);
    if (!opts) {
        PQfreemem(err);
        return "postgresql (unparsable store.url)";
    }
    std::string out = "postgresql";
    for (auto* o = opts; o->keyword; ++o) {
        std::string_view k = o->keyword;
        if (o->val && *o->val && (k == "host" || k == "hostaddr" || k == "port" || k == "dbname" || k == "user"))
            out += " " + std::string(k) + "=" + o->val;
    }
    PQconninfoFree(opts);
    return out;
}

}  // namespace mxw::store
