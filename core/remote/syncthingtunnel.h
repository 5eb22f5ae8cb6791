#pragma once

#include "common/result.h"

#include <QObject>
#include <QPointer>
#include <QSslCertificate>

namespace mm::remote {

class SshSession;
class SyncthingClient;

// Connects a SyncthingClient to the Syncthing of one node: reads the node's config.xml over
// SSH (as the user Syncthing runs as) for the GUI address and API key, the node's https-cert.pem
// when the GUI uses TLS, and opens an SSH local forward from a Unix socket in the session's
// private directory to that loopback address. The API key only ever lives in memory. There is
// deliberately no way to reach the GUI directly, and no TCP port on the admin's machine.
class SyncthingTunnel : public QObject
{
    Q_OBJECT

public:
    struct GuiConfig
    {
        QString host; // as Syncthing listens; 0.0.0.0/:: are reached on the loopback
        quint16 port = 0;
        QByteArray apiKey;
        bool tls = false;
    };

    // syncthingHome: the node's Syncthing home (holding config.xml). runAs: empty for the
    // login user.
    SyncthingTunnel(SshSession *session, SyncthingClient *client, QString syncthingHome,
                    QString runAs = {}, QObject *parent = nullptr);
    ~SyncthingTunnel() override;

    void open();
    void close();
    // The Unix socket the client talks through (in the ssh session's private directory).
    const QString &localSocket() const { return m_localSocket; }

    static Result<GuiConfig> parseConfig(const QByteArray &configXml);

Q_SIGNALS:
    void opened();
    void failed(const mm::Error &error);

private:
    void readCertificate(const GuiConfig &config);
    void forward(const GuiConfig &config, const QSslCertificate &certificate);

    QPointer<SshSession> m_session;
    SyncthingClient *m_client;
    QString m_home;
    QString m_runAs;
    QString m_localSocket;
};

} // namespace mm::remote
