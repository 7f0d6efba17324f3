# alab serve: the C test (test_serve, registered by the glob) runs the server
# in-process; these run the real `alab serve` against real HTTP clients.
add_executable(serve_make_model ${CMAKE_CURRENT_SOURCE_DIR}/serve_make_model.c)
target_include_directories(serve_make_model PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(serve_make_model PRIVATE alab_lib)

# The npm `openai` client (tests/node, installed by tests/run.sh) against the
# real `alab serve`; then a bounded load test with a memory check. The small
# ASan quarantine keeps VmRSS meaningful in the sanitizer build.
foreach(t serve_openai serve_load)
  add_test(NAME ${t}_node COMMAND node ${CMAKE_CURRENT_SOURCE_DIR}/node/${t}.mjs)
  set_tests_properties(${t}_node PROPERTIES
    ENVIRONMENT "ALAB_BIN=$<TARGET_FILE:alab>;SERVE_MAKE_MODEL=$<TARGET_FILE:serve_make_model>;ALAB_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp;ASAN_OPTIONS=detect_leaks=0:quarantine_size_mb=4;OMP_NUM_THREADS=2"
    TIMEOUT 300)
endforeach()
