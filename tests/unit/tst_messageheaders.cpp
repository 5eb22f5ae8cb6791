#include "maildir/messageheaders.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using mm::maildir::MessageHeaders;

class TestMessageHeaders : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void messageId_data();
    void messageId();
    void bodyOffset_data();
    void bodyOffset();
    void chunkedEqualsWhole();
    void limits();
    void readStopsAtBody();
    void json();
};

void TestMessageHeaders::messageId_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QByteArray>("messageId"); // empty = none
    QTest::addColumn<QByteArray>("subject");   // unfolded, empty = none

    QTest::newRow("plain") << QByteArray("Message-ID: <a@b>\nSubject: hi\n\nbody\n")
                           << QByteArray("<a@b>") << QByteArray("hi");
    QTest::newRow("case") << QByteArray("message-id: <a@b>\nSUBJECT: hi\n\n") << QByteArray("<a@b>")
                          << QByteArray("hi");
    QTest::newRow("odd case") << QByteArray("MeSsAgE-iD:<x@y>\n\n") << QByteArray("<x@y>")
                              << QByteArray();
    QTest::newRow("CRLF") << QByteArray("Subject: hi\r\nMessage-Id: <a@b>\r\n\r\nbody\r\n")
                          << QByteArray("<a@b>") << QByteArray("hi");
    QTest::newRow("folded id") << QByteArray("Message-ID:\n <folded@host>\n\n")
                               << QByteArray("<folded@host>") << QByteArray();
    QTest::newRow("folded id CRLF tab")
        << QByteArray("Message-ID:\r\n\t<f@h>  \r\n\r\n") << QByteArray("<f@h>") << QByteArray();
    QTest::newRow("folded subject")
        << QByteArray("Subject: one\n two\n\tthree\nMessage-ID: <m>\n\n") << QByteArray("<m>")
        << QByteArray("one two\tthree");
    QTest::newRow("missing") << QByteArray("Subject: x\n\nMessage-ID: <in-body>\n") << QByteArray()
                             << QByteArray("x");
    QTest::newRow("blank id") << QByteArray("Message-ID:   \n\n") << QByteArray() << QByteArray();
    QTest::newRow("duplicated: first wins")
        << QByteArray("Message-ID: <1>\nMessage-ID: <2>\n\n") << QByteArray("<1>") << QByteArray();
    QTest::newRow("trailing space trimmed")
        << QByteArray("Message-ID: <a@b> \t\n\n") << QByteArray("<a@b>") << QByteArray();
    QTest::newRow("no body, no blank line")
        << QByteArray("Message-ID: <a@b>") << QByteArray("<a@b>") << QByteArray();
    QTest::newRow("mbox From line skipped") << QByteArray("From x@y Mon Jan 1\nMessage-ID: <a>\n\n")
                                            << QByteArray("<a>") << QByteArray();
    QTest::newRow("space before colon")
        << QByteArray("Message-ID : <a>\n\n") << QByteArray("<a>") << QByteArray();
    QTest::newRow("continuation first line ignored")
        << QByteArray(" stray\nMessage-ID: <a>\n\n") << QByteArray("<a>") << QByteArray();
    QTest::newRow("empty message") << QByteArray() << QByteArray() << QByteArray();
    QTest::newRow("prefix name is not the header")
        << QByteArray("Message-IDx: <a>\n\n") << QByteArray() << QByteArray();
    QTest::newRow("binary value") << QByteArray("Message-ID: <\xff\xfe@x>\n\n")
                                  << QByteArray("<\xff\xfe@x>") << QByteArray();
}

void TestMessageHeaders::messageId()
{
    QFETCH(QByteArray, message);
    QFETCH(QByteArray, messageId);
    QFETCH(QByteArray, subject);
    const MessageHeaders h = MessageHeaders::parse(message.toStdString());
    QCOMPARE(QByteArray::fromStdString(h.messageId().value_or(std::string())), messageId);
    QCOMPARE(QByteArray::fromStdString(h.first("subject").value_or(std::string())), subject);
}

void TestMessageHeaders::bodyOffset_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<int>("headerSize");

    QTest::newRow("LF") << QByteArray("A: 1\n\nbody") << 6;
    QTest::newRow("CRLF") << QByteArray("A: 1\r\n\r\nbody") << 8;
    QTest::newRow("mixed") << QByteArray("A: 1\n\r\nbody") << 7;
    QTest::newRow("starts blank") << QByteArray("\nbody") << 1;
    QTest::newRow("starts CRLF blank") << QByteArray("\r\nbody") << 2;
    QTest::newRow("no blank line") << QByteArray("A: 1\nB: 2\n") << 10;
    QTest::newRow("no newline at all") << QByteArray("A: 1") << 4;
    QTest::newRow("body has blank lines") << QByteArray("A: 1\n\n\n\nx") << 6;
    QTest::newRow("whitespace-only line is not blank") << QByteArray("A: 1\n \nB: 2\n\nx") << 13;
}

void TestMessageHeaders::bodyOffset()
{
    QFETCH(QByteArray, message);
    QFETCH(int, headerSize);
    MessageHeaders h;
    const std::size_t used = h.feed(message.toStdString());
    h.finish();
    QCOMPARE(int(h.headerSize()), headerSize);
    QCOMPARE(int(used), headerSize);
}

void TestMessageHeaders::chunkedEqualsWhole()
{
    const std::string msg =
        "Received: from a\r\n\tby b\r\nMessage-ID:\r\n <chunk@x>\r\nSubject: s\r\n"
        "\r\nbody\r\n\r\nmore\r\n";
    const MessageHeaders whole = MessageHeaders::parse(msg);
    for (std::size_t step = 1; step <= msg.size(); ++step) {
        MessageHeaders h;
        std::size_t pos = 0, header = 0;
        while (pos < msg.size() && !h.complete()) {
            const std::string_view chunk = std::string_view(msg).substr(pos, step);
            header += h.feed(chunk);
            pos += chunk.size();
        }
        h.finish();
        QCOMPARE(header, whole.headerSize());
        QCOMPARE(h.messageId(), whole.messageId());
        QCOMPARE(h.fields().size(), whole.fields().size());
        QCOMPARE(*h.first("received"), std::string("from a\tby b"));
    }
    QCOMPARE(msg.substr(whole.headerSize()), std::string("body\r\n\r\nmore\r\n"));
}

void TestMessageHeaders::limits()
{
    // A header far larger than the limit is scanned to its end but not stored.
    std::string msg =
        "Message-ID: <keep>\nX-Big: " + std::string(100000, 'x') + "\nSubject: after\n\nbody";
    const MessageHeaders h = MessageHeaders::parse(msg, 1000);
    QVERIFY(h.truncated());
    QCOMPARE(*h.messageId(), std::string("<keep>"));
    QCOMPARE(h.headerSize(), msg.size() - 4);
    QVERIFY(h.first("X-Big") == std::nullopt);
    QCOMPARE(*h.first("Subject"), std::string("after"));

    // Endless folding stops being stored too.
    std::string folded = "Subject: a\n";
    for (int i = 0; i < 2000; ++i)
        folded += " more\n";
    folded += "\n";
    const MessageHeaders f = MessageHeaders::parse(folded, 1000);
    QVERIFY(f.truncated());
    QVERIFY(f.first("Subject")->size() <= 1000);
    QCOMPARE(f.headerSize(), folded.size());
}

void TestMessageHeaders::readStopsAtBody()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("m")).toStdString();
    {
        std::ofstream out(path, std::ios::binary);
        out << "Message-ID: <file@x>\r\nSubject: t\r\n\r\n";
        out << std::string(10 * 1024 * 1024, 'b'); // a body that must not be read
    }
    const auto h = MessageHeaders::read(path);
    QVERIFY(h);
    QCOMPARE(*h->messageId(), std::string("<file@x>"));
    QCOMPARE(h->headerSize(), std::size_t(36));
    QCOMPARE(MessageHeaders::read(path + "nope").error().code, mm::ErrorCode::NotFound);
    QCOMPARE(MessageHeaders::read(dir.path().toStdString()).error().code,
             mm::ErrorCode::UnsafePath);
    QVERIFY(QFile::link(QString::fromStdString(path), dir.filePath(QStringLiteral("link"))));
    QCOMPARE(MessageHeaders::read(dir.filePath(QStringLiteral("link")).toStdString()).error().code,
             mm::ErrorCode::UnsafePath);
}

void TestMessageHeaders::json()
{
    const MessageHeaders h = MessageHeaders::parse("Message-ID: <a>\nSubject: \xe9t\xe9\n\n");
    const nlohmann::json j = h;
    QCOMPARE(j["schemaVersion"].get<int>(), 1);
    QCOMPARE(j["messageId"].get<std::string>(), std::string("<a>"));
    QCOMPARE(j["fields"].size(), std::size_t(2));
    QVERIFY(j["fields"][1].contains("valueBase64"));
    QVERIFY(!j.dump().empty());
}

QTEST_GUILESS_MAIN(TestMessageHeaders)
#include "tst_messageheaders.moc"
