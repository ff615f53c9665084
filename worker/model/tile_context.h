// How far a translation-invariant network looks: the LR pixels of input on each side of an output pixel that its
// value depends on, measured rather than derived from the layers (a convolution stack's theoretical receptive
// field is far wider than what changes its output by a visible amount). TileFootprint::context.
#pragma once

#include "common/status.h"
#include "worker/model/tile_model.h"

namespace tsdsr::model {

struct ContextProbe {
  int limit = 64;                  // the largest context measured; the probe image is 2·limit square
  double tolerance = 0.25 / 255;   // in [0, 1] units: a quarter grey level
  unsigned seed = 1;               // of the probe's noise
};

// Runs `model` at `scale` on a seeded uniform-noise image (the hardest case: every pixel carries detail) and on
// its top-left limit×limit corner; the context is the smallest distance from the corner's cut edges beyond which
// the two outputs agree within `tolerance` in every channel. FailedPrecondition when they disagree even `limit` away;
// errors of Forward as StatusFromTorchError.
Result<int> MeasureContext(TileModel& model, int scale, const ContextProbe& probe = {});

}  // namespace tsdsr::model
