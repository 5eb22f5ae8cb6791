// `diag-sleep`: a diagnostic command that does nothing but wait, reporting progress, optionally
// streaming items, and honouring cancel. It touches no file. It exists so that the protocol's
// concurrency, cancel and shutdown paths can be checked on a node (and in tests) without
// depending on the size of a real mail tree.

#include "protocol/command.h"
#include "protocol/params.h"

#include <chrono>
#include <thread>
#include <vector>

namespace mm::agent {

namespace {

constexpr std::int64_t kMaxMilliseconds = 600'000;
constexpr std::int64_t kMaxItems = 100'000;
constexpr auto kTick = std::chrono::milliseconds(20);

Result<nlohmann::json> diagSleep(const nlohmann::json &params,
                                 const maildir::ProgressSink &progress,
                                 const protocol::ItemSink &items)
{
    const auto milliseconds = protocol::optionalInteger(params, "milliseconds", 1000);
    if (!milliseconds)
        return tl::unexpected(milliseconds.error());
    const auto itemCount = protocol::optionalInteger(params, "items", 0);
    if (!itemCount)
        return tl::unexpected(itemCount.error());
    if (*milliseconds < 0 || *milliseconds > kMaxMilliseconds)
        return fail(ErrorCode::BadRequest,
                    "milliseconds must be within 0.." + std::to_string(kMaxMilliseconds));
    if (*itemCount < 0 || *itemCount > kMaxItems)
        return fail(ErrorCode::BadRequest, "items must be within 0.." + std::to_string(kMaxItems));

    const auto start = std::chrono::steady_clock::now();
    const auto total = static_cast<std::uint64_t>(*milliseconds);
    const auto wantedItems = static_cast<std::uint64_t>(*itemCount);
    std::uint64_t sentItems = 0;
    for (;;) {
        if (progress.cancelled())
            return fail(ErrorCode::Cancelled, "diag-sleep was cancelled");
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - start)
                                 .count();
        const std::uint64_t done =
            std::min<std::uint64_t>(static_cast<std::uint64_t>(elapsed), total);
        // Items are spread evenly over the wait, so they interleave with progress frames.
        const std::uint64_t dueItems = total == 0 ? wantedItems : wantedItems * done / total;
        for (; sentItems < dueItems; ++sentItems)
            items.emit({{"index", sentItems}});
        progress.report(done, total, "waiting");
        if (done >= total)
            break;
        std::this_thread::sleep_for(kTick);
    }
    return nlohmann::json{{"sleptMilliseconds", total}, {"items", sentItems}};
}

} // namespace

std::vector<protocol::Command> diagnosticCommands()
{
    protocol::Command sleep;
    sleep.name = "diag-sleep";
    sleep.summary = "diagnostic: wait, reporting progress; changes nothing";
    sleep.options = {
        {"--milliseconds", "milliseconds", protocol::ValueKind::Integer,
         "how long to wait (default 1000)"},
        {"--items", "items", protocol::ValueKind::Integer, "stream this many items while waiting"},
    };
    sleep.run = diagSleep;
    return {std::move(sleep)};
}

} // namespace mm::agent
