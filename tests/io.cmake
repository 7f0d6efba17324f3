# The formats layer's PyTorch oracle: tests/io_torch_oracle.py reads a model
# directory written by alab with its own safetensors parser (struct + json +
# torch), and writes an HF-style checkpoint (transformer. prefix, F16/BF16,
# mask buffers, tied lm_head) that alab must load exactly.
add_executable(io_oracle_tool ${CMAKE_CURRENT_SOURCE_DIR}/io_oracle_tool.c)
target_include_directories(io_oracle_tool PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(io_oracle_tool PRIVATE alab_lib)
add_test(NAME io_torch_oracle
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/io_torch_oracle.py $<TARGET_FILE:io_oracle_tool>
                 ${CMAKE_CURRENT_BINARY_DIR}/tmp/io_torch_oracle)
set_tests_properties(io_torch_oracle PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=2" TIMEOUT 300)
