#include "maildir/dircache.h"

#include "maildir/fsutil.h"

#include <fcntl.h>

#include <cerrno>

namespace mm::maildir {

DirCache::DirCache(int rootFd, std::string displayRoot, std::size_t maxEntries)
    : m_rootFd(rootFd)
    , m_displayRoot(std::move(displayRoot))
    , m_maxEntries(maxEntries == 0 ? 1 : maxEntries)
{
}

Result<DirCache::Dir> DirCache::open(std::string_view relPath)
{
    // "a//b/", "./a" name what openDirBeneath would open ("a/b", "a"): one key for each
    // directory. ".." is refused wherever it is.
    std::string key;
    key.reserve(relPath.size());
    std::size_t pos = 0;
    while (pos < relPath.size()) {
        std::size_t slash = relPath.find('/', pos);
        if (slash == std::string_view::npos)
            slash = relPath.size();
        const std::string_view component = relPath.substr(pos, slash - pos);
        pos = slash + 1;
        if (component.empty() || component == ".")
            continue;
        if (component == "..")
            return fail(ErrorCode::UnsafePath, "'..' in a path below the mail root", std::string(relPath));
        if (!key.empty())
            key.push_back('/');
        key.append(component);
    }
    return openNormal(key);
}

Result<DirCache::Dir> DirCache::openNormal(const std::string &key)
{
    if (const auto it = m_dirs.find(key); it != m_dirs.end())
        return it->second;
    UniqueFd fd;
    if (key.empty()) {
        // A new open file description, not a dup: a dup would share the directory read offset.
        fd.reset(::openat(m_rootFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd.valid())
            return fail(errnoError(errno, "dup", m_displayRoot));
    } else {
        const std::size_t slash = key.rfind('/');
        auto parent = openNormal(slash == std::string::npos ? std::string() : key.substr(0, slash));
        if (!parent)
            return fail(parent.error());
        const std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
        // Never follows a symlink: the walk stays below the root.
        auto opened = openDirAt((*parent)->get(), name.c_str(), joinRel(m_displayRoot, key));
        if (!opened)
            return fail(opened.error());
        fd = std::move(*opened);
    }
    if (m_dirs.size() >= m_maxEntries)
        m_dirs.clear();
    Dir dir = std::make_shared<const UniqueFd>(std::move(fd));
    m_dirs.emplace(key, dir);
    return dir;
}

} // namespace mm::maildir
