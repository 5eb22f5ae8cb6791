# The Debian package, built by installers/package/build-deb.sh (or `cpack -G DEB` in a build
# dir). app/*/CMakeLists.txt install the three programs; this file installs the rest (desktop
# integration, man pages, the cur/-only Dovecot patches, Debian's doc files) and sets up CPack.
# Nothing here is built by the demo's `--target mailmesh`.

set(mailmesh_app_id io.github.mailmesh.Mailmesh)
set(mailmesh_package_dir ${CMAKE_CURRENT_LIST_DIR})

# Icons: the hand-written SVG, and PNGs at the hicolor sizes rendered from it at build time.
set(icon_svg ${PROJECT_SOURCE_DIR}/resources/icons/${mailmesh_app_id}.svg)
install(FILES ${icon_svg} DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
find_program(MAILMESH_RSVG_CONVERT rsvg-convert)
if(MAILMESH_RSVG_CONVERT)
  set(icon_pngs)
  foreach(size 16 22 24 32 48 64 128 256)
    set(dir ${PROJECT_BINARY_DIR}/icons/${size}x${size})
    add_custom_command(OUTPUT ${dir}/${mailmesh_app_id}.png
        COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
        COMMAND ${MAILMESH_RSVG_CONVERT} -w ${size} -h ${size} -o ${dir}/${mailmesh_app_id}.png
                ${icon_svg}
        DEPENDS ${icon_svg} VERBATIM)
    list(APPEND icon_pngs ${dir}/${mailmesh_app_id}.png)
    install(FILES ${dir}/${mailmesh_app_id}.png
            DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/${size}x${size}/apps)
  endforeach()
  add_custom_target(mailmesh_icons ALL DEPENDS ${icon_pngs})
else()
  message(WARNING "rsvg-convert (Debian: librsvg2-bin) not found: the package gets no PNG icons")
endif()
install(FILES ${PROJECT_SOURCE_DIR}/resources/desktop/${mailmesh_app_id}.desktop
        DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
install(FILES ${PROJECT_SOURCE_DIR}/resources/metainfo/${mailmesh_app_id}.metainfo.xml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)

# Man pages and the Debian changelog, compressed reproducibly (gzip -n: no name, no time).
set(gzipped)
foreach(page mailmesh.1 mailmeshctl.1 mailmesh-agent.1)
  list(APPEND gzipped man/${page})
  install(FILES ${PROJECT_BINARY_DIR}/package/man/${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endforeach()
list(APPEND gzipped changelog)
set(gzipped_outputs)
foreach(file ${gzipped})
  set(out ${PROJECT_BINARY_DIR}/package/${file})
  add_custom_command(OUTPUT ${out}.gz
      COMMAND ${CMAKE_COMMAND} -E copy ${mailmesh_package_dir}/${file} ${out}
      COMMAND gzip -9 -n -f ${out}
      DEPENDS ${mailmesh_package_dir}/${file} VERBATIM)
  list(APPEND gzipped_outputs ${out}.gz)
endforeach()
add_custom_target(mailmesh_package_docs ALL DEPENDS ${gzipped_outputs})

file(STRINGS ${mailmesh_package_dir}/changelog changelog_top LIMIT_COUNT 1)
if(NOT changelog_top MATCHES "^mailmesh \\(${PROJECT_VERSION}\\) ")
  message(WARNING "installers/package/changelog does not start with version ${PROJECT_VERSION}")
endif()
set(package_docdir ${CMAKE_INSTALL_DATADIR}/doc/mailmesh) # not CMAKE_INSTALL_DOCDIR: "Mailmesh"
install(FILES ${PROJECT_BINARY_DIR}/package/changelog.gz ${mailmesh_package_dir}/copyright
        DESTINATION ${package_docdir})
install(FILES ${mailmesh_package_dir}/lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME mailmesh)

# The cur/-only Dovecot: patches, build scripts and their README, for the nodes.
set(dovecot_src ${PROJECT_SOURCE_DIR}/installers/dovecot)
set(dovecot_dest ${CMAKE_INSTALL_DATADIR}/mailmesh/dovecot)
install(FILES ${dovecot_src}/README.md ${dovecot_src}/debian-source.sh DESTINATION ${dovecot_dest})
install(PROGRAMS ${dovecot_src}/build-prefix.sh ${dovecot_src}/build-debs.sh
        DESTINATION ${dovecot_dest})
install(DIRECTORY ${dovecot_src}/2.3 ${dovecot_src}/2.4 DESTINATION ${dovecot_dest}
        FILES_MATCHING PATTERN "*.patch")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mailmesh)
set(CPACK_PACKAGE_VENDOR "Mailmesh developers")
set(CPACK_PACKAGE_CONTACT "Mailmesh developers <mailmesh@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "multi-master Maildir clusters on Dovecot and Syncthing")
# Debian wants lines of at most 80 columns here: wrapped by hand.
set(CPACK_PACKAGE_DESCRIPTION [[
Mailmesh runs a cluster of Dovecot IMAP nodes that each hold a full copy of
the mail, kept in sync by Syncthing, with a Dovecot patched to read Maildir as
cur/-only so that nodes never turn concurrent changes into duplicates.

This package holds the desktop app (mailmesh), the headless CLI (mailmeshctl),
the static node agent that both upload to the nodes over SSH, and the
cur/-only patches for Dovecot 2.3 and 2.4 with the scripts that build them.]])
set(CPACK_STRIP_FILES TRUE)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # mailmesh_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION mail)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/mailmesh/mailmesh") # placeholder
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# ssh is the only way to a node; Qt finds no platform plugin (xcb, wayland) without the second.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "openssh-client, qt6-qpa-plugins")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "syncthing, openssh-server, dovecot-imapd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
