# Fuzz targets (clang + libFuzzer). Adding one is a single line:
#     mailmesh_add_fuzz_target(fuzz_<name> SOURCES fuzz/fuzz_<name>.cpp LIBS mailmesh_maildir)
# with its seed corpus in tests/fuzz/corpus/fuzz_<name>/ (one input per file).
#
# With -DMAILMESH_FUZZ=ON (clang) this builds the targets, and `ctest -L fuzz` runs each briefly.
# In the default (g++) tree, which cannot build libFuzzer, the same line registers a smoke test
# (label fuzz, in the default run) that runs the target from a clang tree the fixture test
# `fuzz_build` configures and builds in <build>/fuzz-tree.

include_guard(GLOBAL) # included by tests/CMakeLists.txt (fuzz tree) or protocol.cmake (default tree)

set(MAILMESH_FUZZ_SMOKE_SECONDS 8 CACHE STRING "Seconds each fuzz target runs in the smoke test")
set(MAILMESH_FUZZ_RUNNER ${CMAKE_CURRENT_LIST_DIR}/fuzz/runfuzz.cmake)

if(MAILMESH_FUZZ)
  # Sanitizers and coverage for every Qt-free library the targets link; the targets add the
  # libFuzzer main at link time.
  target_compile_options(mailmesh_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                         -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(mailmesh_options INTERFACE -fsanitize=address,undefined)
  add_custom_target(mailmesh_fuzz_all)
else()
  find_program(MAILMESH_FUZZ_CLANGXX NAMES clang++-14 clang++)
  find_program(MAILMESH_FUZZ_CLANG NAMES clang-14 clang)
  set(fuzz_tree ${PROJECT_BINARY_DIR}/fuzz-tree)
  add_test(NAME fuzz_build
           COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DBINARY_DIR=${fuzz_tree}
                   -DCXX=${MAILMESH_FUZZ_CLANGXX} -DCC=${MAILMESH_FUZZ_CLANG}
                   -DGENERATOR=${CMAKE_GENERATOR}
                   -P ${CMAKE_CURRENT_LIST_DIR}/fuzz/buildfuzz.cmake)
  set_tests_properties(fuzz_build PROPERTIES LABELS fuzz FIXTURES_SETUP fuzz_tree TIMEOUT 900
                                             RESOURCE_LOCK fuzz_tree)
endif()

# QT: the target needs Qt (the cluster file code): its sources are compiled into it here, with
# the same sanitizers, and linked to the system's Qt (not instrumented, which ASan tolerates).
function(mailmesh_add_fuzz_target name)
  cmake_parse_arguments(ARG "QT" "" "SOURCES;LIBS" ${ARGN})
  set(corpus ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/fuzz/corpus/${name})
  if(MAILMESH_FUZZ)
    if(ARG_QT)
      find_package(Qt6 6.4 REQUIRED COMPONENTS Core Network)
    endif()
    add_executable(${name} ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE ${ARG_LIBS} mailmesh_options)
    if(ARG_QT)
      target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/core)
    endif()
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    add_dependencies(mailmesh_fuzz_all ${name})
    set(binary $<TARGET_FILE:${name}>)
    set(work ${PROJECT_BINARY_DIR}/fuzz-work/${name})
  else()
    set(binary ${PROJECT_BINARY_DIR}/fuzz-tree/tests/${name})
    set(work ${PROJECT_BINARY_DIR}/fuzz-tree/fuzz-work/${name})
  endif()
  add_test(NAME ${name}_smoke
           COMMAND ${CMAKE_COMMAND} -DBINARY=${binary} -DCORPUS=${corpus} -DWORK=${work}
                   -DSECONDS=${MAILMESH_FUZZ_SMOKE_SECONDS} -P ${MAILMESH_FUZZ_RUNNER})
  set_tests_properties(${name}_smoke PROPERTIES LABELS fuzz TIMEOUT 300)
  if(NOT MAILMESH_FUZZ)
    set_tests_properties(${name}_smoke PROPERTIES FIXTURES_REQUIRED fuzz_tree RESOURCE_LOCK fuzz_tree)
  endif()
endfunction()

# The targets, one line each.
mailmesh_add_fuzz_target(fuzz_frame SOURCES fuzz/fuzz_frame.cpp LIBS mailmesh_protocol)
mailmesh_add_fuzz_target(fuzz_uidlist SOURCES fuzz/fuzz_uidlist.cpp LIBS mailmesh_maildir)
mailmesh_add_fuzz_target(fuzz_keywords SOURCES fuzz/fuzz_keywords.cpp LIBS mailmesh_maildir)
mailmesh_add_fuzz_target(fuzz_messageheaders SOURCES fuzz/fuzz_messageheaders.cpp LIBS mailmesh_maildir)
mailmesh_add_fuzz_target(fuzz_maildirname SOURCES fuzz/fuzz_maildirname.cpp LIBS mailmesh_maildir)
# Cluster files with hostile values: the Qt code that reads them, built from its sources.
mailmesh_add_fuzz_target(fuzz_clusterconfig QT
                         SOURCES fuzz/fuzz_clusterconfig.cpp
                                 ${PROJECT_SOURCE_DIR}/core/cluster/config/clusterconfig.cpp
                                 ${PROJECT_SOURCE_DIR}/core/cluster/config/homenodes.cpp
                                 ${PROJECT_SOURCE_DIR}/core/cluster/config/uidpolicy.cpp
                                 ${PROJECT_SOURCE_DIR}/core/remote/sshaddress.cpp
                                 ${PROJECT_SOURCE_DIR}/core/remote/sshoptionpolicy.cpp
                         LIBS mailmesh_common Qt6::Core Qt6::Network)
