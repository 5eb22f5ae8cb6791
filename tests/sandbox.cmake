# core/sandbox: real sshd, syncthing and dovecot nodes on 127.0.0.1.
mailmesh_add_test(tst_sandbox KIND integration LIBS mailmesh_sandbox TIMEOUT 300)
mailmesh_add_test(tst_sandboxcli KIND integration LIBS mailmesh_sandbox TIMEOUT 300)
add_dependencies(tst_sandboxcli mailmeshctl)
mailmesh_add_test(tst_sandboxdaemonprocess KIND unit LIBS mailmesh_sandbox TIMEOUT 120)
mailmesh_add_test(tst_dovecotversion KIND unit LIBS mailmesh_sandbox)
# Its stand-in daemons carry the run tag: keep them apart from the leftover check.
set_tests_properties(tst_sandboxdaemonprocess PROPERTIES RESOURCE_LOCK sandbox)

# The last word of a test run: tst_sandboxleftovers is the FIXTURES_CLEANUP of the
# "sandbox_daemons" fixture, which every other test requires; so ctest runs it after all of them,
# also with -j, -R or -L (selecting any test pulls it in). Unit tests too: some start processes
# (the agent's serve, a replay server) that carry the run's tag, and a check running beside them
# would count those as left behind. Every test gets MAILMESH_SANDBOX_RUN=<build dir>, which
# every sandbox daemon inherits: the check finds what any test of this build left behind, and
# nothing of other builds or of a `sandbox up` by hand.
mailmesh_add_test(tst_sandboxleftovers KIND integration LIBS mailmesh_sandbox)
set_tests_properties(tst_sandboxleftovers PROPERTIES FIXTURES_CLEANUP sandbox_daemons)

# Deferred to the end of tests/CMakeLists.txt, so that the tests of every layer exist by then.
function(mailmesh_sandbox_tag_tests)
  get_property(all_tests DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} PROPERTY TESTS)
  foreach(test_name IN LISTS all_tests)
    set_property(TEST ${test_name} APPEND PROPERTY ENVIRONMENT
                 "MAILMESH_SANDBOX_RUN=${PROJECT_BINARY_DIR}")
    if(NOT test_name STREQUAL "tst_sandboxleftovers")
      set_property(TEST ${test_name} APPEND PROPERTY FIXTURES_REQUIRED sandbox_daemons)
    endif()
  endforeach()
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} CALL mailmesh_sandbox_tag_tests)
