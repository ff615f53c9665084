// The OpenAPI description of the HTTP API (docs/openapi.yaml), compiled into the program from the tree it was
// built from, so that GET /openapi.yaml always describes the server that answers it.
#pragma once

#include <string_view>

namespace tsdsr::dispatcher {

// docs/openapi.yaml, byte for byte.
std::string_view OpenApiDocument();

}  // namespace tsdsr::dispatcher
