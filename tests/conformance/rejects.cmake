# The rejects half of the conformance suite (rejects.md): rejects.json holds a base chain
# and one crafted header, block or transaction per reject token of docs/reject-reasons.md.
#
# peerchain-conformance-rejects writes rejects.json with the node's own code; run it by hand
# after a rule changes (it is not a test).
add_executable(peerchain-conformance-rejects ${CMAKE_CURRENT_LIST_DIR}/rejects_generate.cpp)
target_compile_options(peerchain-conformance-rejects PRIVATE ${PEERCHAIN_WARNINGS})
target_link_libraries(peerchain-conformance-rejects PRIVATE peerchain_testutil_core Boost::json)
