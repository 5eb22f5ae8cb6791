# core/sandbox: real sshd, syncthing and dovecot nodes on 127.0.0.1.
mailmesh_add_test(tst_sandbox KIND integration LIBS mailmesh_sandbox TIMEOUT 300)
