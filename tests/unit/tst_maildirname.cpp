// Maildir names, flags, Syncthing conflict names and SHA-256: the parsers convert relies on.

#include "maildir/conflictname.h"
#include "maildir/maildirname.h"
#include "maildir/sha256.h"

#include <QtTest>

using namespace mm::maildir;

namespace {
QString q(std::string_view s)
{
    return QString::fromStdString(std::string(s));
}
QByteArray b(std::string_view s)
{
    return QByteArray(s.data(), qsizetype(s.size()));
}
} // namespace

class TestMaildirName : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parse_data();
    void parse();
    void everyByteAtEveryPlace();
    void conflict_data();
    void conflict();
    void syncthingTemp_data();
    void syncthingTemp();
    void collisionName_data();
    void collisionName();
    void withFlags();
    void sha256_data();
    void sha256();
    void sha256Incremental();
};

void TestMaildirName::parse_data()
{
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QString>("problem");
    QTest::addColumn<QByteArray>("base");
    QTest::addColumn<QByteArray>("unique");
    QTest::addColumn<QByteArray>("flags");
    QTest::addColumn<bool>("hasInfo");
    QTest::addColumn<qlonglong>("size");  // -1: none
    QTest::addColumn<qlonglong>("vsize"); // -1: none
    QTest::addColumn<bool>("sorted");

    QTest::newRow("plain") << QByteArray("1700000000.M1P2.host") << "none"
                           << QByteArray("1700000000.M1P2.host")
                           << QByteArray("1700000000.M1P2.host") << QByteArray() << false << -1LL
                           << -1LL << true;
    QTest::newRow("flags") << QByteArray("1700000000.M1P2.host:2,FS") << "none"
                           << QByteArray("1700000000.M1P2.host")
                           << QByteArray("1700000000.M1P2.host") << QByteArray("FS") << true << -1LL
                           << -1LL << true;
    QTest::newRow("sizes") << QByteArray("1.M2P3.h,S=1234,W=1260:2,RS") << "none"
                           << QByteArray("1.M2P3.h,S=1234,W=1260") << QByteArray("1.M2P3.h")
                           << QByteArray("RS") << true << 1234LL << 1260LL << true;
    QTest::newRow("keywords") << QByteArray("1.M2P3.h:2,Sab") << "none" << QByteArray("1.M2P3.h")
                              << QByteArray("1.M2P3.h") << QByteArray("Sab") << true << -1LL << -1LL
                              << true;
    QTest::newRow("no flags") << QByteArray("1.M2P3.h:2,") << "none" << QByteArray("1.M2P3.h")
                              << QByteArray("1.M2P3.h") << QByteArray() << true << -1LL << -1LL
                              << true;
    QTest::newRow("unsorted") << QByteArray("1.h:2,SF") << "none" << QByteArray("1.h")
                              << QByteArray("1.h") << QByteArray("SF") << true << -1LL << -1LL
                              << false;
    QTest::newRow("repeated flag")
        << QByteArray("1.h:2,SS") << "none" << QByteArray("1.h") << QByteArray("1.h")
        << QByteArray("SS") << true << -1LL << -1LL << false;
    QTest::newRow("experimental 1,")
        << QByteArray("1.h:1,xyz") << "none" << QByteArray("1.h") << QByteArray("1.h")
        << QByteArray() << true << -1LL << -1LL << true;
    QTest::newRow("second colon kept in info")
        << QByteArray("1.h:2,S:x") << "bad-flags" << QByteArray("1.h") << QByteArray("1.h")
        << QByteArray() << true << -1LL << -1LL << true;
    QTest::newRow("dotfile") << QByteArray(".hidden") << "dotfile" << QByteArray(".hidden")
                             << QByteArray(".hidden") << QByteArray() << false << -1LL << -1LL
                             << true;
    QTest::newRow("newline") << QByteArray("1.h\nx") << "control-character" << QByteArray("1.h\nx")
                             << QByteArray("1.h\nx") << QByteArray() << false << -1LL << -1LL
                             << true;
    QTest::newRow("not utf-8") << QByteArray("1.h\xff\xfe") << "not-utf8"
                               << QByteArray("1.h\xff\xfe") << QByteArray("1.h\xff\xfe")
                               << QByteArray() << false << -1LL << -1LL << true;
    QTest::newRow("utf-8 ok") << QByteArray("1.h\xc3\xa9t\xc3\xa9") << "none"
                              << QByteArray("1.h\xc3\xa9t\xc3\xa9")
                              << QByteArray("1.h\xc3\xa9t\xc3\xa9") << QByteArray() << false << -1LL
                              << -1LL << true;
    QTest::newRow("overlong utf-8")
        << QByteArray("1.h\xc0\xaf") << "not-utf8" << QByteArray("1.h\xc0\xaf")
        << QByteArray("1.h\xc0\xaf") << QByteArray() << false << -1LL << -1LL << true;
    QTest::newRow("empty base") << QByteArray(":2,S") << "empty-base" << QByteArray()
                                << QByteArray() << QByteArray() << true << -1LL << -1LL << true;
    QTest::newRow("bad info") << QByteArray("1.h:3,S") << "bad-info" << QByteArray("1.h")
                              << QByteArray("1.h") << QByteArray() << true << -1LL << -1LL << true;
    QTest::newRow("info too short")
        << QByteArray("1.h:2") << "bad-info" << QByteArray("1.h") << QByteArray("1.h")
        << QByteArray() << true << -1LL << -1LL << true;
    QTest::newRow("digit flag") << QByteArray("1.h:2,S1") << "bad-flags" << QByteArray("1.h")
                                << QByteArray("1.h") << QByteArray() << true << -1LL << -1LL
                                << true;
    QTest::newRow("bad size") << QByteArray("1.h,S=12x:2,S") << "bad-size"
                              << QByteArray("1.h,S=12x") << QByteArray("1.h") << QByteArray()
                              << true << -1LL << -1LL << true;
    QTest::newRow("empty size") << QByteArray("1.h,S=") << "bad-size" << QByteArray("1.h,S=")
                                << QByteArray("1.h") << QByteArray() << false << -1LL << -1LL
                                << true;
    QTest::newRow("other field ignored")
        << QByteArray("1.h,X=abc") << "none" << QByteArray("1.h,X=abc") << QByteArray("1.h")
        << QByteArray() << false << -1LL << -1LL << true;
    QTest::newRow("conflict copy is a name")
        << QByteArray("1.M2.sync-conflict-20240101-101010-ABCDEFG.h:2,S") << "none"
        << QByteArray("1.M2.sync-conflict-20240101-101010-ABCDEFG.h")
        << QByteArray("1.M2.sync-conflict-20240101-101010-ABCDEFG.h") << QByteArray("S") << true
        << -1LL << -1LL << true;
}

void TestMaildirName::parse()
{
    QFETCH(QByteArray, name);
    QFETCH(QString, problem);
    QFETCH(QByteArray, base);
    QFETCH(QByteArray, unique);
    QFETCH(QByteArray, flags);
    QFETCH(bool, hasInfo);
    QFETCH(qlonglong, size);
    QFETCH(qlonglong, vsize);
    QFETCH(bool, sorted);

    const std::string_view view(name.constData(), std::size_t(name.size()));
    const MaildirName parsed = MaildirName::parse(view);
    QCOMPARE(q(nameProblemName(parsed.problem)), problem);
    QCOMPARE(b(parsed.base), base);
    QCOMPARE(b(baseOf(view)), base);
    QCOMPARE(b(parsed.unique), unique);
    QCOMPARE(parsed.hasInfo, hasInfo);
    if (parsed.valid()) {
        QCOMPARE(b(parsed.flags), flags);
        QCOMPARE(parsed.size ? qlonglong(*parsed.size) : -1LL, size);
        QCOMPARE(parsed.vsize ? qlonglong(*parsed.vsize) : -1LL, vsize);
        QCOMPARE(parsed.flagsSorted, sorted);
    }
}

// parse() looks at eight bytes at a time for a name that is printable ASCII: each byte value at
// each place (in the first word, the last whole word and the tail) gives what a look at every
// byte gives.
void TestMaildirName::everyByteAtEveryPlace()
{
    const std::string plain = "1700000000.M1P2.node1,S=1234:2,S"; // 32 bytes
    const std::string withTail = plain + "R";                         // 33: one byte past a word
    for (const std::string &name : {plain, withTail}) {
        for (const std::size_t at : {std::size_t(1), std::size_t(7), std::size_t(8),
                                     std::size_t(23), name.size() - 1}) {
            for (int value = 1; value < 256; ++value) {
                std::string changed = name;
                changed[at] = char(value);
                const MaildirName parsed = MaildirName::parse(changed);
                const bool control = value < 0x20 || value == 0x7f;
                if (control) {
                    QCOMPARE(q(nameProblemName(parsed.problem)), QStringLiteral("control-character"));
                } else if (value >= 0x80) {
                    // A lone byte above 0x7f is never UTF-8.
                    QCOMPARE(q(nameProblemName(parsed.problem)), QStringLiteral("not-utf8"));
                } else {
                    QVERIFY2(parsed.problem != NameProblem::ControlCharacter &&
                                 parsed.problem != NameProblem::NotUtf8,
                             qPrintable(QStringLiteral("byte %1 at %2").arg(value).arg(at)));
                }
            }
        }
    }
    // Valid UTF-8 across a word boundary is still accepted.
    const std::string utf8 = std::string("1700000") + "\xc3\xa9" + "000.M1P2.node1:2,S";
    QCOMPARE(q(nameProblemName(MaildirName::parse(utf8).problem)), QStringLiteral("none"));
}

void TestMaildirName::conflict_data()
{
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<bool>("isConflict");
    QTest::addColumn<QByteArray>("original");
    QTest::addColumn<QString>("timestamp");
    QTest::addColumn<QString>("device");

    QTest::newRow("maildir name")
        << QByteArray("1700000000.M1P2.sync-conflict-20231114-010203-ABCDEF7.host:2,S") << true
        << QByteArray("1700000000.M1P2.host:2,S") << "20231114-010203"
        << "ABCDEF7";
    QTest::newRow("no extension") << QByteArray("plain.sync-conflict-20240101-000000-AAAAAAA")
                                  << true << QByteArray("plain") << "20240101-000000"
                                  << "AAAAAAA";
    QTest::newRow("nested, last wins")
        << QByteArray(
               "a.sync-conflict-20240101-000000-AAAAAAA.sync-conflict-20240202-000000-BBBBBBB.b")
        << true << QByteArray("a.sync-conflict-20240101-000000-AAAAAAA.b") << "20240202-000000"
        << "BBBBBBB";
    QTest::newRow("plain name") << QByteArray("1700000000.M1P2.host:2,S") << false << QByteArray()
                                << QString() << QString();
    QTest::newRow("lowercase device") << QByteArray("a.sync-conflict-20240101-000000-abcdefg.b")
                                      << false << QByteArray() << QString() << QString();
    QTest::newRow("device with 8") << QByteArray("a.sync-conflict-20240101-000000-ABCDEF8.b")
                                   << false << QByteArray() << QString() << QString();
    QTest::newRow("short date") << QByteArray("a.sync-conflict-2024010-000000-ABCDEFG.b") << false
                                << QByteArray() << QString() << QString();
    QTest::newRow("trailing garbage") << QByteArray("a.sync-conflict-20240101-000000-ABCDEFGx")
                                      << false << QByteArray() << QString() << QString();
    QTest::newRow("marker first") << QByteArray(".sync-conflict-20240101-000000-ABCDEFG") << false
                                  << QByteArray() << QString() << QString();
}

void TestMaildirName::conflict()
{
    QFETCH(QByteArray, name);
    QFETCH(bool, isConflict);
    QFETCH(QByteArray, original);
    QFETCH(QString, timestamp);
    QFETCH(QString, device);
    const auto parsed =
        ConflictName::parse(std::string_view(name.constData(), std::size_t(name.size())));
    QCOMPARE(parsed.has_value(), isConflict);
    if (!parsed)
        return;
    QCOMPARE(b(parsed->original), original);
    QCOMPARE(q(parsed->timestamp), timestamp);
    QCOMPARE(q(parsed->deviceId), device);
}

void TestMaildirName::syncthingTemp_data()
{
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<bool>("isTemp");
    QTest::newRow("unix") << QByteArray(".syncthing.1.M2.h:2,S.tmp") << true;
    QTest::newRow("windows") << QByteArray("~syncthing~1.M2.h.tmp") << true;
    QTest::newRow("no name") << QByteArray(".syncthing..tmp") << false;
    QTest::newRow("message") << QByteArray("1.M2.h:2,S") << false;
    QTest::newRow("other dotfile") << QByteArray(".stfolder") << false;
}

void TestMaildirName::syncthingTemp()
{
    QFETCH(QByteArray, name);
    QFETCH(bool, isTemp);
    QCOMPARE(isSyncthingTempName(std::string_view(name.constData(), std::size_t(name.size()))),
             isTemp);
}

void TestMaildirName::collisionName_data()
{
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QByteArray>("expected");
    const QByteArray hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    Q_UNUSED(hex);
    QTest::newRow("plain") << QByteArray("1.M2P3.h") << QByteArray("1.M2P3.h-mm0123456789abcdef");
    QTest::newRow("flags") << QByteArray("1.M2P3.h:2,S")
                           << QByteArray("1.M2P3.h-mm0123456789abcdef:2,S");
    QTest::newRow("sizes stay parseable")
        << QByteArray("1.M2P3.h,S=10,W=12:2,FS")
        << QByteArray("1.M2P3.h-mm0123456789abcdef,S=10,W=12:2,FS");
}

void TestMaildirName::collisionName()
{
    QFETCH(QByteArray, name);
    QFETCH(QByteArray, expected);
    const std::string hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const std::string out = mm::maildir::collisionName(
        std::string_view(name.constData(), std::size_t(name.size())), hex);
    QCOMPARE(b(out), expected);
    const MaildirName parsed = MaildirName::parse(out);
    QVERIFY(parsed.valid());
    QVERIFY(parsed.base !=
            MaildirName::parse(std::string_view(name.constData(), std::size_t(name.size()))).base);
    QCOMPARE(b(mm::maildir::collisionName("1.h", hex, 64)),
             QByteArray("1.h-mm") + QByteArray::fromStdString(hex));
}

void TestMaildirName::withFlags()
{
    QCOMPARE(b(mm::maildir::withFlags("1.h,S=3:2,S", "TFSF")), QByteArray("1.h,S=3:2,FST"));
    QCOMPARE(b(mm::maildir::withFlags("1.h", "")), QByteArray("1.h:2,"));
}

void TestMaildirName::sha256_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("digest");
    // FIPS 180-4 / NIST CAVS examples.
    QTest::newRow("empty") << QByteArray()
                           << "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    QTest::newRow("abc") << QByteArray("abc")
                         << "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    QTest::newRow("448 bits") << QByteArray(
                                     "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                              << "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
    QTest::newRow("896 bits") << QByteArray(
                                     "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijkl"
                                     "mnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")
                              << "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1";
    QTest::newRow("million a")
        << QByteArray(1000000, 'a')
        << "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    QTest::newRow("55 bytes (padding edge)") << QByteArray(55, 'x') << QString();
    QTest::newRow("64 bytes (block edge)") << QByteArray(64, 'x') << QString();
}

void TestMaildirName::sha256()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, digest);
    const std::string_view view(input.constData(), std::size_t(input.size()));
    const QString mine = q(Sha256::toHex(Sha256::hash(view)));
    const QString qt =
        QString::fromLatin1(QCryptographicHash::hash(input, QCryptographicHash::Sha256).toHex());
    QCOMPARE(mine, qt); // cross-check with an independent implementation
    if (!digest.isEmpty())
        QCOMPARE(mine, digest);
}

void TestMaildirName::sha256Incremental()
{
    // Feeding in odd pieces must give the same digest as one call.
    QByteArray data;
    for (int i = 0; i < 10000; ++i)
        data.append(char(i * 7));
    Sha256 sha;
    qsizetype pos = 0;
    int step = 1;
    while (pos < data.size()) {
        const qsizetype n = std::min<qsizetype>(step, data.size() - pos);
        sha.update(data.constData() + pos, std::size_t(n));
        pos += n;
        step = step * 3 % 131 + 1;
    }
    QCOMPARE(
        q(Sha256::toHex(sha.finish())),
        QString::fromLatin1(QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex()));
}

QTEST_GUILESS_MAIN(TestMaildirName)
#include "tst_maildirname.moc"
