#pragma once

#include "common/result.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mm::maildir {

// A Maildir's subscriptions as the patched Dovecot reads them with maildir_cur_only_node
// (docs/mailbox-state.md): the subscriptions file (written by Dovecot before the cluster, never
// again) overridden, name by name, by the latest change any node recorded in
// subscriptions.d/<node>. A node file's lines are "+<sec>.<nsec> <name>" (subscribed) or
// "-<sec>.<nsec> <name>", after the header "mailmesh-subscriptions 1". Names are kept as Dovecot
// writes them in a version 2 file: each hierarchy level tab-escaped, levels joined by a tab.
inline constexpr const char *kSubscriptionsFileName = "subscriptions";
inline constexpr const char *kSubscriptionsNodeDirName = "subscriptions.d";

struct SubscriptionChange
{
    bool subscribed = true;
    std::int64_t seconds = 0; // 0.0 for the subscriptions file
    std::int64_t nanoseconds = 0;
    std::string node; // "" for the subscriptions file
};

struct MaildirSubscriptions
{
    bool hasBaseFile = false;
    std::vector<std::string> nodeFiles;            // sorted
    std::map<std::string, SubscriptionChange> latest; // escaped name -> the change that counts
    std::vector<std::string> problems;             // lines that were not understood

    // Escaped names, sorted.
    std::vector<std::string> subscribed() const;
};

// Reads ROOT-relative Maildir's subscription files below maildirFd, never following a symlink.
// hierarchySeparator turns a version 1 file's names into escaped ones ('.' for Maildir++).
Result<MaildirSubscriptions> readSubscriptions(int maildirFd, std::string_view displayMaildir,
                                               char hierarchySeparator);

// Dovecot's version 2 subscriptions file for these escaped names.
std::string renderSubscriptionsFile(const std::vector<std::string> &escapedNames);

// One hierarchy level as Dovecot escapes it (\001 -> \0011, \t -> \001t, \r -> \001r,
// \n -> \001n); a whole name is its levels so escaped, joined by '\t'.
std::string escapeSubscriptionName(std::string_view name, char hierarchySeparator);

} // namespace mm::maildir
