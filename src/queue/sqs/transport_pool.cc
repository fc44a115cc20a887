#include "queue/sqs/transport_pool.h"

namespace tasker::sqs {

TransportPool::Lease TransportPool::acquire() {
  {
    MutexLock lock(mutex_);
    if (!idle_.empty()) {
      auto transport = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(transport));
    }
  }
  return Lease(*this, factory_());
}

void TransportPool::give_back(std::unique_ptr<http::Transport> transport) {
  if (transport == nullptr) return;
  MutexLock lock(mutex_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(transport));
}

}  // namespace tasker::sqs
