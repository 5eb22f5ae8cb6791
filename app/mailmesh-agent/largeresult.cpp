#include "largeresult.h"

#include <algorithm>

namespace mm::agent {

namespace {

// Counts the bytes nlohmann would write, without building the text.
class CountingAdapter : public nlohmann::detail::output_adapter_protocol<char>
{
public:
    explicit CountingAdapter(std::size_t &count)
        : m_count(count)
    {
    }
    void write_character(char) override { ++m_count; }
    void write_characters(const char *, std::size_t length) override { m_count += length; }

private:
    std::size_t &m_count;
};

// The arrays of one element, cut into parts of at most kItemBudget bytes each.
void emitInParts(const nlohmann::json &element, const std::string &itemKey, const protocol::ItemSink &items,
                 std::size_t &emitted)
{
    nlohmann::json base = nlohmann::json::object();
    std::vector<std::string> arrays;
    for (auto it = element.begin(); it != element.end(); ++it) {
        if (it->is_array())
            arrays.push_back(it.key());
        else
            base[it.key()] = *it;
    }
    const std::size_t baseSize = dumpedSize(base) + 64;
    // Where each part ends: (array index, element index) of its first element.
    struct Cut
    {
        std::size_t array, index;
    };
    std::vector<Cut> cuts{{0, 0}};
    std::size_t size = baseSize;
    for (std::size_t a = 0; a < arrays.size(); ++a) {
        const nlohmann::json &values = element.at(arrays[a]);
        for (std::size_t i = 0; i < values.size(); ++i) {
            const std::size_t valueSize = dumpedSize(values[i]) + 1;
            if (size + valueSize > kItemBudget && size > baseSize) {
                cuts.push_back({a, i});
                size = baseSize;
            }
            size += valueSize;
        }
    }
    const std::size_t parts = cuts.size();
    for (std::size_t part = 0; part < parts; ++part) {
        nlohmann::json piece = base;
        const Cut begin = cuts[part];
        const Cut end = part + 1 < parts ? cuts[part + 1] : Cut{arrays.size(), 0};
        for (std::size_t a = 0; a < arrays.size(); ++a) {
            const nlohmann::json &values = element.at(arrays[a]);
            const std::size_t from = a < begin.array ? values.size() : a == begin.array ? begin.index : 0;
            const std::size_t to = a < end.array ? values.size() : a == end.array ? end.index : 0;
            piece[arrays[a]] = nlohmann::json::array();
            for (std::size_t i = from; i < to && i < values.size(); ++i)
                piece[arrays[a]].push_back(values[i]);
        }
        piece["part"] = part;
        piece["parts"] = parts;
        items.emit({{itemKey, std::move(piece)}});
        ++emitted;
    }
}

// The bytes nlohmann writes for a string: its own bytes when they are printable ASCII other than
// '"' and '\\' (names, digests, paths), else at most 6 a byte ("\u001f", or U+FFFD for a byte
// that is not UTF-8).
std::size_t stringSizeBound(const std::string &text)
{
    for (const char ch : text)
        if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\')
            return 6 * text.size() + 2;
    return text.size() + 2;
}

// At least as many bytes as nlohmann would write for `value`, with a number counted as 32: a
// walk of the tree that formats nothing, so that the usual answer, far below kStreamAbove, is
// not written out once just to be measured.
std::size_t dumpedSizeBound(const nlohmann::json &value)
{
    switch (value.type()) {
    case nlohmann::json::value_t::object: {
        std::size_t size = 2;
        for (auto it = value.begin(); it != value.end(); ++it)
            size += stringSizeBound(it.key()) + 2 + dumpedSizeBound(*it);
        return size;
    }
    case nlohmann::json::value_t::array: {
        std::size_t size = 2;
        for (const auto &element : value)
            size += dumpedSizeBound(element) + 1;
        return size;
    }
    case nlohmann::json::value_t::string:
        return stringSizeBound(value.get_ref<const std::string &>());
    case nlohmann::json::value_t::binary:
        return 64 + 4 * value.get_binary().size(); // "bytes":[n,...] and "subtype"
    default:
        return 32; // numbers, booleans, null
    }
}

} // namespace

std::size_t problemCount(const nlohmann::json &result, const std::string &kind)
{
    std::size_t count = 0;
    if (const auto problems = result.find("problems"); problems != result.end() && problems->is_array())
        for (const auto &p : *problems)
            count += kind.empty() || (p.is_object() && p.value("kind", std::string()) == kind) ? 1 : 0;
    if (const auto streamed = result.find("streamed"); streamed != result.end() && streamed->is_object()) {
        if (const auto kinds = streamed->find("problemKinds"); kinds != streamed->end() && kinds->is_object()) {
            for (auto it = kinds->begin(); it != kinds->end(); ++it)
                if (kind.empty() || it.key() == kind)
                    count += it->is_number_unsigned() ? it->get<std::size_t>() : 0;
        }
    }
    return count;
}

std::size_t dumpedSize(const nlohmann::json &value)
{
    std::size_t count = 0;
    nlohmann::detail::serializer<nlohmann::json> serializer(
        std::make_shared<CountingAdapter>(count), ' ', nlohmann::json::error_handler_t::replace);
    serializer.dump(value, false, false, 0);
    return count;
}

nlohmann::json streamIfLarge(nlohmann::json result, const protocol::ItemSink &items,
                             const std::vector<StreamedList> &lists)
{
    if (dumpedSizeBound(result) <= kStreamAbove)
        return result; // surely small enough: no need to measure it exactly
    // Measured element by element: the whole document is never written out just to see.
    std::size_t total = 0;
    for (auto it = result.begin(); it != result.end(); ++it) {
        const bool listed = std::any_of(lists.begin(), lists.end(),
                                        [&](const StreamedList &list) { return list.key == it.key(); });
        if (!listed || !it->is_array()) {
            total += dumpedSize(*it) + it.key().size() + 4;
            continue;
        }
        for (const auto &element : *it)
            total += dumpedSize(element) + 1;
        if (total > kStreamAbove)
            break;
    }
    if (total <= kStreamAbove)
        return result;
    nlohmann::json streamed = nlohmann::json::object();
    nlohmann::json names = nlohmann::json::object();
    for (const StreamedList &list : lists) {
        std::size_t emitted = 0;
        auto found = result.find(list.key);
        if (found != result.end() && found->is_array()) {
            for (auto &element : *found) {
                if (element.is_object() && dumpedSize(element) > kItemBudget) {
                    emitInParts(element, list.itemKey, items, emitted);
                    continue;
                }
                if (list.key == "problems") {
                    const std::string kind =
                        element.is_object() ? element.value("kind", std::string()) : std::string();
                    auto &count = streamed["problemKinds"][kind];
                    count = count.is_null() ? 1 : count.get<std::size_t>() + 1;
                }
                items.emit({{list.itemKey, std::move(element)}});
                ++emitted;
            }
            result.erase(found);
        }
        streamed[list.itemKey + "Items"] = emitted;
        names[list.itemKey] = list.key;
    }
    streamed["lists"] = std::move(names);
    result["streamed"] = std::move(streamed);
    return result;
}

} // namespace mm::agent
