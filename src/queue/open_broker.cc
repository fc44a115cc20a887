#include "queue/sqlite/sqlite_broker.h"
#include "queue/sqs/sqs_broker.h"
#include "tasker/queue.h"

namespace tasker {

Expected<std::unique_ptr<Broker>> open_broker(const BrokerAddress& address) {
  switch (address.kind) {
    case BrokerAddress::Kind::kSqlite: {
      auto broker = sqlite::SqliteBroker::open(address.sqlite_path);
      if (!broker) return broker.error();
      return std::unique_ptr<Broker>(std::move(*broker));
    }
    case BrokerAddress::Kind::kSqs:
      return sqs::open_sqs_broker(address);
  }
  return Error::internal("unknown broker kind");
}

}  // namespace tasker
