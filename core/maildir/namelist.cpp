#include "maildir/namelist.h"

#include <algorithm>

namespace mm::maildir {

void NameList::sort()
{
    const char *base = m_bytes.data();
    std::sort(m_offsets.begin(), m_offsets.end(), [base](const Span &a, const Span &b) {
        return std::string_view(base + a.offset, a.length) <
               std::string_view(base + b.offset, b.length);
    });
}

} // namespace mm::maildir
