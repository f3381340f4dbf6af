// tests/store/pg_env.hpp: the PostgreSQL server every pg_store_tests case
// runs against, named by MXW_PG_URL (integration/pg_store_test.sh starts
// one). Without it a case fails: it never passes by skipping.
#pragma once
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace mxw::test {

inline std::string pg_url()
{
    const char* url = std::getenv("MXW_PG_URL");
    if (!url || !*url)
        throw std::runtime_error("MXW_PG_URL is not set: pg_store_tests needs a PostgreSQL server"
                                 " (tests/integration/pg_store_test.sh starts one)");
    return url;
}

}  // namespace mxw::test
