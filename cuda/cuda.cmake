# CUDA engine (included by CMakeLists.txt when nvcc is found). Owned by the CUDA work (issue 5).
enable_language(CUDA)
file(GLOB LWFM_CUDA_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/cuda/*.cu)
if(LWFM_CUDA_SOURCES)
  add_library(lwfm_cuda STATIC ${LWFM_CUDA_SOURCES})
  target_link_libraries(lwfm_cuda PUBLIC lwfm_core)
else()
  add_library(lwfm_cuda INTERFACE)
endif()
