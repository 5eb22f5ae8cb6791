#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

namespace mm::ui {

// A raw header value (Subject, From...) as a person should read it: RFC 2047 encoded words
// ("=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=") decoded, the white space between two of them dropped, and
// 8-bit text that is not UTF-8 read as Latin-1. An encoded word in a charset Qt cannot decode
// is shown as it stands, so nothing is silently lost.
QString decodeHeaderForDisplay(const QByteArray &raw);

// The exact bytes of a field the agent wrote with the path rule (protocol.md, "Paths"):
// `<key>Base64` when present, else `<key>` as UTF-8.
QByteArray rawJsonField(const QJsonObject &object, const QString &key);

} // namespace mm::ui
