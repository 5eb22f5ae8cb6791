#pragma once

#include "common/result.h"
#include "maildir/mailroot.h"
#include "maildir/progress.h"
#include "protocol/probereport.h"

#include <cstdint>
#include <map>
#include <string>

namespace mm::agent {

// The probe's mail-root inventory (protocol.md, "probe"): the Maildirs found by MaildirWalker,
// then one pass over each folder that stats every entry on its directory fd (lstat semantics,
// no content read, no symlink followed). `users` names the owners (uid -> name).
Result<protocol::ProbeReport::Inventory>
takeInventory(const maildir::MailRoot &root, const std::map<std::uint32_t, std::string> &users,
              const maildir::ProgressSink &progress);

} // namespace mm::agent
