# The executables start, and the agent is a static binary that runs on bare nodes.
add_test(NAME apps_mailmeshctl_version COMMAND mailmeshctl --version)
add_test(NAME apps_agent_version COMMAND mailmesh-agent --version)
add_test(NAME apps_agent_is_static
         COMMAND ${CMAKE_COMMAND} -DBINARY=$<TARGET_FILE:mailmesh-agent>
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/check_static.cmake)
add_test(NAME apps_mailmesh_starts COMMAND mailmesh --version)
set_tests_properties(apps_mailmeshctl_version apps_agent_version apps_agent_is_static
                     apps_mailmesh_starts PROPERTIES LABELS unit)
set_tests_properties(apps_mailmesh_starts PROPERTIES ENVIRONMENT QT_QPA_PLATFORM=offscreen)
set_tests_properties(apps_mailmeshctl_version PROPERTIES PASS_REGULAR_EXPRESSION "^mailmeshctl [0-9]")
set_tests_properties(apps_agent_version PROPERTIES PASS_REGULAR_EXPRESSION "^mailmesh-agent [0-9]")
# mailmeshctl's usage, made from its command table: every command answers --help, bad usage
# exits 2 with the command's usage, the man page names every command; and its parser.
mailmesh_add_test(tst_ctlusage SOURCES unit/tst_ctlusage.cpp ${PROJECT_SOURCE_DIR}/app/mailmeshctl/commandline.cpp
                  LIBS mailmesh_cluster)
target_include_directories(tst_ctlusage PRIVATE ${PROJECT_SOURCE_DIR}/app/mailmeshctl)
target_compile_definitions(tst_ctlusage PRIVATE MAILMESHCTL_BINARY="$<TARGET_FILE:mailmeshctl>")
add_dependencies(tst_ctlusage mailmeshctl)
