// Header values as the duplicates view shows them: RFC 2047 encoded words decoded, raw 8-bit
// text read sensibly, and the path rule's Base64 twin preferred when the agent sent one.

#include "ui/mimeheader.h"

#include <QTest>

using namespace mm;

class TestMimeHeader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void decodesForDisplay_data()
    {
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<QString>("expected");
        QTest::newRow("plain ASCII")
            << QByteArray("Meeting at noon") << QStringLiteral("Meeting at noon");
        QTest::newRow("empty") << QByteArray() << QString();
        QTest::newRow("Q, UTF-8") << QByteArray("=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=")
                                  << QStringLiteral("Grüße aus Köln");
        QTest::newRow("B, UTF-8") << QByteArray("=?utf-8?b?R3LDvMOfZQ==?=")
                                  << QStringLiteral("Grüße");
        QTest::newRow("Latin-1 in a From")
            << QByteArray("=?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.org>")
            << QStringLiteral("Jörg Müller <joerg@example.org>");
        QTest::newRow("windows-1252 quotes")
            << QByteArray("=?windows-1252?Q?=93quoted=94?=") << QStringLiteral("“quoted”");
        QTest::newRow("text around a word") << QByteArray("Re: =?UTF-8?Q?Caf=C3=A9?= tomorrow")
                                            << QStringLiteral("Re: Café tomorrow");
        // RFC 2047, 6.2: white space between two encoded words is dropped...
        QTest::newRow("adjacent words")
            << QByteArray("=?UTF-8?Q?a?= =?UTF-8?Q?b?=") << QStringLiteral("ab");
        QTest::newRow("adjacent words, folded")
            << QByteArray("=?UTF-8?Q?a?=\r\n  =?UTF-8?Q?b?=") << QStringLiteral("ab");
        // ...but not between a word and plain text.
        QTest::newRow("word then text") << QByteArray("=?UTF-8?Q?a?= b") << QStringLiteral("a b");
        // A character split across two words of one charset comes out whole.
        QTest::newRow("a character split across words")
            << QByteArray("=?UTF-8?B?w6k=?= =?UTF-8?B?w6k=?=") << QStringLiteral("éé");
        QTest::newRow("split bytes")
            << QByteArray("=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9t=C3=A9?=") << QStringLiteral("été");
        QTest::newRow("two charsets")
            << QByteArray("=?ISO-8859-1?Q?=E9?= =?UTF-8?Q?=C3=A9?=") << QStringLiteral("éé");
        QTest::newRow("another ISO charset")
            << QByteArray("=?ISO-8859-2?Q?=B3=F3d=BC?=") << QStringLiteral("łódź");
        QTest::newRow("a language tag (RFC 2231)")
            << QByteArray("=?UTF-8*de?Q?Stra=C3=9Fe?=") << QStringLiteral("Straße");
        QTest::newRow("unknown charset stays as it is")
            << QByteArray("=?x-no-such?Q?abc?=") << QStringLiteral("=?x-no-such?Q?abc?=");
        QTest::newRow("not an encoded word")
            << QByteArray("1 =? 2 ?= 3") << QStringLiteral("1 =? 2 ?= 3");
        QTest::newRow("unknown encoding")
            << QByteArray("=?UTF-8?X?abc?=") << QStringLiteral("=?UTF-8?X?abc?=");
        QTest::newRow("raw UTF-8") << QByteArray("Gr\xc3\xbc\xc3\x9f"
                                                 "e")
                                   << QStringLiteral("Grüße");
        QTest::newRow("raw 8-bit Latin-1") << QByteArray("Gr\xfc\xdf"
                                                         "e")
                                           << QStringLiteral("Grüße");
        QTest::newRow("no line breaks in a cell")
            << QByteArray("=?UTF-8?Q?one=0Atwo?=") << QStringLiteral("one two");
    }

    void decodesForDisplay()
    {
        QFETCH(QByteArray, raw);
        QFETCH(QString, expected);
        QCOMPARE(ui::decodeHeaderForDisplay(raw), expected);
    }

    void prefersTheExactBytes()
    {
        QJsonObject headers;
        headers.insert(QStringLiteral("subject"), QStringLiteral("Gr\uFFFD\uFFFDe"));
        headers.insert(QStringLiteral("subjectBase64"), QString::fromLatin1(QByteArray("Gr\xfc\xdf"
                                                                                       "e")
                                                                                .toBase64()));
        headers.insert(QStringLiteral("from"), QStringLiteral("Ann <ann@example.org>"));
        QCOMPARE(ui::rawJsonField(headers, QStringLiteral("subject")), QByteArray("Gr\xfc\xdf"
                                                                                  "e"));
        QCOMPARE(ui::decodeHeaderForDisplay(ui::rawJsonField(headers, QStringLiteral("subject"))),
                 QStringLiteral("Grüße"));
        QCOMPARE(ui::rawJsonField(headers, QStringLiteral("from")),
                 QByteArray("Ann <ann@example.org>"));
        QCOMPARE(ui::rawJsonField(headers, QStringLiteral("date")), QByteArray());
    }
};

QTEST_GUILESS_MAIN(TestMimeHeader)
#include "tst_mimeheader.moc"
