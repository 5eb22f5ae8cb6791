#pragma once

#include "protocol/itemsink.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace mm::agent {

// Answers that would not fit in one frame go out as `item` frames before their result
// (protocol.md, "Large answers"), so that a command that changed a million files never fails
// to report it afterwards.
inline constexpr std::size_t kStreamAbove = 8u << 20; // a result larger than this is streamed
inline constexpr std::size_t kItemBudget = 4u << 20;  // no item is larger than this

// One list of a result: its key in the result ("folders") and the key of its items ("folder").
struct StreamedList
{
    std::string key;
    std::string itemKey;
};

// `result` as it is when it is small enough; otherwise every list in `lists` is sent as items,
// one per element ({"folder": {...}}), and replaced in the result by
//   "streamed": {"folderItems": n, ..., "lists": {"folder": "folders", ...}}
// (with "problemKinds": {"action-failed": n, ...} when the problems went out as items).
// An element larger than kItemBudget is split into parts: the element's other fields repeated,
// its arrays cut into slices, and "part"/"parts" added; a reader concatenates the arrays of
// consecutive parts.
nlohmann::json streamIfLarge(nlohmann::json result, const protocol::ItemSink &items,
                             const std::vector<StreamedList> &lists);

// How many problems of `kind` a result holds, in "problems" or (streamed) in
// "streamed.problemKinds"; an empty kind counts every problem. The exit codes are computed
// from this, so they do not change when an answer is streamed.
std::size_t problemCount(const nlohmann::json &result, const std::string &kind = {});

// The serialised size of a JSON value, as the frame writer would write it.
std::size_t dumpedSize(const nlohmann::json &value);

} // namespace mm::agent
