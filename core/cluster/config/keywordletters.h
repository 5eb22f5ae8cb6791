#pragma once

#include "cluster/config/clusterconfig.h"

#include <QStringList>

namespace mm::cluster {

// Keyword letters of their own for every node (docs/mailbox-state.md). Maildir names carry a
// message's keywords as letters a-z whose meaning each folder's keyword files give; a node that
// meets a keyword no file names yet gives it one of *its* letters and records that in a file of
// its own, so two nodes never give one letter two meanings, whatever they do at the same moment.
//
// Nodes that have letters keep them (a letter must never change owner behind a running Dovecot).
// Nodes without take, in turn, the letters nobody has; when those run out, nodes with more than
// their share give up their last letters. Returns the ids of the nodes that gave letters away:
// their Dovecot must stop using them (snippet rewritten, reload) before the receiving node
// serves. First assignment on an empty cluster interleaves: node k of N gets a+k, a+k+N, ...
QStringList assignKeywordLetters(ClusterConfig &cluster);

} // namespace mm::cluster
