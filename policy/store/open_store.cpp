#include "store/open_store.hpp"

#include "store/quarantine_store.hpp"

#include <filesystem>

namespace mxw::store {

std::unique_ptr<quarantine> open_quarantine(const store_location& where, open_mode m)
{
    if (m != open_mode::create && !std::filesystem::exists(where.sqlite_path))
        return nullptr;
    auto mode = m == open_mode::create     ? database::mode::read_write_create
                : m == open_mode::existing ? database::mode::read_write
                                           : database::mode::read_only;
    return std::make_unique<quarantine_store>(where.sqlite_path, mode);
}

std::string describe(const store_location& where)
{
    return where.sqlite_path;
}

}  // namespace mxw::store
