#include "remote/syncthingtunnel.h"

#include "remote/sshsession.h"
#include "remote/syncthingclient.h"

#include <QHostAddress>
#include <QXmlStreamReader>

namespace mm::remote {

SyncthingTunnel::SyncthingTunnel(SshSession *session, SyncthingClient *client,
                                 QString syncthingHome, QString runAs, QObject *parent)
    : QObject(parent)
    , m_session(session)
    , m_client(client)
    , m_home(std::move(syncthingHome))
    , m_runAs(std::move(runAs))
{
}

SyncthingTunnel::~SyncthingTunnel()
{
    close();
}

Result<SyncthingTunnel::GuiConfig> SyncthingTunnel::parseConfig(const QByteArray &configXml)
{
    QXmlStreamReader xml(configXml);
    GuiConfig config;
    QString address;
    bool inGui = false;
    bool sawGui = false;
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isStartElement()) {
            if (xml.name() == QLatin1String("gui") && !inGui) {
                inGui = sawGui = true;
                const QString tls = xml.attributes().value(QLatin1String("tls")).toString();
                config.tls = tls == QLatin1String("true");
            } else if (inGui && xml.name() == QLatin1String("address")) {
                address = xml.readElementText().trimmed();
            } else if (inGui && xml.name() == QLatin1String("apikey")) {
                config.apiKey = xml.readElementText().trimmed().toUtf8();
            }
        } else if (xml.isEndElement() && xml.name() == QLatin1String("gui")) {
            inGui = false;
        }
    }
    if (xml.hasError())
        return fail(ErrorCode::InvalidData,
                    QStringLiteral("Syncthing's config.xml cannot be read: %1")
                        .arg(xml.errorString())
                        .toStdString());
    if (!sawGui || address.isEmpty())
        return fail(ErrorCode::InvalidData, "Syncthing's config.xml has no GUI address");
    if (config.apiKey.isEmpty())
        return fail(ErrorCode::InvalidData,
                    "Syncthing's config.xml has no API key: set one on the node");
    if (address.startsWith(QLatin1Char('/')) || address.startsWith(QLatin1String("unix")))
        return fail(ErrorCode::Unsupported,
                    QStringLiteral(
                        "Syncthing's GUI listens on a unix socket (%1): use a loopback TCP address")
                        .arg(address)
                        .toStdString());
    const qsizetype colon = address.lastIndexOf(QLatin1Char(':'));
    bool ok = false;
    const int port = colon > 0 ? address.mid(colon + 1).toInt(&ok) : 0;
    if (!ok || port <= 0 || port > 65535)
        return fail(ErrorCode::InvalidData,
                    QStringLiteral("Syncthing's GUI address \"%1\" has no port")
                        .arg(address)
                        .toStdString());
    QString host = address.left(colon);
    if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
        host = host.mid(1, host.size() - 2);
    // Listening on every address includes the loopback, which is where the tunnel goes.
    if (host.isEmpty() || host == QLatin1String("0.0.0.0") || host == QLatin1String("localhost"))
        host = QStringLiteral("127.0.0.1");
    else if (host == QLatin1String("::"))
        host = QStringLiteral("::1");
    config.host = host;
    config.port = static_cast<quint16>(port);
    return config;
}

void SyncthingTunnel::open()
{
    if (!m_session) {
        Q_EMIT failed(Error{ErrorCode::InternalError, "the ssh session is gone", {}});
        return;
    }
    const QString configPath = m_home + QStringLiteral("/config.xml");
    SshCommand::Options options;
    options.runAs = m_runAs;
    SshCommand *command =
        m_session->run({QStringLiteral("cat"), QStringLiteral("--"), configPath}, options);
    connect(command, &SshCommand::finished, this, [this, command, configPath] {
        command->deleteLater();
        const auto &result = command->result();
        if (!result)
            return Q_EMIT failed(result.error());
        if (result->exitCode != 0)
            return Q_EMIT failed(Error{ErrorCode::NotFound,
                                       QStringLiteral("cannot read Syncthing's config on %1: %2")
                                           .arg(m_session->destination(),
                                                QString::fromUtf8(result->standardError.trimmed()))
                                           .toStdString(),
                                       configPath.toStdString()});
        auto config = parseConfig(result->standardOutput);
        if (!config) {
            Error error = config.error();
            error.path = configPath.toStdString();
            return Q_EMIT failed(error);
        }
        if (config->tls)
            return readCertificate(*config);
        forward(*config, QSslCertificate());
    });
}

void SyncthingTunnel::readCertificate(const GuiConfig &config)
{
    const QString certPath = m_home + QStringLiteral("/https-cert.pem");
    SshCommand::Options options;
    options.runAs = m_runAs;
    SshCommand *command =
        m_session->run({QStringLiteral("cat"), QStringLiteral("--"), certPath}, options);
    connect(command, &SshCommand::finished, this, [this, command, config, certPath] {
        command->deleteLater();
        const auto &result = command->result();
        if (!result)
            return Q_EMIT failed(result.error());
        const QList<QSslCertificate> certificates =
            QSslCertificate::fromData(result->standardOutput, QSsl::Pem);
        if (result->exitCode != 0 || certificates.isEmpty())
            return Q_EMIT failed(
                Error{ErrorCode::NotFound,
                      "Syncthing's GUI uses TLS but its https-cert.pem cannot be read: "
                      "refusing to talk to it unpinned",
                      certPath.toStdString()});
        forward(config, certificates.first());
    });
}

void SyncthingTunnel::forward(const GuiConfig &config, const QSslCertificate &certificate)
{
    // A Unix socket in the session's private directory, not a loopback port: any local user can
    // connect to a port, and Syncthing's GUI needs no password there (anyone reaching it could
    // add a device and take the mail).
    m_session->addSocketForward(
        config.host, config.port, this, [this, config, certificate](Result<QString> socket) {
            if (!socket)
                return Q_EMIT failed(socket.error());
            m_localSocket = *socket;
            QUrl url;
            url.setScheme(config.tls ? QStringLiteral("https") : QStringLiteral("http"));
            url.setHost(QStringLiteral("127.0.0.1"));
            m_client->setEndpoint({url, config.apiKey, certificate, m_localSocket});
            Q_EMIT opened();
        });
}

void SyncthingTunnel::close()
{
    if (!m_localSocket.isEmpty() && m_session)
        m_session->removeSocketForward(m_localSocket);
    m_localSocket.clear();
}

} // namespace mm::remote
