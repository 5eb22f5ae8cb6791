#include "maildir/maildirname.h"

namespace mm::maildir {

std::string_view baseOf(std::string_view fileName)
{
    return fileName.substr(0, fileName.find(':'));
}

} // namespace mm::maildir
