# The align layer's benchmark helper (bench/bench_bon.c: batched best-of-n
# sampling against one-at-a-time generation), built on demand.
add_executable(bench_bon EXCLUDE_FROM_ALL ${CMAKE_SOURCE_DIR}/bench/bench_bon.c)
target_include_directories(bench_bon PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(bench_bon PRIVATE alab_lib)
