#include "store/open_store.hpp"

#include "store/quarantine_store.hpp"

#include <filesystem>

namespace mxw::store {
namespace {

/// A store.url this build has no backend for: no retry helps.
class no_backend : public store_error {
public:
    using store_error::store_error;
    [[nodiscard]] bool transient() const noexcept override { return false; }
};

}  // namespace

std::unique_ptr<quarantine> open_quarantine(const store_location& where, open_mode m)
{
    if (m != open_mode::create && !std::filesystem::exists(where.sqlite_path))
        return nullptr;
    auto mode = m == open_mode::create     ? database::mode::read_write_create
                : m == open_mode::existing ? database::mode::read_write
                                           : database::mode::read_only;
    return std::make_unique<quarantine_store>(where.sqlite_path, mode);
}

std::unique_ptr<fleet_state> open_fleet_state(const std::string&, const std::string&)
{
    // The PostgreSQL backend (store/pg.hpp) comes with the quarantine's;
    // until then a fleet node routes alone, from route_store.
    throw no_backend("store.url is set, but this mxwardend has no PostgreSQL support");
}

std::string describe(const store_location& where)
{
    return where.sqlite_path;
}

}  // namespace mxw::store
