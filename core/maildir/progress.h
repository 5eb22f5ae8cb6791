#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

namespace mm::maildir {

// How a long operation (scan, convert, dupes, manifest...) reports progress and learns that it
// was cancelled, without knowing who listens: the agent's serve loop turns reports into
// `progress` frames, the one-shot CLI into a line with an ETA on stderr, tests into counters.
// Operations call report() at most every few milliseconds' worth of work, and check
// cancelled() between items, leaving the tree consistent when they stop early.
class ProgressSink
{
public:
    using Callback = std::function<void(std::uint64_t done, std::uint64_t total, std::string_view currentItem)>;

    ProgressSink() = default;
    ProgressSink(Callback callback, const std::atomic<bool> *cancelFlag)
        : m_callback(std::move(callback))
        , m_cancelFlag(cancelFlag)
    {
    }

    // total == 0 means "not known yet".
    void report(std::uint64_t done, std::uint64_t total, std::string_view currentItem = {}) const
    {
        if (m_callback)
            m_callback(done, total, currentItem);
    }

    bool cancelled() const { return m_cancelFlag && m_cancelFlag->load(std::memory_order_relaxed); }

    // The same cancel flag with another callback: one step of a larger operation (the probe's
    // inventory walk) stays cancellable while its reports are translated into the caller's unit.
    ProgressSink withCallback(Callback callback) const
    {
        return ProgressSink(std::move(callback), m_cancelFlag);
    }

private:
    Callback m_callback;
    const std::atomic<bool> *m_cancelFlag = nullptr;
};

} // namespace mm::maildir
