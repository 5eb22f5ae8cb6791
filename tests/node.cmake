# core/node: the pure readers of what a node offers (no Qt in the library; the tests use QtTest).
mailmesh_add_test(tst_nodedovecotversion LIBS mailmesh_node)
