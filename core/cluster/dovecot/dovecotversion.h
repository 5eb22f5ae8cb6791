#pragma once

#include "node/dovecotversion.h"

#include <QList>
#include <QString>

#include <optional>

namespace mm::cluster {

// A Dovecot version as `dovecot --version` prints it: "2.3.19.1+mailmesh1 (9b53102964)".
// Only the dotted numbers take part in comparisons; the build suffix tells Mailmesh's
// cur/-only build from stock, and the parenthesised part is the git id. The Qt face of
// node::DovecotVersion (core/node/dovecotversion.h), which does the reading; this adds the
// revision the cluster requires.
struct DovecotVersion
{
    QList<int> numbers;  // {2, 3, 19, 1}
    QString suffix;      // "+mailmesh3", "-4+mailmesh3", empty for stock
    QString text;        // the whole line as printed, trimmed

    // nullopt when the text does not start with a dotted number.
    static std::optional<DovecotVersion> parse(const QString &text);

    // "+mailmesh<N>" anywhere in the suffix: 2.4's version carries Debian's revision first
    // ("2.4.1-4+mailmesh3").
    bool isMailmeshBuild() const;
    // The patch's own revision, the number after "+mailmesh" (0: not our build). migrate needs
    // kRequiredRevision on every node: revision 2 keeps each node's new keywords and subscription
    // changes in files of its own (maildir_cur_only_node); revision 3 never reuses a UID when
    // another node's DELETE of a folder is half applied; revision 4 reads a name carrying one
    // keyword under two nodes' letters as one keyword, so a keyword removed elsewhere goes on
    // every node; revision 5 lists no folder without cur/ and never lets a RENAME carry another
    // session's uidlist lock along; revision 6 gives each node UIDVALIDITY values of its own
    // (installers/dovecot/README.md).
    int mailmeshRevision() const;
    static constexpr int kRequiredRevision = 6;
    QString numeric() const; // "2.3.19.1"
    QString line() const;    // major.minor: "2.3", which decides the configuration syntax

    // <0, 0, >0 on the dotted numbers; missing trailing parts count as 0 (2.3.19 == 2.3.19.0).
    static int compare(const DovecotVersion &a, const DovecotVersion &b);

private:
    node::DovecotVersion toNode() const;
};

} // namespace mm::cluster
