#include "maildir/subscriptionfiles.h"

#include "maildir/dirreader.h"
#include "maildir/fsutil.h"
#include "maildir/keywordfiles.h"

#include <fcntl.h>

#include <algorithm>
#include <charconv>
#include <tuple>

namespace mm::maildir {

namespace {

constexpr std::string_view kNodeHeader = "mailmesh-subscriptions 1";

std::vector<std::string_view> lines(std::string_view text)
{
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos)
            nl = text.size();
        out.push_back(text.substr(pos, nl - pos));
        pos = nl + 1;
    }
    return out;
}

bool later(const SubscriptionChange &a, const SubscriptionChange &b)
{
    return std::tie(a.seconds, a.nanoseconds, a.node) > std::tie(b.seconds, b.nanoseconds, b.node);
}

void merge(MaildirSubscriptions &out, const std::string &name, SubscriptionChange change)
{
    auto [it, fresh] = out.latest.emplace(name, change);
    if (!fresh && later(change, it->second))
        it->second = std::move(change);
}

// "+1700000000.000000001 name"
bool parseChange(std::string_view line, std::string &name, SubscriptionChange &change)
{
    if (line.size() < 5 || (line[0] != '+' && line[0] != '-'))
        return false;
    change.subscribed = line[0] == '+';
    const char *p = line.data() + 1;
    const char *end = line.data() + line.size();
    auto sec = std::from_chars(p, end, change.seconds);
    if (sec.ec != std::errc() || sec.ptr == p || sec.ptr == end || *sec.ptr != '.')
        return false;
    p = sec.ptr + 1;
    auto nsec = std::from_chars(p, end, change.nanoseconds);
    if (nsec.ec != std::errc() || nsec.ptr == p || change.nanoseconds > 999999999 ||
        change.nanoseconds < 0 || nsec.ptr == end || *nsec.ptr != ' ' || nsec.ptr + 1 == end)
        return false;
    name.assign(nsec.ptr + 1, end);
    return true;
}

} // namespace

std::string escapeSubscriptionName(std::string_view name, char hierarchySeparator)
{
    std::string out;
    for (char c : name) {
        if (c == hierarchySeparator) {
            out += '\t';
            continue;
        }
        switch (c) {
        case '\001':
            out += "\0011";
            break;
        case '\t':
            out += "\001t";
            break;
        case '\r':
            out += "\001r";
            break;
        case '\n':
            out += "\001n";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::vector<std::string> MaildirSubscriptions::subscribed() const
{
    std::vector<std::string> names;
    for (const auto &[name, change] : latest)
        if (change.subscribed)
            names.push_back(name);
    return names; // std::map: already sorted
}

Result<MaildirSubscriptions> readSubscriptions(int maildirFd, std::string_view displayMaildir,
                                               char hierarchySeparator)
{
    MaildirSubscriptions out;
    const std::string baseDisplay = joinRel(displayMaildir, kSubscriptionsFileName);
    auto base = readSmallFileAt(maildirFd, kSubscriptionsFileName, baseDisplay, 16u << 20);
    if (!base)
        return tl::unexpected(base.error());
    if (*base) {
        out.hasBaseFile = true;
        const auto all = lines(**base);
        const bool version2 = !all.empty() && all.front() == "V\t2";
        for (std::size_t i = version2 ? 1 : 0; i < all.size(); ++i) {
            if (all[i].empty())
                continue;
            const std::string name = version2
                                         ? std::string(all[i])
                                         : escapeSubscriptionName(all[i], hierarchySeparator);
            merge(out, name, SubscriptionChange{});
        }
    }

    const std::string dirDisplay = joinRel(displayMaildir, kSubscriptionsNodeDirName);
    auto nodeFiles = readNodeFiles(maildirFd, kSubscriptionsNodeDirName, dirDisplay, 16u << 20);
    if (!nodeFiles)
        return tl::unexpected(nodeFiles.error());
    for (const NodeFile &file : *nodeFiles) {
        out.nodeFiles.push_back(file.name);
        if (!file.text)
            continue;
        const std::string &node = file.name;
        const std::string display = joinRel(dirDisplay, node);
        std::size_t lineNo = 0;
        for (std::string_view line : lines(*file.text)) {
            ++lineNo;
            if (line.empty() || (lineNo == 1 && line == kNodeHeader))
                continue;
            std::string name;
            SubscriptionChange change;
            if (!parseChange(line, name, change)) {
                out.problems.push_back(display + ": line " + std::to_string(lineNo) +
                                       " is not a subscription change, ignored");
                continue;
            }
            change.node = node;
            merge(out, name, std::move(change));
        }
    }
    return out;
}

std::string renderSubscriptionsFile(const std::vector<std::string> &escapedNames)
{
    std::string text = "V\t2\n\n";
    for (const std::string &name : escapedNames)
        text += name + '\n';
    return text;
}

} // namespace mm::maildir
