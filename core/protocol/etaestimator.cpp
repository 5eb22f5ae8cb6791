#include "protocol/etaestimator.h"

namespace mm::protocol {

namespace {
// Below this, a rate is mostly start-up cost and the estimate would jump around.
constexpr std::chrono::milliseconds kMinimumElapsed{500};
} // namespace

EtaEstimator::EtaEstimator(Clock::time_point start)
    : m_start(start)
{
}

std::optional<double> EtaEstimator::secondsLeft(std::uint64_t done, std::uint64_t total,
                                                Clock::time_point now) const
{
    if (total == 0 || done == 0)
        return std::nullopt;
    if (done >= total)
        return 0.0;
    const auto elapsed = now - m_start;
    if (elapsed < kMinimumElapsed)
        return std::nullopt;
    const double seconds = std::chrono::duration<double>(elapsed).count();
    return seconds * static_cast<double>(total - done) / static_cast<double>(done);
}

} // namespace mm::protocol
