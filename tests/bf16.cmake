# bf16 matrix products and mixed-precision training (src/nn/matmul_bf16.c):
# exit code 77 means bf16 is not available here (alab built without oneDNN,
# or a CPU without AVX-512 BF16) and the test is reported as skipped.
set_tests_properties(test_bf16_matmul test_bf16_train PROPERTIES SKIP_RETURN_CODE 77)
set_tests_properties(test_bf16_matmul PROPERTIES PROCESSORS 2) # 2 threads: same bits twice
# bench/bench_bf16.c: bf16 against fp32 kernel by kernel in CPU time (bench/README.md)
add_executable(bench_bf16 EXCLUDE_FROM_ALL ${CMAKE_SOURCE_DIR}/bench/bench_bf16.c)
target_link_libraries(bench_bf16 PRIVATE alab_lib)
