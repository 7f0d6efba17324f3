# Reward models behind `alab serve`: /classify and /v1/classify through
# Node's fetch (tests/node/serve_classify.mjs), in vLLM's shape.
add_test(NAME serve_classify_node COMMAND node ${CMAKE_CURRENT_SOURCE_DIR}/node/serve_classify.mjs)
set_tests_properties(serve_classify_node PROPERTIES
  ENVIRONMENT "ALAB_BIN=$<TARGET_FILE:alab>;SERVE_MAKE_MODEL=$<TARGET_FILE:serve_make_model>;ALAB_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp;ASAN_OPTIONS=detect_leaks=0:quarantine_size_mb=4;OMP_NUM_THREADS=1"
  TIMEOUT 300)
