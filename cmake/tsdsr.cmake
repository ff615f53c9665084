# tsdsr_unit_tests(LIB) builds every *_test.cc in the calling folder into one test binary that links LIB,
# so a folder's sources are listed once (in its library) and its tests are found by name. The target
# `unit_tests` builds every such binary (what `ctest -L unit` runs) and nothing else.
function(tsdsr_unit_tests lib)
  file(GLOB test_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
  if(NOT test_sources)
    return()
  endif()
  set(target ${lib}_test)
  add_executable(${target} ${test_sources})
  if(NOT TARGET unit_tests)
    add_custom_target(unit_tests)
  endif()
  add_dependencies(unit_tests ${target})
  target_link_libraries(${target} PRIVATE ${lib} GTest::gtest_main GTest::gmock ${ARGN})
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)
endfunction()

# tsdsr_folder_sources(VAR) lists the library sources of the calling folder: every *.cc except tests
# (*_test.cc), fuzz targets (*_fuzz.cc) and the program's main.cc.
function(tsdsr_folder_sources var)
  file(GLOB all CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  list(FILTER all EXCLUDE REGEX "(_test|_fuzz)\\.cc$|/main\\.cc$")
  set(${var} ${all} PARENT_SCOPE)
endfunction()

# tsdsr_fuzz_targets(LIB...) builds every *_fuzz.cc in the calling folder, when TSDSR_FUZZ is on, into a
# libFuzzer program bin/<name> that links LIB...; the target `fuzz` builds them all (see scripts/fuzz).
function(tsdsr_fuzz_targets)
  if(NOT TSDSR_FUZZ)
    return()
  endif()
  if(NOT TARGET fuzz)
    add_custom_target(fuzz)
  endif()
  file(GLOB fuzz_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_fuzz.cc)
  foreach(source ${fuzz_sources})
    get_filename_component(target ${source} NAME_WE)
    add_executable(${target} ${source})
    target_link_libraries(${target} PRIVATE ${ARGN})
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    add_dependencies(fuzz ${target})
  endforeach()
endfunction()
