# The HTTP provider at scale: a fault-injecting OpenAI-compatible server on
# loopback (tests/fault_server.c) that test_provider_faults and
# bench/bench_provider.sh run against.
add_executable(fault_server ${CMAKE_CURRENT_SOURCE_DIR}/fault_server.c)
target_link_libraries(fault_server PRIVATE PkgConfig::JANSSON pthread)
set_property(TEST test_provider_faults APPEND PROPERTY ENVIRONMENT "FAULT_SERVER=$<TARGET_FILE:fault_server>")
