#include "ui/mimeheader.h"

#include <QStringDecoder>

#include <array>
#include <optional>

namespace mm::ui {

namespace {

// Windows-1252's 0x80-0x9F, which mail labelled ISO-8859-1 often really is; 0 where undefined.
constexpr std::array<char16_t, 32> kWindows1252High{
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

QString fromWindows1252(const QByteArray &bytes)
{
    QString text;
    text.reserve(bytes.size());
    for (const char byte : bytes) {
        const auto code = static_cast<unsigned char>(byte);
        const char16_t high = code >= 0x80 && code < 0xA0 ? kWindows1252High[code - 0x80] : 0;
        text += QChar(high ? high : char16_t(code));
    }
    return text;
}

// Bytes in a named charset; nullopt when neither Qt nor the table above knows it.
std::optional<QString> decodeCharset(const QByteArray &charset, const QByteArray &bytes)
{
    const QByteArray name = charset.toLower();
    // Latin-1 labels get Windows-1252's printable C1 range: what senders meant in practice.
    if (name == "iso-8859-1" || name == "latin1" || name == "windows-1252" || name == "cp1252")
        return fromWindows1252(bytes);
    if (name == "us-ascii" || name == "ascii")
        return QString::fromLatin1(bytes);
    QStringDecoder decoder(name.constData());
    if (!decoder.isValid())
        return std::nullopt;
    QString text = decoder.decode(bytes);
    return text;
}

// Text outside encoded words: UTF-8 when it is valid, else Latin-1 (old 8-bit mailers).
QString decodePlain(const QByteArray &bytes)
{
    QStringDecoder utf8(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QString text = utf8.decode(bytes);
    return utf8.hasError() ? fromWindows1252(bytes) : text;
}

struct EncodedWord
{
    qsizetype begin = 0;
    qsizetype end = 0; // one past the closing "?="
    QByteArray charset;
    QByteArray bytes; // the decoded octets, still in charset
};

QByteArray decodeQ(const QByteArray &text)
{
    QByteArray out;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char c = text.at(i);
        if (c == '_') {
            out += ' ';
        } else if (c == '=' && i + 2 < text.size()) {
            bool ok = false;
            const int value = text.mid(i + 1, 2).toInt(&ok, 16);
            out += ok ? char(value) : c;
            if (ok)
                i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

// The encoded word starting at `from` ("=?charset?B|Q?text?="), if it is one.
std::optional<EncodedWord> encodedWordAt(const QByteArray &raw, qsizetype from)
{
    if (!raw.mid(from, 2).startsWith("=?"))
        return std::nullopt;
    const qsizetype charsetEnd = raw.indexOf('?', from + 2);
    if (charsetEnd < 0 || charsetEnd + 2 >= raw.size() || raw.at(charsetEnd + 2) != '?')
        return std::nullopt;
    const char encoding = raw.at(charsetEnd + 1);
    const qsizetype textEnd = raw.indexOf("?=", charsetEnd + 3);
    if (textEnd < 0)
        return std::nullopt;
    const QByteArray text = raw.mid(charsetEnd + 3, textEnd - charsetEnd - 3);
    if (text.contains(' ') || text.contains('\t') || text.contains('?'))
        return std::nullopt;
    EncodedWord word;
    word.begin = from;
    word.end = textEnd + 2;
    word.charset = raw.mid(from + 2, charsetEnd - from - 2);
    if (const qsizetype star = word.charset.indexOf('*'); star >= 0) // RFC 2231 language tag
        word.charset.truncate(star);
    if (encoding == 'B' || encoding == 'b') {
        auto decoded = QByteArray::fromBase64Encoding(text);
        if (!decoded)
            return std::nullopt;
        word.bytes = *decoded;
    } else if (encoding == 'Q' || encoding == 'q') {
        word.bytes = decodeQ(text);
    } else {
        return std::nullopt;
    }
    if (word.charset.isEmpty())
        return std::nullopt;
    return word;
}

bool isOnlyWhiteSpace(const QByteArray &bytes)
{
    for (const char c : bytes)
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return false;
    return true;
}

} // namespace

QString decodeHeaderForDisplay(const QByteArray &raw)
{
    QString text;
    qsizetype plainFrom = 0;
    // Consecutive encoded words of one charset are decoded together: a character may be split
    // across two of them.
    QByteArray pendingCharset, pendingBytes, pendingRaw;
    const auto flushPending = [&] {
        if (pendingRaw.isEmpty())
            return;
        const std::optional<QString> decoded = decodeCharset(pendingCharset, pendingBytes);
        text += decoded ? *decoded : QString::fromLatin1(pendingRaw);
        pendingCharset.clear();
        pendingBytes.clear();
        pendingRaw.clear();
    };
    for (qsizetype at = raw.indexOf("=?"); at >= 0; at = raw.indexOf("=?", at)) {
        const std::optional<EncodedWord> word = encodedWordAt(raw, at);
        if (!word) {
            at += 2;
            continue;
        }
        const QByteArray between = raw.mid(plainFrom, word->begin - plainFrom);
        // White space between two encoded words is not part of the text (RFC 2047, 6.2).
        if (!(isOnlyWhiteSpace(between) && !pendingRaw.isEmpty())) {
            flushPending();
            text += decodePlain(between);
        }
        if (!pendingRaw.isEmpty() &&
            word->charset.compare(pendingCharset, Qt::CaseInsensitive) != 0)
            flushPending();
        pendingCharset = word->charset;
        pendingBytes += word->bytes;
        pendingRaw += raw.mid(word->begin, word->end - word->begin);
        plainFrom = at = word->end;
    }
    flushPending();
    text += decodePlain(raw.mid(plainFrom));
    // Control characters (a decoded CR or LF included) would break a table row.
    for (QChar &c : text)
        if (c.category() == QChar::Other_Control)
            c = QLatin1Char(' ');
    return text;
}

QByteArray rawJsonField(const QJsonObject &object, const QString &key)
{
    const QJsonValue base64 = object.value(key + QStringLiteral("Base64"));
    if (base64.isString())
        return QByteArray::fromBase64(base64.toString().toLatin1());
    return object.value(key).toString().toUtf8();
}

} // namespace mm::ui
