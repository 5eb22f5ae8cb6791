#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <utility>

namespace mm::protocol {

// Where a command streams the parts of a large answer (a manifest sends one item per folder):
// `serve` turns each into an `item` frame sent before the final `result`, the one-shot CLI
// prints each as a JSON line. Commands with a single document never touch it.
class ItemSink
{
public:
    using Callback = std::function<void(nlohmann::json item)>;

    ItemSink() = default;
    explicit ItemSink(Callback callback)
        : m_callback(std::move(callback))
    {
    }

    void emit(nlohmann::json item) const
    {
        if (m_callback)
            m_callback(std::move(item));
    }

private:
    Callback m_callback;
};

} // namespace mm::protocol
