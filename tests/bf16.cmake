# bf16 matrix products and mixed-precision training (src/nn/matmul_bf16.c):
# exit code 77 means bf16 is not available here (alab built without oneDNN,
# or a CPU without AVX-512 BF16) and the test is reported as skipped.
set_tests_properties(test_bf16_matmul test_bf16_train PROPERTIES SKIP_RETURN_CODE 77)
set_tests_properties(test_bf16_matmul PROPERTIES PROCESSORS 2) # 2 threads: same bits twice
