// Registers the SQS backend with the Queue conformance suite, twice: against moto_server (the
// harness's TASKER_TEST_SQS_ENDPOINT) and against fauxqs (TASKER_TEST_FAUXQS_ENDPOINT), two
// independent SQS implementations.

#include "testing/queue_backends.h"
#include "tests/sqs_test_support.h"

namespace tasker::testing {
namespace {

Expected<std::unique_ptr<Broker>> open_moto_broker() {
  return sqs_broker_from_env("TASKER_TEST_SQS_ENDPOINT");
}

Expected<std::unique_ptr<Broker>> open_fauxqs_broker() {
  return sqs_broker_from_env("TASKER_TEST_FAUXQS_ENDPOINT");
}

INSTANTIATE_TEST_SUITE_P(Moto, QueueConformanceTest,
                         ::testing::Values(QueueBackend{"Moto", &open_moto_broker, false}),
                         queue_backend_name);

INSTANTIATE_TEST_SUITE_P(Fauxqs, QueueConformanceTest,
                         ::testing::Values(QueueBackend{"Fauxqs", &open_fauxqs_broker, false}),
                         queue_backend_name);

}  // namespace
}  // namespace tasker::testing
