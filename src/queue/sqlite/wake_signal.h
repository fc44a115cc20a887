#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tasker/error.h"

namespace tasker::sqlite {

/// Wakes receivers waiting on a queue, in this process and in every other process using the same
/// database. It is a small file beside the database (`<db>-wake`) mapped into memory: one
/// counter per slot (a queue name hashes to a slot); a sender bumps its queue's counter and
/// wakes the futex on it, a receiver sleeps on the futex until the counter moves.
///
/// Why this and not polling: a futex on a shared file mapping wakes a waiter in another process
/// within microseconds, costs the sender one atomic add and one syscall, and holds no lock that
/// a killed process could leave behind. Polling `PRAGMA data_version` would trade latency for
/// CPU; inotify would need care to not lose an event between the check and the sleep, which the
/// futex's compare-and-sleep gives for free. Linux only, like the rest of tasker.
class WakeSignal {
 public:
  /// Maps (creating when absent) the wake file for the database at `database_path`.
  static Expected<std::shared_ptr<WakeSignal>> open(const std::string& database_path);
  ~WakeSignal();
  WakeSignal(const WakeSignal&) = delete;
  WakeSignal& operator=(const WakeSignal&) = delete;

  /// The queue's current generation; read it before looking for messages, then wait on it.
  std::uint32_t generation(std::string_view queue) const;

  /// Tells every waiter on `queue` that something changed (a message arrived or came back).
  void notify(std::string_view queue);

  /// Sleeps until `queue`'s generation is no longer `seen`, or `timeout` passes (spurious
  /// returns are possible; the caller looks again).
  void wait(std::string_view queue, std::uint32_t seen, std::chrono::microseconds timeout) const;

 private:
  WakeSignal(std::uint32_t* slots, std::size_t size) : slots_(slots), size_(size) {}
  std::uint32_t* slot(std::string_view queue) const;

  std::uint32_t* slots_;
  std::size_t size_;
};

}  // namespace tasker::sqlite
