# CUDA engine (included by CMakeLists.txt when nvcc is found).
#
# Architectures: SASS for Turing (sm_75), Ampere (sm_80, sm_86), Ada (sm_89) and Hopper (sm_90),
# each built when this nvcc can still generate it (CUDA 13 dropped Volta, sm_70), plus PTX of
# the highest one so that newer GPUs (Blackwell, ...) JIT-compile the kernels at load time.
# This is what the prebuilt CUDA variant ships (scripts/prebuild-cuda.mjs).
# Override with -DLWFM_CUDA_ARCHS="80-real;90-virtual" if needed.
enable_language(CUDA)

if(NOT DEFINED LWFM_CUDA_ARCHS)
  execute_process(COMMAND ${CMAKE_CUDA_COMPILER} --list-gpu-code
                  OUTPUT_VARIABLE _lwfm_gpu_codes ERROR_QUIET RESULT_VARIABLE _lwfm_list_rc)
  set(_lwfm_wanted 75 80 86 89 90)
  set(_lwfm_archs "")
  set(_lwfm_highest "")
  foreach(_sm IN LISTS _lwfm_wanted)
    if(_lwfm_list_rc EQUAL 0 AND NOT _lwfm_gpu_codes MATCHES "sm_${_sm}")
      message(STATUS "lwfm_cuda: nvcc cannot generate sm_${_sm}; skipping it")
      continue()
    endif()
    list(APPEND _lwfm_archs "${_sm}-real")
    set(_lwfm_highest ${_sm})
  endforeach()
  list(APPEND _lwfm_archs "${_lwfm_highest}-virtual")
  set(LWFM_CUDA_ARCHS "${_lwfm_archs}")
endif()
message(STATUS "lwfm_cuda: CUDA architectures ${LWFM_CUDA_ARCHS}")

file(GLOB LWFM_CUDA_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/cuda/*.cu)
add_library(lwfm_cuda STATIC ${LWFM_CUDA_SOURCES})
set_target_properties(lwfm_cuda PROPERTIES
  CUDA_ARCHITECTURES "${LWFM_CUDA_ARCHS}"
  CUDA_STANDARD 17
  CUDA_STANDARD_REQUIRED ON
  POSITION_INDEPENDENT_CODE ON
  # cudart_static: the addon carries its own runtime and only needs libcuda.so (the driver)
  # at run time; without a driver the runtime reports cudaErrorInsufficientDriver /
  # cudaErrorNoDevice, which the engine turns into "unavailable" instead of a load failure.
  CUDA_RUNTIME_LIBRARY Static)
target_include_directories(lwfm_cuda PUBLIC ${CMAKE_SOURCE_DIR}/cuda ${CMAKE_SOURCE_DIR}/native)
target_compile_options(lwfm_cuda PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:-O3 -Xcompiler=-fvisibility=hidden>)
target_link_libraries(lwfm_cuda PUBLIC lwfm_core)
# Consumers (the addon, the device check) link cudart statically as well.
find_package(CUDAToolkit REQUIRED)
target_link_libraries(lwfm_cuda PUBLIC CUDA::cudart_static)

# The C++ test-and-benchmark executable for scripts/device-check.sh (plain cmake, no Node).
if(NOT CMAKE_JS_VERSION)
  add_executable(lwfm_device_check ${CMAKE_SOURCE_DIR}/tools/device_check/device_check.cc)
  target_compile_options(lwfm_device_check PRIVATE -O2)
  target_link_libraries(lwfm_device_check PRIVATE lwfm_cuda lwfm_core)
endif()
