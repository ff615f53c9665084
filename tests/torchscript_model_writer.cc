// torchscript_model_writer KIND PATH: saves one of the tiny TorchScript models of
// worker/model/torchscript_model_fixtures.h to PATH, for the end-to-end tests of torchscript:PATH models
// (the end-to-end test binary itself stays free of LibTorch). KIND is nearest-conv-xS (S = 1..16): nearest ×S,
// then a fixed depthwise 3×3 convolution (NearestConvModel). Exits 0 on success, 2 on bad arguments, 1 when
// saving fails.
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

#include "worker/model/torchscript_model_fixtures.h"

int main(int argc, char** argv) {
  const std::string prefix = "nearest-conv-x";
  const std::string kind = argc == 3 ? argv[1] : "";
  const int scale = kind.rfind(prefix, 0) == 0 ? std::atoi(kind.c_str() + prefix.size()) : 0;
  if (scale < 1 || scale > 16) {
    std::cerr << "usage: " << argv[0] << " nearest-conv-xS PATH   (S = 1..16)\n";
    return 2;
  }
  try {
    tsdsr::model::testing::NearestConvModel(scale).save(argv[2]);
  } catch (const std::exception& e) {
    std::cerr << "cannot save " << argv[2] << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
