# core/lab: real Debian nodes under systemd-nspawn (root only; 77 = skipped elsewhere).
mailmesh_add_test(tst_lab KIND integration LIBS mailmesh_lab Qt6::Network TIMEOUT 900)
target_compile_definitions(tst_lab PRIVATE MAILMESH_LAB_DEBIAN="12")
# The same on Debian 13 (Dovecot 2.4): its root file system is one more build of minutes.
mailmesh_add_test(tst_lab13 KIND integration LABELS slow LIBS mailmesh_lab Qt6::Network TIMEOUT 1800
                  SOURCES integration/tst_lab.cpp)
target_compile_definitions(tst_lab13 PRIVATE MAILMESH_LAB_DEBIAN="13")
set_tests_properties(tst_lab tst_lab13 PROPERTIES SKIP_RETURN_CODE 77)

# mailmeshctl lab up/add/down: a persistent lab, one node added later, nothing left after down.
mailmesh_add_test(tst_labcli KIND integration LIBS mailmesh_lab TIMEOUT 900)
target_compile_definitions(tst_labcli PRIVATE MAILMESHCTL_BINARY="$<TARGET_FILE:mailmeshctl>")
add_dependencies(tst_labcli mailmeshctl)
set_tests_properties(tst_labcli PROPERTIES SKIP_RETURN_CODE 77 FIXTURES_REQUIRED lab_nodes)

# The last word on labs: tst_lableftovers is the FIXTURES_CLEANUP of the "lab_nodes" fixture,
# which every lab test requires, so ctest runs it after all of them (also with -R or -L).
mailmesh_add_test(tst_lableftovers KIND integration LIBS mailmesh_lab)
set_tests_properties(tst_lableftovers PROPERTIES FIXTURES_CLEANUP lab_nodes)
set_tests_properties(tst_lab tst_lab13 PROPERTIES FIXTURES_REQUIRED lab_nodes)

# The admin's journey on three lab nodes through the real mailmeshctl: about a minute and a half
# once the lab's root file system is cached (tst_lab builds it first). tst_labjourneyfull (label
# slow) adds remove-node, join of a fresh node, the Debian packages, the chaos and more latency
# samples. tst_labjourney13 (label slow) is the full journey on Debian 13 nodes, whose Debian
# packages are Dovecot 2.4: it deploys the patched 2.4 prefix (MAILMESH_DOVECOT24_PREFIX) and the
# packages of build-debs.sh 13. They need the patched prefix, so they run with the tests labelled
# dovecot.
foreach(variant IN ITEMS labjourney labjourneyfull labjourney13)
  set(full 1)
  set(extra_labels LABELS slow)
  set(timeout 3600)
  set(release 12)
  set(prefix "${MAILMESH_DOVECOT_PREFIX}")
  if(variant STREQUAL "labjourney")
    set(full 0)
    set(extra_labels)
    set(timeout 900)
  elseif(variant STREQUAL "labjourney13")
    set(release 13)
    set(prefix "${MAILMESH_DOVECOT24_PREFIX}")
  endif()
  mailmesh_add_test(tst_${variant} KIND integration ${extra_labels} TIMEOUT ${timeout}
                    SOURCES integration/tst_labjourney.cpp
                    LIBS mailmesh_lab mailmesh_sandbox Qt6::Network Qt6::Gui)
  target_compile_definitions(tst_${variant} PRIVATE
                             MAILMESH_LAB_JOURNEY_FULL=${full}
                             MAILMESH_LAB_DEBIAN="${release}"
                             MAILMESH_DOVECOT_PREFIX="${prefix}"
                             MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>"
                             MAILMESHCTL_BINARY="$<TARGET_FILE:mailmeshctl>"
                             MAILMESH_APP_BINARY="$<TARGET_FILE:mailmesh>")
  add_dependencies(tst_${variant} mailmesh-agent mailmeshctl mailmesh)
  set_tests_properties(tst_${variant} PROPERTIES SKIP_RETURN_CODE 77 FIXTURES_REQUIRED lab_nodes
                       ENVIRONMENT QTEST_FUNCTION_TIMEOUT=1800000)
endforeach()
