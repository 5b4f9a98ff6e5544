# One target per module: faultline_library(), faultline_test(), faultline_bench().
# Target dependencies follow the layering core <- ingest | detect | sinks <- app; the include
# rules themselves are checked by tests/checks/check_tree.py.

set(FAULTLINE_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)
# g++ 12 at -O3 reports std::string's own memcpy as overlapping (-Wrestrict false positive, GCC
# bug 105651, fixed in 13): the release preset on Debian 12 would not build detect/lifecycle_test.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  list(APPEND FAULTLINE_WARNINGS -Wno-restrict)
endif()

function(faultline_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SRCS})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
  target_compile_options(${name} PRIVATE ${FAULTLINE_WARNINGS})
  target_compile_definitions(${name} PUBLIC SIMDJSON_EXCEPTIONS=0)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# A GoogleTest binary registered with CTest; tests run from the source dir so relative paths
# to testdata and ../shared work. LABELS lets `ctest -L kafka` select the real-broker tests.
function(faultline_test name)
  if(FAULTLINE_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;LABELS;FIXTURES" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_compile_options(${name} PRIVATE ${FAULTLINE_WARNINGS})
  target_compile_definitions(${name} PRIVATE
    FAULTLINE_SHARED_DIR="${FAULTLINE_SHARED_DIR}"
    FAULTLINE_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    FAULTLINE_BINARY_DIR="${CMAKE_BINARY_DIR}")
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  set(properties TIMEOUT 600)
  if(ARG_LABELS)
    list(APPEND properties LABELS ${ARG_LABELS})
  endif()
  if(ARG_FIXTURES)
    list(APPEND properties FIXTURES_REQUIRED ${ARG_FIXTURES})
  endif()
  gtest_discover_tests(${name}
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    DISCOVERY_TIMEOUT 30
    PROPERTIES ${properties})
endfunction()

# A libFuzzer target, registered with CTest as a bounded run (FAULTLINE_FUZZ_SECONDS) over a
# corpus in the build tree seeded from SEEDS (directories; missing ones are skipped).
set(FAULTLINE_FUZZ_SECONDS 60 CACHE STRING "how long each fuzz target runs in ctest")
function(faultline_fuzz name)
  if(NOT FAULTLINE_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;SEEDS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_compile_options(${name} PRIVATE ${FAULTLINE_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set(corpus ${CMAKE_BINARY_DIR}/fuzz-corpus/${name})
  file(MAKE_DIRECTORY ${corpus})
  set(seeds)
  foreach(seed ${ARG_SEEDS})
    if(IS_DIRECTORY ${seed})
      list(APPEND seeds ${seed})
    endif()
  endforeach()
  add_test(NAME ${name}
    COMMAND ${name} -max_total_time=${FAULTLINE_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=4096
            -max_len=65536 -print_final_stats=1 ${corpus} ${seeds})
  set_tests_properties(${name} PROPERTIES TIMEOUT 900 LABELS fuzz)
endfunction()

function(faultline_bench name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_compile_options(${name} PRIVATE ${FAULTLINE_WARNINGS})
  target_compile_definitions(${name} PRIVATE FAULTLINE_SHARED_DIR="${FAULTLINE_SHARED_DIR}")
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark)
endfunction()

include(GoogleTest)
