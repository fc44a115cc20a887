#include "aws/retry.h"

#include <algorithm>
#include <random>

namespace tasker::aws {
namespace {

double thread_random() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

}  // namespace

Backoff::Backoff(RetryPolicy policy, std::function<double()> random)
    : policy_(policy), random_(random ? std::move(random) : std::function<double()>(thread_random)) {}

std::chrono::milliseconds Backoff::ceiling(int retry) const {
  // Doubling stops once past the cap, so large retry numbers cannot overflow.
  auto bound = policy_.base_delay;
  for (int i = 0; i < retry && bound < policy_.max_delay; ++i) bound *= 2;
  return std::min(bound, policy_.max_delay);
}

std::chrono::milliseconds Backoff::delay(int retry) const {
  const double fraction = std::clamp(random_(), 0.0, 1.0);
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(fraction * static_cast<double>(ceiling(retry).count())));
}

}  // namespace tasker::aws
