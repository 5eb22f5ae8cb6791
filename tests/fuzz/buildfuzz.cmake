# Configures (once) and builds the clang/libFuzzer tree used by the fuzz smoke tests of the
# default build. -O1 and line tables only: a smoke run needs speed of building more than of
# running. -DSOURCE_DIR -DBINARY_DIR -DCXX -DCC -DGENERATOR.
if(NOT CXX OR NOT CC)
  message(FATAL_ERROR "clang-14 not found: installers/bootstrap.sh installs clang-14 and libclang-rt-14-dev")
endif()
if(NOT EXISTS ${BINARY_DIR}/CMakeCache.txt)
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BINARY_DIR} -G ${GENERATOR}
                          -DCMAKE_BUILD_TYPE= "-DCMAKE_CXX_FLAGS=-O1 -gline-tables-only"
                          -DMAILMESH_FUZZ=ON -DMAILMESH_BUILD_TESTS=ON
                          -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_C_COMPILER=${CC}
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    file(REMOVE ${BINARY_DIR}/CMakeCache.txt)
    message(FATAL_ERROR "configuring the fuzz tree failed")
  endif()
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BINARY_DIR} --target mailmesh_fuzz_all RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the fuzz targets failed")
endif()
