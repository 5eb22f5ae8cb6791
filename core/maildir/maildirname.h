#pragma once

#include <string_view>

namespace mm::maildir {

// BASE of a Maildir file name: everything before the first ':' (Dovecot's own definition,
// maildir_filename_base_cmp in maildir-filename.c). What follows ':' is mutable state.
std::string_view baseOf(std::string_view fileName);

} // namespace mm::maildir
