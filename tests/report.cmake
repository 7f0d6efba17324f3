# The report in headless Chromium: pthread for its counting proxy listener.
target_link_libraries(test_report PRIVATE pthread)
