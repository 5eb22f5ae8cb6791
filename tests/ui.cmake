foreach(model nodesmodel mailboxesmodel syncmatrixmodel)
  mailmesh_add_test(tst_${model} LIBS mailmesh_ui)
  set_tests_properties(tst_${model} PROPERTIES ENVIRONMENT QT_QPA_PLATFORM=offscreen)
endforeach()
