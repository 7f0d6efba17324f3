# Chat templates: tests/chat_template_oracle.py renders alab's accepted
# templates with Jinja2 (Debian's python3-jinja2, as transformers configures
# it) and compares byte for byte with tests/chat_template_tool.
add_executable(chat_template_tool ${CMAKE_CURRENT_SOURCE_DIR}/chat_template_tool.c)
target_link_libraries(chat_template_tool PRIVATE alab_lib)
add_test(NAME chat_template_oracle
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/chat_template_oracle.py $<TARGET_FILE:chat_template_tool>
                 ${CMAKE_CURRENT_BINARY_DIR}/tmp/chat_template_oracle)
set_tests_properties(chat_template_oracle PROPERTIES TIMEOUT 120)
