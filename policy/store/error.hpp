// store/error.hpp: the one exception type every store backend throws.
#pragma once
#include <stdexcept>

namespace mxw::store {

/// Any failure of a store. transient() tells "try again later" (database
/// busy or unreachable, disk full) from a bug or a refused schema, so the
/// MTA keeps mail it could not hand over.
class store_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
    [[nodiscard]] virtual bool transient() const noexcept = 0;
};

}  // namespace mxw::store
