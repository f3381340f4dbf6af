// engine/ttl_cache.hpp: a bounded map whose entries expire. Keys are chosen
// by peers (sender domains, client addresses), so the size is capped: when
// full, expired entries go first, then an arbitrary eighth of the rest. That
// keeps memory fixed without a second index structure per entry.
#pragma once
#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>

namespace mxw::engine {

template <class Value, class Clock = std::chrono::steady_clock>
class ttl_cache {
public:
    using time_point = typename Clock::time_point;

    explicit ttl_cache(std::size_t max_entries) : max_(max_entries) {}

    /// The live entry for `key`, or nullptr. The pointer is valid until the
    /// next put().
    const Value* find(const std::string& key, time_point now)
    {
        auto it = map_.find(key);
        if (it == map_.end())
            return nullptr;
        if (it->second.expiry <= now) {
            map_.erase(it);
            return nullptr;
        }
        return &it->second.value;
    }

    void put(const std::string& key, Value v, time_point expiry, time_point now)
    {
        if (max_ == 0 || expiry <= now)
            return;
        if (map_.size() >= max_ && map_.find(key) == map_.end())
            make_room(now);
        map_.insert_or_assign(key, entry{std::move(v), expiry});
    }

    [[nodiscard]] std::size_t size() const noexcept { return map_.size(); }

private:
    struct entry {
        Value value;
        time_point expiry;
    };

    void make_room(time_point now)
    {
        std::erase_if(map_, [now](const auto& kv) { return kv.second.expiry <= now; });
        std::size_t drop = map_.size() >= max_ ? max_ / 8 + 1 : 0;
        for (auto it = map_.begin(); drop > 0 && it != map_.end(); --drop)
            it = map_.erase(it);
    }

    std::size_t max_;
    std::unordered_map<std::string, entry> map_;
};

}  // namespace mxw::engine
