#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace mm::protocol {

// Estimates the time left of an operation from its progress reports, assuming the rate seen so
// far continues. Time is passed in, so the arithmetic is testable without clocks.
class EtaEstimator
{
public:
    using Clock = std::chrono::steady_clock;

    explicit EtaEstimator(Clock::time_point start);

    // Seconds left, or nullopt while unknown (no total, nothing done yet, or too early to tell).
    std::optional<double> secondsLeft(std::uint64_t done, std::uint64_t total,
                                      Clock::time_point now) const;

private:
    Clock::time_point m_start;
};

} // namespace mm::protocol
