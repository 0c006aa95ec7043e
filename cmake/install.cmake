# Install rules and the CMake package config (included at the end of the top-level
# CMakeLists.txt). `cmake --install <build> --prefix <P>` installs
#   <P>/include/fsskernels/*.h                     public headers (C++ and the C API)
#   <P>/lib/libfsskernels.a                        fsskernels::core (CPU kernels + C API)
#   <P>/lib/libfsskernels_cuda.a                   fsskernels::cuda (when the CUDA backend is built)
#   <P>/lib/cmake/fsskernels/fsskernels{Config,ConfigVersion,Targets*}.cmake
# so that another project's `find_package(fsskernels CONFIG REQUIRED)` followed by
# `target_link_libraries(app PRIVATE fsskernels::core)` works (CMAKE_PREFIX_PATH=<P>).
# (lib may be lib64 etc.: GNUInstallDirs decides.)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Install rules are on by default for a top-level build, off under add_subdirectory (a
# parent project that vendors fsskernels usually links it statically into its own targets).
if(CMAKE_SOURCE_DIR STREQUAL PROJECT_SOURCE_DIR)
  set(_fss_install_default ON)
else()
  set(_fss_install_default OFF)
endif()
option(FSS_INSTALL "Generate the install rules and package config of the C++ library" ${_fss_install_default})

# The CUDA library uses the static CUDA runtime; consumers of the static archive must link
# it too, so it is part of the target's link interface (also for add_subdirectory users).
if(TARGET fsskernels_cuda)
  find_package(CUDAToolkit REQUIRED)
  target_link_libraries(fsskernels_cuda INTERFACE CUDA::cudart_static)
endif()

if(FSS_INSTALL)
  set(FSS_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/fsskernels" CACHE STRING
      "Where to install the fsskernels CMake package config (relative to the prefix)")

  set(_fss_install_targets fsskernels_core)
  if(TARGET fsskernels_cuda)
    list(APPEND _fss_install_targets fsskernels_cuda)
  endif()

  install(TARGETS ${_fss_install_targets}
    EXPORT fsskernelsTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT fsskernels_development
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT fsskernels_development
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT fsskernels_development
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

  install(DIRECTORY ${PROJECT_SOURCE_DIR}/csrc/include/fsskernels
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    COMPONENT fsskernels_development
    FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp" PATTERN "*.cuh")

  install(EXPORT fsskernelsTargets
    FILE fsskernelsTargets.cmake
    NAMESPACE fsskernels::
    DESTINATION ${FSS_INSTALL_CMAKEDIR}
    COMPONENT fsskernels_development)

  # Values substituted into the config file.
  if(TARGET fsskernels_cuda)
    set(FSS_CONFIG_HAVE_CUDA ON)
  else()
    set(FSS_CONFIG_HAVE_CUDA OFF)
  endif()
  configure_package_config_file(
    ${CMAKE_CURRENT_LIST_DIR}/fsskernelsConfig.cmake.in
    ${PROJECT_BINARY_DIR}/fsskernelsConfig.cmake
    INSTALL_DESTINATION ${FSS_INSTALL_CMAKEDIR}
    NO_SET_AND_CHECK_MACRO)
  # 0.x: minor versions may break the API, so a request for 0.1 accepts 0.1.* only.
  write_basic_package_version_file(
    ${PROJECT_BINARY_DIR}/fsskernelsConfigVersion.cmake
    VERSION ${PROJECT_VERSION}
    COMPATIBILITY SameMinorVersion)
  install(FILES
    ${PROJECT_BINARY_DIR}/fsskernelsConfig.cmake
    ${PROJECT_BINARY_DIR}/fsskernelsConfigVersion.cmake
    DESTINATION ${FSS_INSTALL_CMAKEDIR}
    COMPONENT fsskernels_development)
endif()
