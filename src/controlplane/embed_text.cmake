# Writes OUTPUT: a header holding INPUT's bytes as `constexpr char kOpenApiText[]`.
file(READ ${INPUT} text)
file(WRITE ${OUTPUT} "#pragma once\n// Generated from openapi.json by embed_text.cmake; do not edit.\n"
  "constexpr char kOpenApiText[] = R\"berth_openapi(${text})berth_openapi\";\n")
