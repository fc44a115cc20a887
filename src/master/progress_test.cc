#include "master/progress.h"

#include <gtest/gtest.h>

namespace tasker {
namespace {

// Given 30 of 120 tasks done in 10 s with the supply read, the bar should say done / failed /
// running / rate and an ETA from the rate.
TEST(ProgressTest, BarShowsDoneFailedRunningRateAndEta) {
  ProgressCounts counts;
  counts.submitted = 120;
  counts.done = 30;
  counts.failed = 2;
  counts.running = 4;
  counts.supply_done = true;
  EXPECT_EQ(Progress::render_bar(counts, 10.0, 12),
            "[###.........] 30/120 done, 2 failed, 4 running, 3.0/s, ETA 30s");
}

// While the supply is still being read the total is open ("+") and there is no ETA.
TEST(ProgressTest, OpenSupplyHasNoEta) {
  ProgressCounts counts;
  counts.submitted = 50;
  counts.done = 0;
  EXPECT_EQ(Progress::render_bar(counts, 0.0, 4), "[....] 0/50+ done, 0 failed, ? running, 0.0/s, ETA --");
}

}  // namespace
}  // namespace tasker
