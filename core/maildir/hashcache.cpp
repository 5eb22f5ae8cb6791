#include "maildir/hashcache.h"

#include "maildir/memoformat.h"
#include "maildir/sha256.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace mm::maildir {

HashCache::HashCache(std::string cacheDir, const std::string &folderRelPath)
    : m_dir(std::move(cacheDir))
{
    if (!m_dir.empty())
        m_file = m_dir + "/" + Sha256::toHex(Sha256::hash(folderRelPath)).substr(0, 32) + ".tsv";
}

void HashCache::load()
{
    m_entries.clear();
    if (m_file.empty())
        return;
    std::unique_ptr<FILE, int (*)(FILE *)> f(std::fopen(m_file.c_str(), "rbe"), &std::fclose);
    if (!f)
        return;
    char *line = nullptr;
    std::size_t cap = 0;
    ssize_t n;
    while ((n = ::getline(&line, &cap, f.get())) > 0) {
        std::string_view l(line, static_cast<std::size_t>(n));
        if (l.back() != '\n')
            break; // torn last line
        l.remove_suffix(1);
        Entry e;
        const char *p = l.data(), *end = l.data() + l.size();
        auto r1 = std::from_chars(p, end, e.mtimeNs);
        if (r1.ec != std::errc() || r1.ptr == end || *r1.ptr != ' ')
            continue;
        auto r2 = std::from_chars(r1.ptr + 1, end, e.size);
        if (r2.ec != std::errc() || end - r2.ptr < 66 || *r2.ptr != ' ' || r2.ptr[65] != ' ')
            continue;
        e.sha256.assign(r2.ptr + 1, 64);
        std::string base(r2.ptr + 66, end);
        if (base.empty())
            continue;
        m_entries[std::move(base)].push_back(std::move(e));
    }
    std::free(line);
    m_loadedAny = !m_entries.empty();
}

std::optional<std::string> HashCache::lookup(std::string_view base, std::uint64_t size,
                                             std::int64_t mtimeNs) const
{
    const auto it = m_entries.find(std::string(base));
    if (it != m_entries.end())
        for (const Entry &e : it->second)
            if (e.size == size && e.mtimeNs == mtimeNs) {
                ++m_hits;
                const_cast<Entry &>(e).used = true;
                return e.sha256;
            }
    ++m_misses;
    return std::nullopt;
}

void HashCache::store(std::string_view base, std::uint64_t size, std::int64_t mtimeNs,
                      std::string sha256)
{
    // A name with a newline cannot be a line of this file; such a message is simply not cached.
    if (base.find('\n') != std::string_view::npos || sha256.size() != 64)
        return;
    auto &list = m_entries[std::string(base)];
    Entry *slot = nullptr;
    for (Entry &old : list)
        if (old.size == size && old.mtimeNs == mtimeNs)
            slot = &old;
    Entry &e = slot ? *slot : list.emplace_back();
    e.size = size;
    e.mtimeNs = mtimeNs;
    e.sha256 = std::move(sha256);
    e.used = true;
    m_changed = true;
}

Status HashCache::save()
{
    if (m_file.empty())
        return {};
    for (const auto &[base, list] : m_entries)
        for (const Entry &e : list)
            m_changed = m_changed || !e.used;
    if (!m_changed)
        return {};
    if (::mkdir(m_dir.c_str(), 0700) != 0 && errno != EEXIST)
        return fail(ErrorCode::IoError, m_dir + ": cannot create: " + std::strerror(errno), m_dir);
    std::string text;
    text.reserve(m_entries.size() * 120);
    for (const auto &[base, list] : m_entries)
        for (const Entry &e : list) {
            if (!e.used)
                continue;
            text += std::to_string(e.mtimeNs);
            text += ' ';
            text += std::to_string(e.size);
            text += ' ';
            text += e.sha256;
            text += ' ';
            text += base;
            text += '\n';
        }
    if (Status written = replaceFileAtomically(m_file, text); !written)
        return written;
    m_changed = false;
    return {};
}

} // namespace mm::maildir
