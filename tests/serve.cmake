# alab serve: the C test (test_serve, registered by the glob) runs the server
# in-process; these run the real `alab serve` against real HTTP clients.
add_executable(serve_make_model ${CMAKE_CURRENT_SOURCE_DIR}/serve_make_model.c)
target_include_directories(serve_make_model PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(serve_make_model PRIVATE alab_lib)

# The npm `openai` client (tests/node, installed by tests/run.sh) against the
# real `alab serve`.
foreach(t serve_openai serve_lm_eval)
  add_test(NAME ${t}_node COMMAND node ${CMAKE_CURRENT_SOURCE_DIR}/node/${t}.mjs)
  set_tests_properties(${t}_node PROPERTIES
    ENVIRONMENT "ALAB_BIN=$<TARGET_FILE:alab>;SERVE_MAKE_MODEL=$<TARGET_FILE:serve_make_model>;ALAB_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp;ASAN_OPTIONS=detect_leaks=0:quarantine_size_mb=4;OMP_NUM_THREADS=2"
    TIMEOUT 300)
endforeach()

# A load test with a leak check (see serve_load.mjs): in the ASan+UBSan build
# LeakSanitizer checks the server at exit; in the Release build the growth of
# resident memory per request after a warm-up is bounded. ALAB_SANITIZE tells
# the script which build it runs in.
if(ALAB_SANITIZE)
  set(serve_load_env "ALAB_SANITIZE=1;ASAN_OPTIONS=detect_leaks=1")
else()
  set(serve_load_env "ALAB_SANITIZE=0")
endif()
add_test(NAME serve_load_node COMMAND node ${CMAKE_CURRENT_SOURCE_DIR}/node/serve_load.mjs)
set_tests_properties(serve_load_node PROPERTIES
  ENVIRONMENT "ALAB_BIN=$<TARGET_FILE:alab>;SERVE_MAKE_MODEL=$<TARGET_FILE:serve_make_model>;ALAB_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp;OMP_NUM_THREADS=2;${serve_load_env}"
  PROCESSORS 2 TIMEOUT 300)

# Slow clients, memory amplification and 500 connections against the real
# `alab serve` (tests/node/serve_attack.mjs); the resident-memory bound is
# checked in the Release build only (ASan's allocator keeps more).
add_test(NAME serve_attack_node COMMAND node ${CMAKE_CURRENT_SOURCE_DIR}/node/serve_attack.mjs)
set_tests_properties(serve_attack_node PROPERTIES
  ENVIRONMENT "ALAB_BIN=$<TARGET_FILE:alab>;SERVE_MAKE_MODEL=$<TARGET_FILE:serve_make_model>;ALAB_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp;ALAB_SANITIZE=${ALAB_SANITIZE};ASAN_OPTIONS=detect_leaks=0:quarantine_size_mb=4;OMP_NUM_THREADS=2"
  PROCESSORS 2 TIMEOUT 300)
