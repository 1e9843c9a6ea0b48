# Small helpers shared by the project's CMakeLists files.

# orgos_project_code(target): marks a target as project code — warnings are errors, headers from the
# project root resolve as "compiler/...", "runtime/..." and "orgos/..." (public API).
function(orgos_project_code target)
  target_link_libraries(${target} PRIVATE orgos_warnings)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/include)
endfunction()
