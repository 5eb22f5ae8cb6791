#pragma once

#include "common/result.h"
#include "maildir/maildirfolder.h"
#include "maildir/mailroot.h"
#include "maildir/problem.h"
#include "maildir/progress.h"

#include <vector>

namespace mm::maildir {

// Every Maildir below ROOT and each of its folders. ROOT may be one Maildir, or any directory
// with Maildirs somewhere below (/var/vmail/domain/user, home directories). Folders are sorted by
// relPath (bytewise), so every node lists them in the same order.
struct MaildirTree
{
    std::vector<MaildirFolder> folders;
    std::vector<Problem> problems;
    std::size_t maildirCount = 0;
};

// Finds Maildirs without ever following a symlink or crossing into another filesystem. A
// directory is a Maildir (or a folder of one) when it has cur/ or new/; Maildir++ folders are the
// ".Name" directories of a Maildir, LAYOUT=fs folders its other subdirectories holding cur/ or
// new/. Syncthing's .stfolder/.stversions and Mailmesh's .mailmesh-state are never entered, nor
// the canary's ROOT/.mailmesh-canary (canarydir.h).
// Does not read cur/ or new/ (scan does): the walk costs a few system calls per directory.
class MaildirWalker
{
public:
    static constexpr int kMaxDepth = 32;

    static Result<MaildirTree> walk(const MailRoot &root, const ProgressSink &progress = {});

    // Looks at one directory's cur/new/tmp (fills state, brokenReason, hasTmp). Returns false when
    // the directory has neither cur nor new, i.e. is not a Maildir folder at all.
    static bool inspectFolder(int dirfd, MaildirFolder &folder);
    // A broken folder whose only fault is that `new` is missing beside its cur/ directory: what
    // a folder deleted on one node while another node added a message to it is left as on a
    // cur/-only cluster (docs/mailbox-state.md). convert makes the link, revert the directory.
    static bool lacksOnlyNew(int dirfd);
};

} // namespace mm::maildir
