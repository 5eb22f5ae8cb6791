#pragma once

namespace mm::maildir {

// The name beside `new` used to swap it atomically (renameat2 RENAME_EXCHANGE) between a directory
// and the symlink "cur". It has no leading dot, so Dovecot's Maildir++ listing never takes it for
// a folder, and it lives for a few system calls; convert and revert both finish a swap a killed
// run left behind when they find it.
inline constexpr const char *kNewSwapName = "new.mailmesh-swap";

} // namespace mm::maildir
