# The rejects half of the conformance suite (rejects.md): rejects.json holds a base chain
# and one crafted header, block or transaction per reject token of docs/reject-reasons.md.
#
# peerchain-conformance-rejects writes rejects.json with the node's own code; run it by hand
# after a rule changes (it is not a test). conformance_rejects_tests replays the file
# through the real Chainstate and Mempool and checks every token and class.
add_executable(peerchain-conformance-rejects ${CMAKE_CURRENT_LIST_DIR}/rejects_generate.cpp)
target_compile_options(peerchain-conformance-rejects PRIVATE ${PEERCHAIN_WARNINGS})
target_link_libraries(peerchain-conformance-rejects PRIVATE peerchain_testutil_core Boost::json)

add_executable(conformance_rejects_tests ${CMAKE_CURRENT_LIST_DIR}/rejects_test.cpp)
target_compile_options(conformance_rejects_tests PRIVATE ${PEERCHAIN_WARNINGS})
target_compile_definitions(conformance_rejects_tests PRIVATE
                           PEERCHAIN_CONFORMANCE_DIR="${CMAKE_CURRENT_LIST_DIR}"
                           PEERCHAIN_DOCS_DIR="${CMAKE_SOURCE_DIR}/docs")
target_link_libraries(conformance_rejects_tests PRIVATE peerchain_chain peerchain_mempool
                      peerchain_testutil_core Boost::json GTest::gtest GTest::gtest_main)
add_test(NAME conformance_rejects_tests COMMAND conformance_rejects_tests --gtest_brief=1)
set_tests_properties(conformance_rejects_tests PROPERTIES LABELS unit TIMEOUT 300)
