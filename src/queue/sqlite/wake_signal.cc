#include "queue/sqlite/wake_signal.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>

namespace tasker::sqlite {
namespace {

constexpr std::size_t kFileSize = 4096;
constexpr std::size_t kSlots = kFileSize / sizeof(std::uint32_t);

/// FNV-1a: the same slot for a name in every process and every build.
std::uint64_t stable_hash(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

}  // namespace

Expected<std::shared_ptr<WakeSignal>> WakeSignal::open(const std::string& database_path) {
  const std::string path = database_path + "-wake";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    return Error::unavailable(
        fmt::format("cannot open the queue wake-up file {}: {}", path, std::strerror(errno)));
  }
  struct stat info {};
  // Growing the file to a page (never shrinking it) is safe when several processes race here.
  if (::fstat(fd, &info) != 0 ||
      (static_cast<std::size_t>(info.st_size) < kFileSize && ::ftruncate(fd, kFileSize) != 0)) {
    const int saved = errno;
    ::close(fd);
    return Error::unavailable(
        fmt::format("cannot size the queue wake-up file {}: {}", path, std::strerror(saved)));
  }
  void* mapping = ::mmap(nullptr, kFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int saved = errno;
  ::close(fd);
  if (mapping == MAP_FAILED) {
    return Error::unavailable(
        fmt::format("cannot map the queue wake-up file {}: {}", path, std::strerror(saved)));
  }
  return std::shared_ptr<WakeSignal>(
      new WakeSignal(static_cast<std::uint32_t*>(mapping), kFileSize));
}

WakeSignal::~WakeSignal() { ::munmap(slots_, size_); }

std::uint32_t* WakeSignal::slot(std::string_view queue) const {
  return slots_ + stable_hash(queue) % kSlots;
}

std::uint32_t WakeSignal::generation(std::string_view queue) const {
  return std::atomic_ref<std::uint32_t>(*slot(queue)).load(std::memory_order_acquire);
}

void WakeSignal::notify(std::string_view queue) {
  std::uint32_t* word = slot(queue);
  std::atomic_ref<std::uint32_t>(*word).fetch_add(1, std::memory_order_acq_rel);
  // Not FUTEX_PRIVATE: waiters in other processes share this word through the file mapping.
  ::syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

void WakeSignal::wait(std::string_view queue, std::uint32_t seen,
                      std::chrono::microseconds timeout) const {
  if (timeout <= std::chrono::microseconds::zero()) return;
  struct timespec relative {};
  relative.tv_sec = static_cast<time_t>(timeout.count() / 1000000);
  relative.tv_nsec = static_cast<long>(timeout.count() % 1000000) * 1000;
  // Returns at once (EAGAIN) when the word is no longer `seen`: no wake-up is lost between the
  // caller's last look at the queue and this sleep.
  ::syscall(SYS_futex, slot(queue), FUTEX_WAIT, seen, &relative, nullptr, 0);
}

}  // namespace tasker::sqlite
