#include "tasker/master.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_set>
#include <utility>

#include "master/journal.h"
#include "master/progress.h"
#include "master/receive_helpers.h"
#include "master/send_pipeline.h"
#include "model/json_util.h"
#include "queue/queue_rules.h"
#include "util/backoff.h"
#include "util/log.h"

namespace tasker {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A result of another run is made visible again this soon, so its own master gets it quickly
// while this one does not spin on it.
constexpr std::chrono::seconds kForeignResultDelay{1};

milliseconds backoff(int attempt) { return capped_backoff(attempt, milliseconds(10000)); }

std::uint64_t id_hash(const std::string& id) { return std::hash<std::string>{}(id); }

// State shared by the submitting thread and the receiving (calling) thread.
struct Shared {
  std::mutex mutex;
  std::condition_variable changed;
  std::unordered_set<std::string> outstanding;  // submitted, not yet answered
  std::uint64_t submitted = 0;
  std::uint64_t invalid = 0;
  bool supply_done = false;
  // A resumed run has read again the tasks an earlier process sent, so their ids are outstanding:
  // until then a result cannot be told from a duplicate, and receiving waits.
  bool replayed = false;
  bool stop = false;                              // receiver gave up (timeout, journal error)
  std::vector<TaskResult> unsendable;             // refused by the queue: answered locally
  std::optional<Error> fatal;
};

// Tasks (or supply errors) read ahead of the submitter. Shared with the supply thread, which may
// outlive a run that gave up while the supply was blocked.
struct SupplyChannel {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<Expected<Task>> items;
  bool ended = false;
  bool abandoned = false;
};

bool channel_ended(SupplyChannel& channel) {
  std::lock_guard lock(channel.mutex);
  return channel.ended;
}

// Whether an error receiving results ends the run: a full disk, a queue that is gone, credentials
// refused, a request refused as invalid need someone to act, so retrying would only hang. Network
// trouble and the endpoint's own failures are retried.
bool gives_up_receiving(const Error& error) {
  switch (error.kind) {
    case ErrorKind::kNoSpace:
    case ErrorKind::kNotFound:
    case ErrorKind::kDenied:
    case ErrorKind::kInvalidInput:
      return true;
    default:
      return false;
  }
}

// How long a part-filled batch waits for more tasks before it is sent.
constexpr milliseconds kSendLinger{5};

// A task answered here, not sent: the queue refuses it for good.
void answer_unsendable(const Task& task, const std::string& why, Shared& shared) {
  std::lock_guard lock(shared.mutex);
  shared.unsendable.push_back(TaskResult::failure(task.id, "submit", "not submitted: " + why));
}

// Sends the entries `pending` of a batch until each is in the queue or refused for good.
bool send_entries(Queue& tasks, const std::vector<Task>& batch,
                  const std::vector<OutgoingMessage>& messages, std::vector<std::size_t> pending,
                  Shared& shared) {
  for (int attempt = 0; !pending.empty(); ++attempt) {
    std::vector<OutgoingMessage> to_send;
    for (auto i : pending) to_send.push_back(messages[i]);
    auto sent = tasks.send(to_send);
    if (sent) {
      std::vector<std::size_t> still;
      for (std::size_t k = 0; k < pending.size(); ++k) {
        const Status& status = (*sent)[k];
        if (status.ok()) continue;
        if (status.error().transient()) {
          still.push_back(pending[k]);
          continue;
        }
        // The queue refuses this body for good (too large, characters SQS refuses): answer it
        // here so the run still ends, and say why.
        answer_unsendable(batch[pending[k]], status.error().message, shared);
      }
      pending.swap(still);
    } else if (!sent.error().transient()) {
      std::lock_guard lock(shared.mutex);
      shared.fatal = sent.error();
      return false;
    } else {
      log::warn("sending tasks: {} (retrying)", sent.error().message);
    }
    if (!pending.empty()) {
      std::unique_lock lock(shared.mutex);
      if (shared.changed.wait_for(lock, backoff(attempt), [&] { return shared.stop; })) return false;
    }
  }
  return true;
}

// Sends one batch until every entry is in the queue or refused for good; refused tasks become
// local failed results. With a signing key, each message carries the HMAC of its exact body as an
// attribute. A batch call carries at most kMaxBodyBytes in all (attributes counted), so large
// tasks go in smaller calls, and a task that is over the limit itself (the run id or signature
// added to a task at the limit) is answered without a call. False when the run must stop (a
// permanent error, or a stop request).
bool send_batch(Queue& tasks, const std::vector<Task>& batch, const std::optional<SigningKey>& signing_key,
                Shared& shared) {
  std::vector<OutgoingMessage> messages;
  for (const auto& task : batch) {
    std::string body = to_json(task);
    messages.push_back(signing_key ? signing_key->signed_message(std::move(body))
                                   : OutgoingMessage(std::move(body)));
  }
  std::vector<std::size_t> call;
  std::size_t call_bytes = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const std::size_t size = message_size(messages[i]);
    if (size > kMaxBodyBytes) {
      answer_unsendable(batch[i],
                        fmt::format("the task is {} bytes as sent (with its run id{}), over the {} byte "
                                    "limit of a message",
                                    size, signing_key ? " and signature" : "", kMaxBodyBytes),
                        shared);
      continue;
    }
    if (call_bytes + size > kMaxBodyBytes) {
      if (!send_entries(tasks, batch, messages, call, shared)) return false;
      call.clear();
      call_bytes = 0;
    }
    call.push_back(i);
    call_bytes += size;
  }
  return call.empty() || send_entries(tasks, batch, messages, call, shared);
}

}  // namespace

std::string new_run_id() {
  std::random_device device;
  std::mt19937_64 generator(device());
  return fmt::format("{:012x}", generator() & 0xffffffffffffULL);
}

Master::Master(Broker& broker, MasterOptions options) : broker_(broker), options_(std::move(options)) {}

Expected<RunReport> Master::run(const Supply& supply, const ResultHandler& on_result) {
  auto tasks = broker_.open_queue(options_.tasks_queue);
  if (!tasks) return tasks.error();
  std::unique_ptr<Queue> results;
  if (!options_.submit_only) {
    auto opened = broker_.open_queue(options_.results_queue);
    if (!opened) return opened.error();
    results = std::move(*opened);
  }

  RunReport report;
  report.run_id = options_.run_id.empty() ? new_run_id() : options_.run_id;

  // Results already reduced by an earlier process of this run: replayed once, remembered by hash.
  std::unordered_set<std::uint64_t> answered;
  auto deliver = [&](const TaskResult& result) {
    (result.is_success ? report.succeeded : report.failed)++;
    on_result(result);
  };
  std::unique_ptr<Journal> journal;
  Journal::Recovered recovered;
  if (options_.state_file) {
    auto opened = Journal::open(*options_.state_file, options_.run_id, report.run_id,
                                options_.tasks_queue,
                                options_.results_queue,
                                [&](const TaskResult& result) {
                                  if (answered.insert(id_hash(result.id)).second) deliver(result);
                                },
                                recovered);
    if (!opened) return opened.error();
    journal = std::move(*opened);
    report.run_id = recovered.run_id;
    if (recovered.submitted > 0) {
      log::warn("resuming run {}: {} tasks submitted before, {} results already in", report.run_id,
                recovered.submitted, answered.size());
    }
  }

  Shared shared;
  shared.replayed = recovered.submitted == 0;
  std::mutex journal_mutex;  // The journal is written by both threads.

  // The supply runs on its own thread and feeds a bounded channel, so a supply that blocks (a
  // pipe that writes a task now and then) never holds back tasks already read: the submitter
  // sends a part-filled batch once the channel has been quiet for a moment.
  auto channel = std::make_shared<SupplyChannel>();
  std::thread supplier([channel, supply] {
    while (true) {
      auto next = supply();
      std::unique_lock lock(channel->mutex);
      channel->changed.wait(lock, [&] { return channel->abandoned || channel->items.size() < 1024; });
      if (channel->abandoned) return;
      if (!next) {
        channel->ended = true;
        channel->changed.notify_all();
        return;
      }
      channel->items.push_back(std::move(*next));
      channel->changed.notify_all();
    }
  });

  // The submitter: skips what an earlier process of this run sent, and hands the rest in
  // batches to the send pipeline, never more than `window` unanswered at once.
  // Calls in flight on a queue: the option, or what the queue suggests.
  auto calls_on = [&](const Queue& queue) {
    return options_.calls_in_flight > 0 ? options_.calls_in_flight : queue.concurrent_calls();
  };
  const std::size_t senders = calls_on(**tasks);
  std::thread submitter([&] {
    SendPipeline pipeline(
        senders, recovered.submitted,
        [&](const std::vector<Task>& batch) {
          {
            // A run that has ended sends no more of what was waiting; a resume sends it.
            std::lock_guard lock(shared.mutex);
            if (shared.stop) return false;
          }
          return send_batch(**tasks, batch, options_.signing_key, shared);
        },
        [&](std::uint64_t sent) {
          std::lock_guard lock(journal_mutex);
          if (!journal) return true;
          auto status = journal->record_submitted(sent);
          if (status) return true;
          std::lock_guard shared_lock(shared.mutex);
          shared.fatal = status.error();
          return false;
        });
    std::vector<Task> batch;
    std::uint64_t supplied = 0;
    // The supply's count up to the last task put in the batch: what a sent batch completes. Not
    // `supplied`, which may count a task that is still waiting for room in the window.
    std::uint64_t batched = recovered.submitted;
    auto flush = [&]() -> bool {
      if (batch.empty()) return true;
      return pipeline.dispatch(std::exchange(batch, {}), batched);
    };

    while (true) {
      std::optional<Expected<Task>> next;
      {
        std::unique_lock lock(channel->mutex);
        const bool have = channel->changed.wait_for(lock, kSendLinger, [&] {
          return !channel->items.empty() || channel->ended;
        });
        if (!have) {
          lock.unlock();
          if (!flush()) break;
          continue;
        }
        if (channel->items.empty()) break;  // ended
        next = std::move(channel->items.front());
        channel->items.pop_front();
        channel->changed.notify_all();
      }
      if (!*next) {
        log::error("{}", next->error().message);
        std::lock_guard lock(shared.mutex);
        ++shared.invalid;
        continue;
      }
      Task task = std::move(next->value());
      ++supplied;
      if (supplied <= recovered.submitted) {
        // Sent by an earlier process of this run: wait for its result unless it is in already.
        std::lock_guard lock(shared.mutex);
        if (!answered.count(id_hash(task.id))) {
          shared.outstanding.insert(task.id);
          ++shared.submitted;
        }
        if (supplied == recovered.submitted) {
          shared.replayed = true;
          shared.changed.notify_all();
        }
        continue;
      }
      task.run_id = report.run_id;
      if (!options_.submit_only) task.reply_queue = options_.results_queue;
      auto window_open = [&] {
        return shared.stop || options_.submit_only || shared.outstanding.size() < options_.window;
      };
      {
        // Send what is batched before waiting for room: those tasks' results are what makes room.
        std::unique_lock lock(shared.mutex);
        if (!window_open()) {
          lock.unlock();
          if (!flush()) break;
          lock.lock();
        }
        shared.changed.wait(lock, window_open);
        if (shared.stop) break;
        if (!options_.submit_only && !shared.outstanding.insert(task.id).second) {
          log::error("task {}: id repeats an earlier task of this run; not submitted", task.id);
          ++shared.invalid;
          continue;
        }
        ++shared.submitted;
      }
      batch.push_back(std::move(task));
      batched = supplied;
      if (batch.size() == Queue::kMaxBatch && !flush()) break;
    }
    flush();
    pipeline.finish();
    {
      std::lock_guard lock(shared.mutex);
      shared.supply_done = true;
      shared.replayed = true;  // also when the supply was shorter than what was sent before
    }
    shared.changed.notify_all();
  });

  std::optional<Progress> progress;
  if (options_.progress == MasterOptions::Progress::kBar) progress.emplace(Progress::Style::kBar);
  if (options_.progress == MasterOptions::Progress::kJsonLines) progress.emplace(Progress::Style::kJsonLines);
  std::int64_t running = -1;
  Clock::time_point last_depth{};
  auto counts = [&] {
    ProgressCounts c;
    std::lock_guard lock(shared.mutex);
    c.submitted = shared.submitted;
    c.supply_done = shared.supply_done;
    c.done = report.succeeded + report.failed;
    c.failed = report.failed;
    c.running = running;
    return c;
  };

  const auto deadline = options_.timeout.count() > 0 ? Clock::now() + options_.timeout : Clock::time_point::max();
  std::optional<Error> failure;
  int receive_failures = 0;
  std::vector<std::string> to_delete;
  // Deletes, and extra receives while results come in full batches, on helper threads where the
  // results queue is worth several calls at once (SQS).
  std::optional<ReceiveHelpers> helpers;
  if (results) {
    helpers.emplace(*results, calls_on(*results) - 1);
  }

  // Takes one received message: verified, parsed, and either reduced (journaled first), left for
  // its own run's master, or dropped. False when the run must stop (the journal failed).
  auto handle = [&](const Message& message) -> bool {
    if (options_.signing_key) {
      // Checked before the body is read: a forged result must not answer a task.
      if (auto verified = options_.signing_key->verify(message); !verified) {
        ++report.unauthenticated;
        log::warn("results queue {}: message {} dropped, not a result of this run's agents ({}); "
                  "deleting it",
                  options_.results_queue, message.message_id, verified.error().message);
        to_delete.push_back(message.receipt);
        return true;
      }
    }
    auto result = parse_result(message.body);
    if (!result) {
      log::error("results queue {}: message {} is not a result ({}); deleting it",
                 options_.results_queue, message.message_id, result.error().message);
      to_delete.push_back(message.receipt);
      return true;
    }
    if (result->run_id && *result->run_id != report.run_id) {
      ++report.foreign;
      helpers->leave_later(message.receipt, kForeignResultDelay);
      return true;
    }
    bool fresh = false;
    {
      std::lock_guard lock(shared.mutex);
      fresh = shared.outstanding.count(result->id) > 0;
    }
    if (!fresh) {
      ++report.duplicates;
      log::info(
          "results queue {}: result for '{}' dropped: no task of this run is waiting for it "
          "(answered already, or never sent)",
          options_.results_queue, json_util::printable(result->id.substr(0, 80)));
      to_delete.push_back(message.receipt);
      return true;
    }
    if (journal) {
      std::lock_guard lock(journal_mutex);
      if (auto status = journal->record_result(*result); !status) {
        failure = status.error();  // not deleted: it stays in the queue for a resumed run
        return false;
      }
    }
    deliver(*result);
    {
      std::lock_guard lock(shared.mutex);
      shared.outstanding.erase(result->id);
    }
    shared.changed.notify_all();
    to_delete.push_back(message.receipt);
    return true;
  };

  while (true) {
    std::vector<TaskResult> local;
    {
      std::unique_lock lock(shared.mutex);
      if (shared.fatal) {
        failure = shared.fatal;
        break;
      }
      local.swap(shared.unsendable);
    }
    for (auto& result : local) {
      result.run_id = report.run_id;
      if (journal) {
        // Journaled like any result, so a resumed run does not wait for an answer that cannot come.
        std::lock_guard lock(journal_mutex);
        if (auto status = journal->record_result(result); !status) failure = status.error();
      }
      if (failure) break;
      {
        std::lock_guard lock(shared.mutex);
        shared.outstanding.erase(result.id);
      }
      shared.changed.notify_all();
      deliver(result);
    }
    if (failure) break;
    {
      std::lock_guard lock(shared.mutex);
      if (shared.supply_done && (options_.submit_only || shared.outstanding.empty())) break;
    }
    if (Clock::now() >= deadline) {
      report.timed_out = true;
      break;
    }
    if (stop_requested_ || (options_.interrupt != nullptr && options_.interrupt->load())) {
      report.interrupted = true;
      break;
    }
    if (options_.submit_only) {
      std::unique_lock lock(shared.mutex);
      shared.changed.wait_for(lock, milliseconds(200), [&] { return shared.supply_done || shared.fatal; });
      continue;
    }
    if (progress && Clock::now() - last_depth > std::chrono::seconds(2)) {
      last_depth = Clock::now();
      if (auto depth = (*tasks)->depth()) running = depth->in_flight;
    }
    if (progress) progress->update(counts());

    const auto wait = std::max(milliseconds(0), std::min<milliseconds>(
        options_.poll_wait, std::chrono::duration_cast<milliseconds>(deadline - Clock::now())));
    {
      std::unique_lock lock(shared.mutex);
      if (!shared.replayed) {
        shared.changed.wait_for(lock, wait,
                                [&] { return shared.replayed || shared.fatal.has_value(); });
        continue;
      }
    }
    // A batch a helper took first; else the loop's own (long) poll, whose fullness says whether
    // helpers should take more.
    bool helpers_busy = false;
    std::optional<std::vector<Message>> taken = helpers->take(wait, helpers_busy);
    if (!taken && helpers_busy) continue;  // still on their way: look at the clock and ask again
    Expected<std::vector<Message>> messages =
        taken ? Expected<std::vector<Message>>(std::move(*taken))
              : results->receive(Queue::kMaxBatch, wait);
    if (!messages && gives_up_receiving(messages.error())) {
      failure = messages.error();  // retrying cannot help until someone acts; a resume can
      break;
    }
    if (!messages) {
      log::warn("receiving results: {} (retrying)", messages.error().message);
      std::this_thread::sleep_for(backoff(receive_failures++));
      continue;
    }
    receive_failures = 0;
    const std::uint64_t foreign_before = report.foreign;
    for (const auto& message : *messages) {
      if (!handle(message)) break;
    }
    // Helpers receive while batches come full of this run's results; other runs' results are
    // their masters' to take, and receiving more of them would only hide them longer.
    const bool foreign_seen = report.foreign != foreign_before;
    if (!taken) {
      helpers->set_backlog(messages->size() == Queue::kMaxBatch && !foreign_seen);
    } else if (foreign_seen) {
      helpers->set_backlog(false);
    }
    helpers->delete_later(std::exchange(to_delete, {}));
    if (failure) break;
  }
  if (helpers) {
    // What helpers took after the loop's last look: duplicates, other runs' results, or (when the
    // run timed out or was stopped) results still welcome. Dealt with as any, then deleted.
    for (const auto& batch : helpers->finish()) {
      for (const auto& message : batch) {
        if (failure || !handle(message)) break;
      }
    }
    helpers->delete_later(std::exchange(to_delete, {}));
  }

  {
    std::lock_guard lock(shared.mutex);
    shared.stop = true;
    report.submitted = shared.submitted;
    report.invalid = shared.invalid;
    report.missing_count = shared.outstanding.size();
    for (const auto& id : shared.outstanding) {
      if (report.missing.size() >= 1000) break;
      report.missing.push_back(id);
    }
    std::sort(report.missing.begin(), report.missing.end());
  }
  shared.changed.notify_all();
  submitter.join();
  {
    std::lock_guard lock(channel->mutex);
    channel->abandoned = true;
  }
  channel->changed.notify_all();
  // A supply still blocked in a read is left behind rather than waited for.
  if (channel_ended(*channel)) {
    supplier.join();
  } else {
    supplier.detach();
  }
  if (progress) progress->finish(counts());
  if (!failure && shared.fatal) failure = shared.fatal;
  if (failure) return *failure;
  if (options_.submit_only) report.missing_count = 0, report.missing.clear();
  return report;
}

}  // namespace tasker
