# Evaluation and providers: the scoring benchmark's helper (bench/bench_score.sh),
# built on demand only.
add_executable(bench_score EXCLUDE_FROM_ALL ${CMAKE_SOURCE_DIR}/bench/bench_score.c)
target_include_directories(bench_score PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(bench_score PRIVATE alab_lib)
