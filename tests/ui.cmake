foreach(model nodesmodel mailboxesmodel syncmatrixmodel eventlogmodel)
  mailmesh_add_test(tst_${model} LIBS mailmesh_ui)
  set_tests_properties(tst_${model} PROPERTIES ENVIRONMENT QT_QPA_PLATFORM=offscreen)
endforeach()
# Saves screenshots of the main window into <build>/screenshots for a human to look at.
mailmesh_add_test(tst_mainwindow KIND gui LIBS mailmesh_ui)
