# core/protocol and the agent: parsers and frames (unit), and the real mailmesh-agent binary
# driven through serve (label agent). The fuzz smoke tests are registered by fuzz.cmake.
mailmesh_add_test(tst_frameparser LIBS mailmesh_protocol)
mailmesh_add_test(tst_protocolpaths LIBS mailmesh_protocol Qt6::Core)
mailmesh_add_test(tst_protocolmessages LIBS mailmesh_protocol Qt6::Core)
mailmesh_add_test(tst_protocolprobe LIBS mailmesh_agent_commands Qt6::Core)
# The real agent's watch-changes, to be found under /proc.
add_dependencies(tst_protocolprobe mailmesh-agent)
target_compile_definitions(tst_protocolprobe PRIVATE MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>")
# watch-changes: the recursive inotify watch against the real kernel, and the request it makes.
mailmesh_add_test(tst_treewatcher LIBS mailmesh_agent_commands Qt6::Core)
mailmesh_add_test(tst_protocolserver LIBS mailmesh_protocol Qt6::Core)
mailmesh_add_test(tst_protocolstatelock LIBS mailmesh_maildir Qt6::Core)
# Large answers: streamed by the agent, put back together by the app (issue #20).
mailmesh_add_test(tst_largeresult LIBS mailmesh_agent_commands mailmesh_remote)

mailmesh_add_test(tst_protocolserve LIBS Qt6::Core LABELS agent TIMEOUT 300)
add_dependencies(tst_protocolserve mailmesh-agent)
target_compile_definitions(tst_protocolserve PRIVATE MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>")
# inventory through one long-lived serve answers as a fresh process, cron's passes between (#24).
mailmesh_add_test(tst_inventoryserve LIBS Qt6::Core LABELS agent TIMEOUT 300)
add_dependencies(tst_inventoryserve mailmesh-agent)
target_compile_definitions(tst_inventoryserve PRIVATE MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>")

# probe against a real Syncthing started here on loopback (integration: serialised with the
# sandbox tests by their resource lock).
mailmesh_add_test(tst_probesyncthing KIND integration TIMEOUT 120
                  LIBS mailmesh_agent_commands Qt6::Core Qt6::Network)

include(${CMAKE_CURRENT_LIST_DIR}/fuzz.cmake)
