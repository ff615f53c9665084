// Ids of jobs and stored results: 128 random bits from the kernel, as 32 lowercase hex digits. Not sequential,
// so knowing one id tells nothing about another: a client cannot reach someone else's result by guessing.
#pragma once

#include <string>
#include <string_view>

namespace tsdsr::dispatcher {

// A fresh id from getrandom(2). Thread-safe; aborts only if the kernel has no randomness to give (never on Linux
// after boot), since an id that could repeat must not be handed out.
std::string NewJobId();

// True when `text` has the shape of an id (32 lowercase hex digits): anything else is answered 404 without a lookup.
bool IsJobId(std::string_view text);

}  // namespace tsdsr::dispatcher
